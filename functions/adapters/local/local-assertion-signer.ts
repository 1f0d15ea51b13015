import { createHash, createPrivateKey, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { AssertionSigner } from '../../ports/assertion-signer.js';
import { assertionHeader, base64url, signingInput } from '../jws.js';
import { readOrCreateKeyFile } from './key-files.js';

interface LoadedKey {
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * ES256 signing with a P-256 key kept as a JWK file in the data directory: KMS's stand-in.
 * Node's crypto signs synchronously with the r||s encoding JWS wants; no JOSE library needed.
 */
export class LocalAssertionSigner implements AssertionSigner {
  private key?: Promise<LoadedKey>;

  constructor(private readonly keyPath: string) {}

  static inDataDir(dataDir: string, name = 'assertion-signing'): LocalAssertionSigner {
    return new LocalAssertionSigner(join(dataDir, 'keys', `${name}.jwk.json`));
  }

  async sign(claims: Record<string, unknown>): Promise<string> {
    const { privateKey, publicJwk } = await this.loadKey();
    const input = signingInput(assertionHeader(publicJwk.kid!), claims);
    return `${input}.${base64url(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }))}`;
  }

  async publicJwks(): Promise<JWK[]> {
    return [(await this.loadKey()).publicJwk];
  }

  private loadKey(): Promise<LoadedKey> {
    this.key ??= (async () => {
      const text = await readOrCreateKeyFile(this.keyPath, () =>
        JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })),
      );
      const privateJwk = JSON.parse(text) as JsonWebKey;
      const { kty, crv, x, y } = privateJwk;
      if (kty !== 'EC' || crv !== 'P-256' || !x || !y || !privateJwk.d) throw new Error(`The key file ${this.keyPath} does not hold a P-256 private JWK.`);
      // RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
      const kid = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
      return {
        privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }),
        publicJwk: { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' },
      };
    })();
    return this.key;
  }
}
