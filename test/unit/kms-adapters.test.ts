import { DecryptCommand, EncryptCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsAssertionSigner } from '../../functions/adapters/aws/kms-assertion-signer.js';
import { KmsSecretSealer } from '../../functions/adapters/aws/kms-secret-sealer.js';
import { derToJoseSignature } from '../../functions/adapters/jws.js';

const SECRET_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SIGNING_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const kms = mockClient(KMSClient);

afterEach(() => kms.reset());

describe('KmsSecretSealer', () => {
  it('encrypts under the configured key with the user and purpose as encryption context', async () => {
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Uint8Array.of(9, 9, 9) });
    const sealer = new KmsSecretSealer(new KMSClient({ region: 'eu-west-1' }), SECRET_KEY);
    const sealed = await sealer.seal(Uint8Array.of(1, 2, 3), { purpose: 'totp-secret', userId: 'alice' });
    expect(sealed).toEqual(Uint8Array.of(9, 9, 9));
    const calls = kms.commandCalls(EncryptCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      KeyId: SECRET_KEY,
      Plaintext: Uint8Array.of(1, 2, 3),
      EncryptionContext: { service: 'serverless-mfa', purpose: 'totp-secret', userId: 'alice' },
    });
  });

  it('decrypts naming the same key and the same encryption context', async () => {
    kms.on(DecryptCommand).resolves({ Plaintext: Uint8Array.of(1, 2, 3) });
    const sealer = new KmsSecretSealer(new KMSClient({ region: 'eu-west-1' }), SECRET_KEY);
    await expect(sealer.open(Uint8Array.of(9, 9, 9), { purpose: 'totp-secret', userId: 'bob' })).resolves.toEqual(Uint8Array.of(1, 2, 3));
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input).toEqual({
      KeyId: SECRET_KEY,
      CiphertextBlob: Uint8Array.of(9, 9, 9),
      EncryptionContext: { service: 'serverless-mfa', purpose: 'totp-secret', userId: 'bob' },
    });
  });

  it("fails when KMS refuses another user's context (InvalidCiphertextException)", async () => {
    kms
      .on(DecryptCommand, { EncryptionContext: { service: 'serverless-mfa', purpose: 'totp-secret', userId: 'mallory' } })
      .rejects(Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' }));
    const sealer = new KmsSecretSealer(new KMSClient({ region: 'eu-west-1' }), SECRET_KEY);
    await expect(sealer.open(Uint8Array.of(9), { purpose: 'totp-secret', userId: 'mallory' })).rejects.toThrow('InvalidCiphertextException');
  });
});

describe('KmsAssertionSigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });

  it('signs with ECDSA_SHA_256 over the raw JWS signing input and produces a JWT that verifies against its JWKS', async () => {
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
      Signature: nodeSign('sha256', input.Message, privateKey),
    }));
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: new Uint8Array(spki) });
    const signer = new KmsAssertionSigner(new KMSClient({ region: 'eu-west-1' }), SIGNING_KEY);
    const jwt = await signer.sign({ sub: 'alice', aud: 'app', iss: 'https://mfa', exp: Math.floor(Date.now() / 1000) + 60 });
    const signCall = kms.commandCalls(SignCommand)[0]!.args[0].input;
    expect(signCall).toMatchObject({ KeyId: SIGNING_KEY, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(signCall.Message as Uint8Array).toString()).toBe(jwt.split('.').slice(0, 2).join('.'));
    const keys = await signer.publicJwks();
    expect(kms.commandCalls(GetPublicKeyCommand)[0]!.args[0].input).toEqual({ KeyId: SIGNING_KEY });
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet({ keys }));
    expect(payload.sub).toBe('alice');
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'mfa+jwt', kid: keys[0]!.kid });
  });

  it('fetches the public key once per container', async () => {
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: new Uint8Array(spki) });
    const signer = new KmsAssertionSigner(new KMSClient({ region: 'eu-west-1' }), SIGNING_KEY);
    await Promise.all([signer.publicJwks(), signer.publicJwks()]);
    await signer.publicJwks();
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });
});

describe('derToJoseSignature', () => {
  it('pads short integers and strips DER sign bytes to 64 bytes of r||s', () => {
    const r = Buffer.concat([Buffer.of(0x00, 0x80), Buffer.alloc(31, 1)]); // 33 bytes with a sign byte
    const s = Buffer.alloc(30, 2); // short: needs left padding
    const der = Buffer.concat([Buffer.of(0x30, 2 + r.length + 2 + s.length, 0x02, r.length), r, Buffer.of(0x02, s.length), s]);
    const jose = derToJoseSignature(der);
    expect(jose).toHaveLength(64);
    expect(Buffer.from(jose.subarray(0, 32))).toEqual(Buffer.concat([Buffer.of(0x80), Buffer.alloc(31, 1)]));
    expect(Buffer.from(jose.subarray(32))).toEqual(Buffer.concat([Buffer.alloc(2), Buffer.alloc(30, 2)]));
  });

  it('refuses input that is not a DER ECDSA signature', () => {
    expect(() => derToJoseSignature(Buffer.of(0x31, 0x00))).toThrow('Malformed');
  });
});
