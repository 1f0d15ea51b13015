import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { AssertionSigner } from '../../ports/assertion-signer.js';
import { readOrCreateKeyFile } from './key-files.js';

interface LoadedKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** ES256 signing with a P-256 key kept as a JWK file in the data directory: KMS's stand-in. */
export class LocalAssertionSigner implements AssertionSigner {
  private key?: Promise<LoadedKey>;

  constructor(private readonly keyPath: string) {}

  static inDataDir(dataDir: string, name = 'assertion-signing'): LocalAssertionSigner {
    return new LocalAssertionSigner(join(dataDir, 'keys', `${name}.jwk.json`));
  }

  async sign(claims: Record<string, unknown>): Promise<string> {
    const { privateKey, publicJwk } = await this.loadKey();
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: publicJwk.kid! }).sign(privateKey);
  }

  async publicJwks(): Promise<JWK[]> {
    return [(await this.loadKey()).publicJwk];
  }

  private loadKey(): Promise<LoadedKey> {
    this.key ??= (async () => {
      const text = await readOrCreateKeyFile(this.keyPath, async () => {
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        return JSON.stringify(await exportJWK(privateKey));
      });
      const privateJwk = JSON.parse(text) as JWK;
      const { d: _private, ...publicPart } = privateJwk;
      const kid = await calculateJwkThumbprint(publicPart);
      return {
        privateKey: (await importJWK(privateJwk, 'ES256')) as CryptoKey,
        publicJwk: { kty: publicPart.kty, crv: publicPart.crv, x: publicPart.x, y: publicPart.y, kid, alg: 'ES256', use: 'sig' },
      };
    })();
    return this.key;
  }
}
