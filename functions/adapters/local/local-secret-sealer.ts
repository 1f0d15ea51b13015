import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { encryptionContextOf, type SealContext, type SecretSealer } from '../../ports/secret-sealer.js';
import { readOrCreateKeyFile } from './key-files.js';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Stands in for KMS locally: AES-256-GCM under a key file in the data directory, with the
 * same encryption context bound as additional authenticated data. Layout: version | iv | tag | ciphertext.
 */
export class LocalSecretSealer implements SecretSealer {
  private key?: Promise<Buffer>;

  constructor(private readonly keyPath: string) {}

  static inDataDir(dataDir: string): LocalSecretSealer {
    return new LocalSecretSealer(join(dataDir, 'keys', 'totp-secret.key'));
  }

  async seal(plaintext: Uint8Array, context: SealContext): Promise<Uint8Array> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.loadKey(), iv);
    cipher.setAAD(additionalData(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return new Uint8Array(Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext]));
  }

  async open(sealed: Uint8Array, context: SealContext): Promise<Uint8Array> {
    const bytes = Buffer.from(sealed);
    if (bytes[0] !== VERSION || bytes.length < 1 + IV_BYTES + TAG_BYTES) throw new Error('Unrecognised sealed secret.');
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', await this.loadKey(), iv);
    decipher.setAAD(additionalData(context));
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]));
  }

  private loadKey(): Promise<Buffer> {
    this.key ??= readOrCreateKeyFile(this.keyPath, () => randomBytes(32).toString('base64')).then((text) => {
      const key = Buffer.from(text.trim(), 'base64');
      if (key.length !== 32) throw new Error(`The key file ${this.keyPath} does not hold a 256-bit key.`);
      return key;
    });
    return this.key;
  }
}

function additionalData(context: SealContext): Buffer {
  const map = encryptionContextOf(context);
  const canonical = Object.keys(map)
    .sort()
    .map((key) => [key, map[key]]);
  return Buffer.from(JSON.stringify(canonical));
}
