import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { webAuthnHelpers } from './library.js';

/*
 * A key's assertion checked as @simplewebauthn/server's verifyAuthenticationResponse checks it
 * (WebAuthn L3 7.2 steps 11-21, with the library's parsers for the client data, the
 * authenticator data and the COSE key), but with node:crypto and each credential's key parsed
 * once per container: the library decodes the COSE key twice and imports it into WebCrypto on
 * every call (~0.7 ms of a ~0.8 ms check; docs/benchmarks.md). The answers are the library's:
 * test/unit/webauthn-assertion.test.ts holds the two to the same verdicts.
 */


export interface AssertionExpectations {
  challenge: string;
  origins: readonly string[];
  rpId: string;
}

export interface VerifiedAssertion {
  newCounter: number;
  credentialDeviceType: 'singleDevice' | 'multiDevice';
  credentialBackedUp: boolean;
}

interface ParsedKey {
  publicKey: Uint8Array;
  key: KeyObject;
  /** node:crypto's digest for `verify` (null for EdDSA) and ECDSA's signature encoding. */
  digest: 'sha256' | 'sha384' | 'sha512' | null;
}

const COSE = { kty: 1, alg: 3, crv: -1, x: -2, y: -3, n: -1, e: -2 } as const;
const EC_CURVES: Record<number, string> = { 1: 'P-256', 2: 'P-384', 3: 'P-521' };
/** COSE algorithm -> digest, for the algorithms keys can be registered with (SUPPORTED_ALGORITHM_IDS) and ECDSA's others. */
const DIGESTS: Record<number, ParsedKey['digest']> = { [-7]: 'sha256', [-35]: 'sha384', [-36]: 'sha512', [-257]: 'sha256', [-8]: null };

/** Parsed keys of this container, by credential id; bounded, as a container serves many users. */
const parsedKeys = new Map<string, ParsedKey>();
const MAX_PARSED_KEYS = 1000;

const b64url = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('base64url');

async function parsedKeyOf(credentialId: string, publicKey: Uint8Array): Promise<ParsedKey | null> {
  const cached = parsedKeys.get(credentialId);
  if (cached && Buffer.compare(cached.publicKey, publicKey) === 0) return cached;
  const { decodeCredentialPublicKey } = await webAuthnHelpers();
  const cose = decodeCredentialPublicKey(publicKey as Uint8Array<ArrayBuffer>) as Map<number, unknown>;
  const alg = cose.get(COSE.alg);
  if (typeof alg !== 'number' || !(alg in DIGESTS)) return null;
  let jwk: JsonWebKey;
  switch (cose.get(COSE.kty)) {
    case 2:
      jwk = { kty: 'EC', crv: EC_CURVES[cose.get(COSE.crv) as number], x: b64url(cose.get(COSE.x)), y: b64url(cose.get(COSE.y)) };
      break;
    case 3:
      jwk = { kty: 'RSA', n: b64url(cose.get(COSE.n)), e: b64url(cose.get(COSE.e)) };
      break;
    case 1:
      if (cose.get(COSE.crv) !== 6) return null;
      jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(cose.get(COSE.x)) };
      break;
    default:
      return null;
  }
  const parsed = { publicKey: new Uint8Array(publicKey), key: createPublicKey({ key: jwk, format: 'jwk' }), digest: DIGESTS[alg]! };
  if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear();
  parsedKeys.set(credentialId, parsed);
  return parsed;
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const TOKEN_BINDING_STATUSES = ['present', 'supported', 'notSupported'];

/**
 * The assertion's counter and backup state when it answers `expected` and is signed by
 * `credential`'s key; null otherwise (what the library answers by throwing or `verified: false`).
 * User verification is not required; the counter rule is the caller's (WebAuthn 6.1.1).
 */
export async function verifyAssertion(
  response: AuthenticationResponseJSON,
  expected: AssertionExpectations,
  credential: { id: string; publicKey: Uint8Array },
): Promise<VerifiedAssertion | null> {
  try {
    const { decodeClientDataJSON, parseAuthenticatorData } = await webAuthnHelpers();
    const { id, rawId, type: credentialType, response: assertion } = response;
    if (!id || id !== rawId || credentialType !== 'public-key' || typeof assertion?.clientDataJSON !== 'string') return null;
    const clientData = decodeClientDataJSON(assertion.clientDataJSON);
    if (clientData.type !== 'webauthn.get' || clientData.challenge !== expected.challenge) return null;
    // The library accepts a top origin only when the caller expects one (this service expects none).
    if (clientData.topOrigin) return null;
    if (!expected.origins.includes(clientData.origin)) return null;
    if (typeof assertion.authenticatorData !== 'string' || !BASE64URL.test(assertion.authenticatorData)) return null;
    if (typeof assertion.signature !== 'string' || !BASE64URL.test(assertion.signature)) return null;
    if (assertion.userHandle && typeof assertion.userHandle !== 'string') return null;
    const { tokenBinding } = clientData;
    if (tokenBinding && (typeof tokenBinding !== 'object' || !TOKEN_BINDING_STATUSES.includes(tokenBinding.status))) return null;
    const authenticatorData = Buffer.from(assertion.authenticatorData, 'base64url');
    const { rpIdHash, flags, counter } = parseAuthenticatorData(authenticatorData);
    if (!rpIdHash || !createHash('sha256').update(expected.rpId).digest().equals(rpIdHash)) return null;
    if (!flags.up) return null;
    // A backed-up key must be backup-eligible (the library's parseBackupFlags refuses the response).
    if (flags.bs && !flags.be) return null;
    const key = await parsedKeyOf(credential.id, credential.publicKey);
    if (!key) return null;
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(Buffer.from(assertion.clientDataJSON, 'base64url')).digest()]);
    const signature = Buffer.from(assertion.signature, 'base64url');
    const valid = key.key.asymmetricKeyType === 'ec' ? verify(key.digest, signed, { key: key.key, dsaEncoding: 'der' }, signature) : verify(key.digest, signed, key.key, signature);
    if (!valid) return null;
    return { newCounter: counter, credentialDeviceType: flags.be ? 'multiDevice' : 'singleDevice', credentialBackedUp: flags.bs };
  } catch {
    return null;
  }
}
