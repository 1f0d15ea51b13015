import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { answeredInProcess, jsonBodyOf, jsonResponse, type WireRequest } from './in-process-http.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_REF_BYTES = 8;
/**
 * A KMS symmetric ciphertext is the plaintext plus about 152 bytes (a 32-byte data key comes
 * back as a 184-byte blob). Blobs here are padded to that size so that item sizes, and with
 * them DynamoDB request units, come out as they would with KMS.
 */
export const KMS_CIPHERTEXT_OVERHEAD_BYTES = 152;
const HEADER_BYTES = KEY_REF_BYTES + IV_BYTES + TAG_BYTES + 2;

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * KMS answered inside this process, at the HTTP layer of the SDK: the real KMSClient serialises,
 * signs, retries and deserialises every call, and only the network hop is replaced. Encrypt and
 * Decrypt really encrypt (AES-256-GCM, key id and encryption context bound as additional data),
 * Sign really signs (ECDSA P-256 over SHA-256, DER), GetPublicKey returns the SPKI key.
 */
export class InProcessKms {
  private readonly symmetricKeys = new Map<string, Buffer>();
  private readonly signingKeys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();

  /** A KMSClient whose requests this instance answers. */
  client(config: KMSClientConfig = {}): KMSClient {
    const { requestHandler, ...answered } = answeredInProcess((request) => this.handle(request));
    return new KMSClient({ ...answered, ...config, requestHandler: requestHandler as unknown as KMSClientConfig['requestHandler'] });
  }

  private async handle(request: WireRequest) {
    const operation = (request.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
    const input = jsonBodyOf(request) as Record<string, unknown>;
    let status = 200;
    let output: unknown;
    try {
      output = this.answer(operation, input);
    } catch (error) {
      if (!(error instanceof KmsError)) throw error;
      status = 400;
      output = { __type: error.type, message: error.message };
    }
    return jsonResponse(status, 'application/x-amz-json-1.1', output);
  }

  private answer(operation: string, input: Record<string, unknown>): unknown {
    const keyId = String(input.KeyId ?? '');
    const context = (input.EncryptionContext ?? {}) as Record<string, string>;
    switch (operation) {
      case 'Encrypt':
        return { KeyId: keyId, CiphertextBlob: this.encrypt(keyId, Buffer.from(String(input.Plaintext), 'base64'), context).toString('base64') };
      case 'Decrypt':
        return { KeyId: keyId, Plaintext: this.decrypt(keyId, Buffer.from(String(input.CiphertextBlob), 'base64'), context).toString('base64') };
      case 'Sign': {
        if (input.SigningAlgorithm !== 'ECDSA_SHA_256' || input.MessageType !== 'RAW') throw new KmsError('InvalidKeyUsageException', 'Unsupported signing request.');
        const signature = sign('sha256', Buffer.from(String(input.Message), 'base64'), this.signingKey(keyId).privateKey);
        return { KeyId: keyId, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };
      }
      case 'GetPublicKey': {
        const spki = this.signingKey(keyId).publicKey.export({ format: 'der', type: 'spki' });
        return { KeyId: keyId, PublicKey: spki.toString('base64'), KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] };
      }
      default:
        throw new KmsError('UnsupportedOperationException', `The in-process KMS does not answer ${operation}.`);
    }
  }

  private encrypt(keyId: string, plaintext: Buffer, context: Record<string, string>): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.symmetricKey(keyId), iv);
    cipher.setAAD(additionalData(keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const padding = Math.max(0, KMS_CIPHERTEXT_OVERHEAD_BYTES - HEADER_BYTES);
    const header = Buffer.alloc(2);
    header.writeUInt16BE(padding);
    return Buffer.concat([keyRef(keyId), header, Buffer.alloc(padding), iv, cipher.getAuthTag(), ciphertext]);
  }

  private decrypt(keyId: string, blob: Buffer, context: Record<string, string>): Buffer {
    if (blob.length < HEADER_BYTES || !blob.subarray(0, KEY_REF_BYTES).equals(keyRef(keyId))) throw invalidCiphertext();
    const body = blob.subarray(KEY_REF_BYTES + 2 + blob.readUInt16BE(KEY_REF_BYTES));
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.symmetricKey(keyId), body.subarray(0, IV_BYTES));
      decipher.setAAD(additionalData(keyId, context));
      decipher.setAuthTag(body.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw invalidCiphertext();
    }
  }

  private symmetricKey(keyId: string): Buffer {
    let key = this.symmetricKeys.get(keyId);
    if (!key) this.symmetricKeys.set(keyId, (key = randomBytes(32)));
    return key;
  }

  private signingKey(keyId: string) {
    let pair = this.signingKeys.get(keyId);
    if (!pair) this.signingKeys.set(keyId, (pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })));
    return pair;
  }
}

const keyRef = (keyId: string): Buffer => createHash('sha256').update(keyId).digest().subarray(0, KEY_REF_BYTES);

function additionalData(keyId: string, context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify([keyId, Object.entries(context).sort(([a], [b]) => a.localeCompare(b))]));
}

const invalidCiphertext = () => new KmsError('InvalidCiphertextException', 'The ciphertext does not open under this key and encryption context.');
