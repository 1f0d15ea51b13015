import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, randomBytes, sign as ecdsaSign } from 'node:crypto';
import { DecryptCommand, EncryptCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { dependencyError, type FaultInjector } from './fault-injection.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * KMS as the adapters see it, for tests: every KMSClient in the test file answers from here.
 * Encrypt and Decrypt really encrypt (AES-256-GCM under a per-key secret) and bind the key id
 * and the encryption context as additional data, so a ciphertext opens only under the same key
 * and the same context, as with KMS. Sign and GetPublicKey use one P-256 key pair.
 * With a FaultInjector, every call is a call site it can make fail.
 */
export function installFakeKms(options: { injector?: FaultInjector } = {}) {
  const mock = mockClient(KMSClient);
  const keyMaterial = new Map<string, Buffer>();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const materialFor = (keyId: string) => {
    let key = keyMaterial.get(keyId);
    if (!key) keyMaterial.set(keyId, (key = randomBytes(32)));
    return key;
  };
  const keyRef = (keyId: string) => createHash('sha256').update(keyId).digest().subarray(0, 8);
  const aad = (keyId: string, context: Record<string, string> | undefined) =>
    Buffer.from(JSON.stringify([keyId, Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b))]));
  const faultAt = async (site: string) => {
    const fault = await options.injector?.nextCall(`KMS.${site}`);
    if (fault) throw dependencyError(fault.kind, 'KMS');
  };
  const invalidCiphertext = () =>
    Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

  mock.on(EncryptCommand).callsFake(async (input: { KeyId: string; Plaintext: Uint8Array; EncryptionContext?: Record<string, string> }) => {
    await faultAt('Encrypt');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', materialFor(input.KeyId), iv);
    cipher.setAAD(aad(input.KeyId, input.EncryptionContext));
    const body = Buffer.concat([cipher.update(input.Plaintext), cipher.final()]);
    return { CiphertextBlob: new Uint8Array(Buffer.concat([keyRef(input.KeyId), iv, cipher.getAuthTag(), body])), KeyId: input.KeyId };
  });

  mock.on(DecryptCommand).callsFake(async (input: { KeyId?: string; CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string> }) => {
    await faultAt('Decrypt');
    const blob = Buffer.from(input.CiphertextBlob);
    const keyId = [...keyMaterial.keys()].find((candidate) => keyRef(candidate).equals(blob.subarray(0, 8)));
    if (!keyId || (input.KeyId !== undefined && input.KeyId !== keyId)) throw invalidCiphertext();
    try {
      const decipher = createDecipheriv('aes-256-gcm', materialFor(keyId), blob.subarray(8, 8 + IV_BYTES));
      decipher.setAAD(aad(keyId, input.EncryptionContext));
      decipher.setAuthTag(blob.subarray(8 + IV_BYTES, 8 + IV_BYTES + TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(blob.subarray(8 + IV_BYTES + TAG_BYTES)), decipher.final()]);
      return { Plaintext: new Uint8Array(plaintext), KeyId: keyId };
    } catch {
      throw invalidCiphertext();
    }
  });

  mock.on(SignCommand).callsFake(async (input: { Message: Uint8Array; SigningAlgorithm: string }) => {
    await faultAt('Sign');
    if (input.SigningAlgorithm !== 'ECDSA_SHA_256') throw Object.assign(new Error('wrong algorithm'), { name: 'InvalidKeyUsageException' });
    return { Signature: new Uint8Array(ecdsaSign('sha256', input.Message, privateKey)) };
  });

  mock.on(GetPublicKeyCommand).callsFake(async () => {
    await faultAt('GetPublicKey');
    return { PublicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })) };
  });

  return { mock, publicKey };
}
