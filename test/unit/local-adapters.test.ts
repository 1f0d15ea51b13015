import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { LocalAssertionSigner } from '../../functions/adapters/local/local-assertion-signer.js';
import { LocalSecretSealer } from '../../functions/adapters/local/local-secret-sealer.js';

describe('LocalSecretSealer', () => {
  it('round-trips a secret under the same context and keeps the plaintext out of the ciphertext', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealer-'));
    const sealer = LocalSecretSealer.inDataDir(dir);
    const secret = new TextEncoder().encode('a twenty byte secret');
    const sealed = await sealer.seal(secret, { purpose: 'totp-secret', userId: 'alice' });
    expect(Buffer.from(sealed).includes(Buffer.from(secret))).toBe(false);
    expect(await sealer.open(sealed, { purpose: 'totp-secret', userId: 'alice' })).toEqual(secret);
  });

  it("refuses to open a secret under another user's context", async () => {
    const sealer = LocalSecretSealer.inDataDir(await mkdtemp(join(tmpdir(), 'sealer-')));
    const sealed = await sealer.seal(Uint8Array.of(1, 2, 3), { purpose: 'totp-secret', userId: 'alice' });
    await expect(sealer.open(sealed, { purpose: 'totp-secret', userId: 'bob' })).rejects.toThrow();
  });

  it('keeps its key in a 0600 file that a second instance (a restart) reuses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealer-'));
    const sealed = await LocalSecretSealer.inDataDir(dir).seal(Uint8Array.of(4, 5), { purpose: 'totp-secret', userId: 'u' });
    const keyFile = join(dir, 'keys', 'totp-secret.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect(await LocalSecretSealer.inDataDir(dir).open(sealed, { purpose: 'totp-secret', userId: 'u' })).toEqual(Uint8Array.of(4, 5));
  });

  it('detects tampering', async () => {
    const sealer = LocalSecretSealer.inDataDir(await mkdtemp(join(tmpdir(), 'sealer-')));
    const sealed = await sealer.seal(Uint8Array.of(1, 2, 3), { purpose: 'totp-secret', userId: 'alice' });
    sealed[sealed.length - 1]! ^= 1;
    await expect(sealer.open(sealed, { purpose: 'totp-secret', userId: 'alice' })).rejects.toThrow();
  });
});

describe('LocalAssertionSigner', () => {
  it('publishes only the public half of its P-256 key, with a thumbprint kid, stable across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signer-'));
    const [key] = await LocalAssertionSigner.inDataDir(dir).publicJwks();
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key).not.toHaveProperty('d');
    expect((await LocalAssertionSigner.inDataDir(dir).publicJwks())[0]!.kid).toBe(key!.kid);
  });

  it('signs with the explicit assertion type in the header (RFC 8725 section 3.11), verifiable against its JWKS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signer-'));
    try {
      const signer = LocalAssertionSigner.inDataDir(dir);
      const jwt = await signer.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 });
      const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet({ keys: await signer.publicJwks() }), { typ: 'mfa+jwt' });
      expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'mfa+jwt', kid: (await signer.publicJwks())[0]!.kid });
      expect(payload.sub).toBe('alice');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
