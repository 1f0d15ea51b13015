import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { LocalAssertionSigner } from '../functions/adapters/local/local-assertion-signer.js';

export const DEV_TOKEN_TTL_SECONDS = 3600;

/** The audience of local operator tokens (POST /dev/admin-token): never a user's token's. */
export const LOCAL_ADMIN_AUDIENCE = 'serverless-mfa-local-admin';
/** The IAM principal an operator token stands for on the local server. */
export const LOCAL_ADMIN_PRINCIPAL = 'arn:aws:iam::000000000000:user/local-admin';

export const DevAdminTokenRequest = z.strictObject({});

export const DevTokenRequest = z.strictObject({
  sub: z.string().min(1).max(128).regex(/^[A-Za-z0-9._@+-]+$/),
  email: z.email().max(254).optional(),
});

/**
 * The local first factor: issues ES256 JWTs for any username (POST /dev/token) and verifies
 * them the way API Gateway's JWT authorizer verifies the real identity provider's tokens:
 * signature against the issuer's keys, `iss`, `aud`, `exp` and `nbf`. Never deployed.
 */
export class DevIdentityProvider {
  private readonly keys: LocalAssertionSigner;
  /** Built once: the key set caches the imported public key, which costs more than the signature check. */
  private keySet?: Promise<JWTVerifyGetKey>;
  /**
   * Tokens already verified, with their claims. A token's signature, issuer and audience cannot
   * change, so a token seen before only has its times checked again. This keeps the stand-in's
   * own cost (API Gateway's, in the cloud) out of what the benchmarks attribute to the functions.
   */
  private readonly verified = new Map<string, JWTPayload>();

  constructor(
    dataDir: string,
    readonly issuer: string,
    readonly audience: string,
  ) {
    this.keys = LocalAssertionSigner.inDataDir(dataDir, 'dev-identity-provider');
  }

  /**
   * A token the local server accepts on `/admin` routes in place of a SigV4 signature (and on
   * no other route: its audience is not the app's).
   */
  issueAdminToken(nowMs = Date.now()): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return this.keys.sign({ iss: this.issuer, aud: LOCAL_ADMIN_AUDIENCE, sub: LOCAL_ADMIN_PRINCIPAL, iat, nbf: iat, exp: iat + DEV_TOKEN_TTL_SECONDS });
  }

  issueToken(input: z.infer<typeof DevTokenRequest>, nowMs = Date.now()): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return this.keys.sign({
      iss: this.issuer,
      aud: this.audience,
      sub: input.sub,
      ...(input.email ? { email: input.email } : {}),
      iat,
      nbf: iat,
      exp: iat + DEV_TOKEN_TTL_SECONDS,
    });
  }

  jwks() {
    return this.keys.publicJwks();
  }

  /** The verified claims, or null for any token API Gateway would refuse. */
  async verify(token: string, audience: string = this.audience): Promise<JWTPayload | null> {
    const seen = this.verified.get(token);
    if (seen) return isCurrent(seen) && hasAudience(seen, audience) ? seen : null;
    try {
      this.keySet ??= this.keys.publicJwks().then((keys) => createLocalJWKSet({ keys }));
      const { payload } = await jwtVerify(token, await this.keySet, {
        issuer: this.issuer,
        audience,
        algorithms: ['ES256'],
        requiredClaims: ['exp', 'sub'],
      });
      if (this.verified.size >= REMEMBERED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, payload);
      return payload;
    } catch {
      return null;
    }
  }
}

const REMEMBERED_TOKENS = 10_000;

const hasAudience = (payload: JWTPayload, audience: string): boolean =>
  Array.isArray(payload.aud) ? payload.aud.includes(audience) : payload.aud === audience;

/** The time checks jwtVerify makes: not expired, and not before its `nbf`. */
function isCurrent(payload: JWTPayload, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  return payload.exp !== undefined && payload.exp > nowSeconds && (payload.nbf === undefined || payload.nbf <= nowSeconds);
}
