import type { JWK } from 'jose';

/** Signs MFA assertions (ES256 JWTs) and publishes the public keys that verify them. */
export interface AssertionSigner {
  /** Returns a compact JWS over the given claims with header `{alg: 'ES256', typ: 'mfa+jwt', kid}` (see assertionHeader). */
  sign(claims: Record<string, unknown>): Promise<string>;
  publicJwks(): Promise<JWK[]>;
}
