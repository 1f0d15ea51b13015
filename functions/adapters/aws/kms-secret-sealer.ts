import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { encryptionContextOf, type SealContext, type SecretSealer } from '../../ports/secret-sealer.js';

/**
 * Seals secrets with a symmetric KMS key. Every call names the key and the encryption
 * context (service, purpose, user), so each Encrypt and Decrypt in CloudTrail says whose
 * secret it was and why, and the key policy can refuse calls without it.
 */
export class KmsSecretSealer implements SecretSealer {
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  async seal(plaintext: Uint8Array, context: SealContext): Promise<Uint8Array> {
    const { CiphertextBlob } = await this.client.send(
      new EncryptCommand({ KeyId: this.keyId, Plaintext: plaintext, EncryptionContext: encryptionContextOf(context) }),
    );
    if (!CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext.');
    return CiphertextBlob;
  }

  async open(sealed: Uint8Array, context: SealContext): Promise<Uint8Array> {
    const { Plaintext } = await this.client.send(
      new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: sealed, EncryptionContext: encryptionContextOf(context) }),
    );
    if (!Plaintext) throw new Error('KMS Decrypt returned no plaintext.');
    return Plaintext;
  }
}
