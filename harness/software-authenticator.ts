import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '../functions/methods/webauthn/webauthn.js';

/**
 * A security key in software (node:crypto), for server-side tests: it answers creation and
 * request options the way a browser and an authenticator together would, and every field a
 * relying party checks can be turned wrong on purpose.
 */
export type SoftwareKeyAlgorithm = 'ES256' | 'EdDSA';

/** Authenticator data flags (WebAuthn L3 6.1): user present, user verified, backup eligible, backed up. */
export interface AuthenticatorFlags {
  up?: boolean;
  uv?: boolean;
  be?: boolean;
  bs?: boolean;
}

/** What a test may change in one response (everything else is what an honest key and browser send). */
export interface ResponseKnobs {
  /** Answer this challenge (base64url) instead of the options'. */
  challenge?: string;
  origin?: string;
  /** The RP ID whose SHA-256 goes into the authenticator data. */
  rpId?: string;
  /** clientDataJSON `type` (`webauthn.create` / `webauthn.get`). */
  type?: string;
  /** Flags that replace the key's own. */
  flags?: AuthenticatorFlags;
  /** The signature counter to put in the authenticator data (no change to the key's own). */
  counter?: number;
  /** Sign something else than authData ‖ SHA-256(clientDataJSON): a signature of the right form that does not verify. */
  badSignature?: boolean;
  /** The credential id (base64url) the response names as `id` and `rawId`. */
  credentialId?: string;
  /** `rawId` alone, to make it differ from `id`. */
  rawId?: string;
  /** The credential `type` (`public-key`). */
  credentialType?: string;
  crossOrigin?: boolean;
  /** A `topOrigin` in the client data: the ceremony ran in a frame of that origin. */
  topOrigin?: string;
  /** The user handle (base64url) an assertion returns, as a discoverable credential does. */
  userHandle?: string;
}

export interface SoftwareAuthenticatorOptions {
  algorithm?: SoftwareKeyAlgorithm;
  /** Backup eligible (BE) and backed up (BS): a synced passkey. Default: a device-bound key. */
  passkey?: boolean;
  /** The signature counter before the first assertion. Default 0. */
  counter?: number;
  /** Whether each assertion raises the counter by one (security keys) or leaves it (most passkeys, counter 0). Default true. */
  countsSignatures?: boolean;
  transports?: string[];
  credentialId?: Uint8Array;
  /** Use this key (of `algorithm`) instead of a fresh one, e.g. a test vector's. */
  privateKey?: KeyObject;
  /** The page's origin the browser reports, and the RP ID used when the options name none. Default the test relying party's. */
  origin?: string;
  rpId?: string;
}

const COSE_ALGORITHM: Record<SoftwareKeyAlgorithm, number> = { ES256: -7, EdDSA: -8 };
const FLAG = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 } as const;

export class SoftwareAuthenticator {
  readonly algorithm: SoftwareKeyAlgorithm;
  readonly credentialIdBytes: Uint8Array;
  readonly transports: string[];
  /** The counter of the last signature (the value the next one is measured against). */
  counter: number;
  readonly origin: string;
  readonly rpId: string;
  private readonly countsSignatures: boolean;
  private readonly flags: Required<AuthenticatorFlags>;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(options: SoftwareAuthenticatorOptions = {}) {
    this.algorithm = options.algorithm ?? 'ES256';
    const pair = options.privateKey
      ? { privateKey: options.privateKey, publicKey: createPublicKey(options.privateKey) }
      : this.algorithm === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.credentialIdBytes = options.credentialId ?? randomBytes(32);
    this.counter = options.counter ?? 0;
    this.countsSignatures = options.countsSignatures ?? true;
    this.origin = options.origin ?? 'http://localhost:3000';
    this.rpId = options.rpId ?? 'localhost';
    this.transports = options.transports ?? (options.passkey ? ['hybrid', 'internal'] : ['usb']);
    this.flags = { up: true, uv: false, be: options.passkey ?? false, bs: options.passkey ?? false };
  }

  /** The credential id, base64url, as the server stores it. */
  get credentialId(): string {
    return Buffer.from(this.credentialIdBytes).toString('base64url');
  }

  /** The COSE_Key (RFC 9052 7, RFC 9053 2.1 and 7.1) of the credential public key. */
  coseKey(): Uint8Array {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const x = Buffer.from(jwk.x!, 'base64url');
    if (this.algorithm === 'ES256') {
      const y = Buffer.from(jwk.y!, 'base64url');
      return cbor(new Map<number, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
    }
    return cbor(new Map<number, CborValue>([[1, 1], [3, -8], [-1, 6], [-2, x]]));
  }

  /** `navigator.credentials.create()` answered with attestation `none`, as `toJSON()` gives it. */
  register(options: { challenge: string; rp?: { id?: string | undefined } }, knobs: ResponseKnobs = {}): RegistrationResponseJSON {
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, knobs);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialIdBytes.length);
    const attestedCredentialData = Buffer.concat([Buffer.alloc(16), idLength, this.credentialIdBytes, this.coseKey()]);
    const authData = Buffer.concat([this.authDataHead(knobs, options.rp?.id, this.counter, FLAG.at), attestedCredentialData]);
    const attestationObject = cbor(new Map<string, CborValue>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    const id = knobs.credentialId ?? this.credentialId;
    return {
      id,
      rawId: knobs.rawId ?? id,
      type: (knobs.credentialType ?? 'public-key') as 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: this.transports as never,
        publicKey: b64url(this.publicKey.export({ format: 'der', type: 'spki' })),
        publicKeyAlgorithm: COSE_ALGORITHM[this.algorithm],
      },
      authenticatorAttachment: this.flags.be ? 'platform' : 'cross-platform',
      clientExtensionResults: {},
    };
  }

  /** `navigator.credentials.get()` answered, as `toJSON()` gives it: signs authData ‖ SHA-256(clientDataJSON). */
  assert(options: { challenge: string; rpId?: string | undefined }, knobs: ResponseKnobs = {}): AuthenticationResponseJSON {
    let counter = knobs.counter;
    if (counter === undefined) {
      if (this.countsSignatures) this.counter += 1;
      counter = this.counter;
    }
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, knobs);
    const authData = this.authDataHead(knobs, options.rpId, counter, 0);
    const signed = Buffer.concat([authData, sha256(clientDataJSON), ...(knobs.badSignature ? [Buffer.from([0])] : [])]);
    const signature = this.algorithm === 'ES256' ? sign('sha256', signed, { key: this.privateKey, dsaEncoding: 'der' }) : sign(null, signed, this.privateKey);
    const id = knobs.credentialId ?? this.credentialId;
    return {
      id,
      rawId: knobs.rawId ?? id,
      type: (knobs.credentialType ?? 'public-key') as 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(knobs.userHandle !== undefined ? { userHandle: knobs.userHandle } : {}),
      },
      authenticatorAttachment: this.flags.be ? 'platform' : 'cross-platform',
      clientExtensionResults: {},
    };
  }

  private clientData(type: string, challenge: string, knobs: ResponseKnobs): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: knobs.type ?? type,
        challenge: knobs.challenge ?? challenge,
        origin: knobs.origin ?? this.origin,
        crossOrigin: knobs.crossOrigin ?? false,
        ...(knobs.topOrigin ? { topOrigin: knobs.topOrigin } : {}),
      }),
    );
  }

  /** rpIdHash ‖ flags ‖ signCount (WebAuthn L3 6.1). */
  private authDataHead(knobs: ResponseKnobs, optionsRpId: string | undefined, counter: number, extraFlags: number): Buffer {
    const flags = { ...this.flags, ...knobs.flags };
    const byte = (flags.up ? FLAG.up : 0) | (flags.uv ? FLAG.uv : 0) | (flags.be ? FLAG.be : 0) | (flags.bs ? FLAG.bs : 0) | extraFlags;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(Buffer.from(knobs.rpId ?? optionsRpId ?? this.rpId)), Buffer.from([byte]), count]);
  }
}

const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array): string => Buffer.from(data).toString('base64url');

export type CborValue = number | string | Uint8Array | CborValue[] | Map<number | string, CborValue>;

/**
 * The deterministic subset of CBOR (RFC 8949) an attestation object and a COSE key need:
 * integers, byte and text strings, arrays and maps (a Map keeps integer keys and their order).
 */
export function cbor(value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('cbor: integers only');
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/** A major type with its argument in the shortest form. */
function head(major: number, argument: number): Buffer {
  const type = major << 5;
  if (argument < 24) return Buffer.from([type | argument]);
  if (argument < 0x100) return Buffer.from([type | 24, argument]);
  if (argument < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = type | 25;
    b.writeUInt16BE(argument, 1);
    return b;
  }
  if (argument < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = type | 26;
    b.writeUInt32BE(argument, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = type | 27;
  b.writeBigUInt64BE(BigInt(argument), 1);
  return b;
}
