import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * A remembered browser's key on node:crypto, as WebCrypto makes it: ECDSA P-256, the public half
 * as a JWK, signatures over a challenge's UTF-8 bytes in IEEE P1363 form (r ‖ s, 64 bytes).
 */
export class DeviceKey {
  private readonly privateKey: KeyObject;
  readonly publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! };
  }

  /** The private key as a JWK: what a browser never hands out (tests send it to prove it is refused). */
  privateJwk(): Record<string, unknown> {
    return this.privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  }

  sign(challenge: string): string {
    return sign('sha256', Buffer.from(challenge, 'utf8'), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }

  /** `{device}` signing `challenge` for the remembered browser `id`. */
  proof(id: string, challenge: string): { device: { id: string; challenge: string; signature: string } } {
    return { device: { id, challenge, signature: this.sign(challenge) } };
  }
}
