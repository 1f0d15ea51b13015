import { createECDH, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MfaRecord, WebAuthnAuthenticator } from '../../functions/domain/mfa-record.js';
import { freshSession } from '../../functions/domain/sessions.js';
import { verifyAssertion } from '../../functions/methods/webauthn/assertion.js';
import { CHALLENGE_KEY_BYTES, mintChallenge } from '../../functions/methods/webauthn/challenges.js';
import {
  proveWebAuthn,
  verifyRegistration,
  type AuthenticationResponseJSON,
  type RegisteredCredential,
  type RegistrationResponseJSON,
  type RelyingParty,
} from '../../functions/methods/webauthn/webauthn.js';
import { cbor, SoftwareAuthenticator, type ResponseKnobs } from '../../harness/software-authenticator.js';
import { TEST_VECTOR_RP, WEBAUTHN_TEST_VECTORS, type WebAuthnTestVector } from '../support/webauthn-test-vectors.js';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const NOW = Date.UTC(2026, 10, 28, 12);
/** The session that asked for the challenge. */
const SESSION = 'session-1';
const USER = 'user-1';
/** The user's challenge key, as the first challenge stores it. */
const CHALLENGE_KEY = Buffer.alloc(CHALLENGE_KEY_BYTES, 3);
const NONCE = Buffer.alloc(16, 7);

/** A challenge as the service mints it for the user and a session (SESSION unless said). */
const minted = (expiresAt = NOW + 60_000, binding = { userId: USER, sessionId: SESSION }, nonce: Uint8Array = NONCE) => mintChallenge(CHALLENGE_KEY, binding, nonce, expiresAt);

/** The record the service would hold once the registration is stored and the user has asked for a challenge. */
function recordWith(credential: RegisteredCredential, extra: Partial<MfaRecord> = {}): MfaRecord {
  const key: WebAuthnAuthenticator = { id: 'key-1', kind: 'webauthn', name: 'Security key', createdAt: NOW, ...credential };
  return {
    userId: USER,
    authenticators: [key],
    recoveryCodeHashes: [],
    webauthnChallengeKey: CHALLENGE_KEY,
    failures: 0,
    legacy: false,
    ...extra,
  };
}

/** The checks assertion.ts makes of a test vector's assertion, against the vector's own challenge (which the service did not mint). */
const checkVector = (rp: RelyingParty, credential: RegisteredCredential, vector: WebAuthnTestVector, challenge = b64(vector.authentication.challenge)) =>
  verifyAssertion(vectorAssertion(vector), { challenge, origins: rp.origins, rpId: rp.id }, { id: credential.credentialId, publicKey: credential.publicKey });

function vectorRegistration(vector: WebAuthnTestVector): RegistrationResponseJSON {
  const id = b64(vector.registration.credentialId);
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: { clientDataJSON: b64(vector.registration.clientDataJSON), attestationObject: b64(vector.registration.attestationObject) },
    clientExtensionResults: {},
  };
}

function vectorAssertion(vector: WebAuthnTestVector): AuthenticationResponseJSON {
  const id = b64(vector.registration.credentialId);
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b64(vector.authentication.clientDataJSON),
      authenticatorData: b64(vector.authentication.authenticatorData),
      signature: b64(vector.authentication.signature),
    },
    clientExtensionResults: {},
  };
}

describe('WebAuthn ceremonies on the WebAuthn Level 3 test vectors (section 16)', () => {
  const rp: RelyingParty = { id: TEST_VECTOR_RP.id, name: 'Example', origins: [TEST_VECTOR_RP.origin] };

  // Flags byte of each example's registration authenticator data (offset 32): BE is 0x08, BS 0x10.
  const flagsOf = (vector: WebAuthnTestVector) => {
    const object = Buffer.from(vector.registration.attestationObject, 'hex');
    const rpIdHash = Buffer.from(vector.authentication.authenticatorData, 'hex').subarray(0, 32);
    return object[object.indexOf(rpIdHash) + 32]!;
  };

  const ACCEPTED = ['none-es256', 'packed-self-es256', 'none-es256-long-credential-id', 'packed-es256', 'packed-rs256', 'packed-eddsa'] as const;

  it.each(ACCEPTED)('%s: registers the credential and accepts its assertion', async (name) => {
    const vector = WEBAUTHN_TEST_VECTORS[name];
    const registered = await verifyRegistration(rp, vectorRegistration(vector), b64(vector.registration.challenge));
    expect(registered).not.toBeNull();
    expect(registered!.credentialId).toBe(b64(vector.registration.credentialId));
    expect(registered!.counter).toBe(0);
    expect(registered!.backupEligible).toBe((flagsOf(vector) & 0x08) !== 0);
    expect(registered!.backedUp).toBe((flagsOf(vector) & 0x18) === 0x18);

    await expect(checkVector(rp, registered!, vector)).resolves.toMatchObject({ newCounter: 0 });
  });

  it.each(['packed-es384', 'packed-ed448'] as const)('%s: refuses a credential of an algorithm the options do not offer', async (name) => {
    const vector = WEBAUTHN_TEST_VECTORS[name];
    await expect(verifyRegistration(rp, vectorRegistration(vector), b64(vector.registration.challenge))).resolves.toBeNull();
  });

  it.each(['none-es256-crossOrigin', 'none-es256-topOrigin'] as const)('%s: refuses a ceremony run inside another origin\'s frame', async (name) => {
    const vector = WEBAUTHN_TEST_VECTORS[name];
    await expect(verifyRegistration(rp, vectorRegistration(vector), b64(vector.registration.challenge))).resolves.toBeNull();
    // Assertions in a frame are refused with the software key below (its crossOrigin and topOrigin knobs), on challenges the service minted.
  });

  it('refuses the top-origin example\'s assertion in the signature checks too', async () => {
    const vector = WEBAUTHN_TEST_VECTORS['none-es256-topOrigin'];
    const plain = WEBAUTHN_TEST_VECTORS['none-es256'];
    const registered = (await verifyRegistration(rp, vectorRegistration(plain), b64(plain.registration.challenge)))!;
    await expect(checkVector(rp, { ...registered, credentialId: b64(vector.registration.credentialId) }, vector)).resolves.toBeNull();
  });

  it('refuses a self attestation whose signature does not verify (a bad attestation)', async () => {
    const vector = WEBAUTHN_TEST_VECTORS['packed-self-es256'];
    const authDataKey = '68617574684461746158a4'; // "authData", then a 164-byte string
    const at = vector.registration.attestationObject.indexOf(authDataKey);
    const lastSigByte = vector.registration.attestationObject.slice(at - 2, at);
    const flipped = (parseInt(lastSigByte, 16) ^ 0x01).toString(16).padStart(2, '0');
    const tampered = { ...vector, registration: { ...vector.registration, attestationObject: vector.registration.attestationObject.slice(0, at - 2) + flipped + vector.registration.attestationObject.slice(at) } };
    await expect(verifyRegistration(rp, vectorRegistration(tampered), b64(vector.registration.challenge))).resolves.toBeNull();
    await expect(verifyRegistration(rp, vectorRegistration(vector), b64(vector.registration.challenge))).resolves.not.toBeNull();
  });

  it('refuses the examples for another relying party or another challenge', async () => {
    const vector = WEBAUTHN_TEST_VECTORS['none-es256'];
    const localhost: RelyingParty = { id: 'localhost', name: 'Acme', origins: ['http://localhost:3000'] };
    await expect(verifyRegistration(localhost, vectorRegistration(vector), b64(vector.registration.challenge))).resolves.toBeNull();
    await expect(verifyRegistration(rp, vectorRegistration(vector), b64(vector.authentication.challenge))).resolves.toBeNull();
    const registered = (await verifyRegistration(rp, vectorRegistration(vector), b64(vector.registration.challenge)))!;
    await expect(checkVector(rp, registered, vector, b64(vector.registration.challenge))).resolves.toBeNull();
    await expect(checkVector(localhost, registered, vector)).resolves.toBeNull();
    await expect(checkVector(rp, registered, vector)).resolves.not.toBeNull();
  });
});

describe('software authenticator (test support)', () => {
  it('encodes CBOR as RFC 8949 appendix A does', () => {
    const hex = (value: Parameters<typeof cbor>[0]) => cbor(value).toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(23)).toBe('17');
    expect(hex(24)).toBe('1818');
    expect(hex(1000)).toBe('1903e8');
    expect(hex(1000000)).toBe('1a000f4240');
    expect(hex(1000000000000)).toBe('1b000000e8d4a51000');
    expect(hex(-1)).toBe('20');
    expect(hex(-1000)).toBe('3903e7');
    expect(hex('')).toBe('60');
    expect(hex('IETF')).toBe('6449455446');
    expect(hex('\u00fc')).toBe('62c3bc');
    expect(hex(Uint8Array.from([1, 2, 3, 4]))).toBe('4401020304');
    expect(hex([1, [2, 3], [4, 5]])).toBe('8301820203820405');
    expect(hex(new Map([[1, 2], [3, 4]]))).toBe('a201020304');
    expect(hex(new Map<string, Parameters<typeof cbor>[0]>([['a', 1], ['b', [2, 3]]]))).toBe('a26161016162820203');
  });

  it("writes a test vector's credential public key byte for byte as the vector's attestation object holds it (ES256 and Ed25519)", () => {
    const es256 = WEBAUTHN_TEST_VECTORS['none-es256'];
    const d = Buffer.from('6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee', 'hex');
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    const ecKey = createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
      format: 'jwk',
    });
    const ecCose = new SoftwareAuthenticator({ algorithm: 'ES256', privateKey: ecKey }).coseKey();
    expect(es256.registration.attestationObject.endsWith(Buffer.from(ecCose).toString('hex'))).toBe(true);

    const eddsa = WEBAUTHN_TEST_VECTORS['packed-eddsa'];
    const seed = Buffer.from('971f38c0f73aaf0c5a614eb5e26430ae1ea0ed13e4f425d96e9662349340b0b3', 'hex');
    const edKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const edCose = Buffer.from(new SoftwareAuthenticator({ algorithm: 'EdDSA', privateKey: edKey }).coseKey()).toString('hex');
    expect(eddsa.registration.attestationObject).toContain(edCose);
  });
});

describe('WebAuthn ceremonies with the software authenticator', () => {
  const rp: RelyingParty = { id: 'localhost', name: 'Acme', origins: ['http://localhost:3000'] };
  const challenge = minted();
  const options = { challenge, rp: { id: 'localhost' }, rpId: 'localhost' };

  async function registered(key: SoftwareAuthenticator): Promise<RegisteredCredential> {
    const credential = await verifyRegistration(rp, key.register(options), challenge);
    expect(credential).not.toBeNull();
    return credential!;
  }

  it.each(['ES256', 'EdDSA'] as const)('%s: registers, then proves with assertions whose counter rises', async (algorithm) => {
    const key = new SoftwareAuthenticator({ algorithm });
    const credential = await registered(key);
    expect(credential).toMatchObject({ credentialId: key.credentialId, counter: 0, transports: ['usb'], backupEligible: false, backedUp: false });
    const first = await proveWebAuthn(rp, recordWith(credential), key.assert(options), NOW, SESSION);
    expect(first).toEqual({
      proof: {
        kind: 'webauthn',
        authenticatorId: 'key-1',
        sessionId: SESSION,
        challengeNonce: NONCE.toString('base64url'),
        challengeExpiresAt: NOW + 60_000,
        spentRead: undefined,
        previousCounter: 0,
        counter: 1,
        backedUp: false,
        backupEligible: false,
        assertedBackupEligible: false,
      },
    });
  });

  it('reports a synced passkey as backup eligible and backed up', async () => {
    const key = new SoftwareAuthenticator({ passkey: true, countsSignatures: false });
    const credential = await registered(key);
    expect(credential).toMatchObject({ backupEligible: true, backedUp: true, transports: ['hybrid', 'internal'] });
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(options), NOW, SESSION)).resolves.toMatchObject({ proof: { counter: 0, backedUp: true, backupEligible: true } });
  });

  const WRONG: Array<[string, ResponseKnobs]> = [
    ['another challenge', { challenge: Buffer.alloc(32, 8).toString('base64url') }],
    ['another origin', { origin: 'https://evil.example' }],
    ['another RP ID hash', { rpId: 'evil.example' }],
    ['the wrong client data type', { type: 'webauthn.other' }],
    ['no user presence', { flags: { up: false } }],
    ['backed up without being backup eligible (BS without BE)', { flags: { be: false, bs: true } }],
    ['a cross-origin ceremony', { crossOrigin: true }],
    ['a top origin (a ceremony in a frame)', { topOrigin: 'https://evil.example' }],
    ['another credential type', { credentialType: 'password' }],
  ];

  it('keeps the registered backup eligibility in the proof and tells what the assertion said', async () => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(options, { flags: { be: true, bs: true } }), NOW, SESSION)).resolves.toMatchObject({
      proof: { backupEligible: false, assertedBackupEligible: true, backedUp: true },
    });
  });

  it.each([
    ['id and rawId naming another credential than the attested one', { credentialId: Buffer.alloc(32, 9).toString('base64url') }],
    ['rawId alone naming another credential', { rawId: Buffer.alloc(32, 9).toString('base64url') }],
  ] as Array<[string, ResponseKnobs]>)('refuses a registration with %s', async (_, knobs) => {
    await expect(verifyRegistration(rp, new SoftwareAuthenticator().register(options, knobs), challenge)).resolves.toBeNull();
  });

  it('accepts a credential id of 1023 bytes and refuses one of 1024 (WebAuthn L3 7.1 step 25)', async () => {
    await expect(verifyRegistration(rp, new SoftwareAuthenticator({ credentialId: new Uint8Array(1023) }).register(options), challenge)).resolves.not.toBeNull();
    await expect(verifyRegistration(rp, new SoftwareAuthenticator({ credentialId: new Uint8Array(1024) }).register(options), challenge)).resolves.toBeNull();
  });

  it.each([...WRONG, ['rawId unlike id', { rawId: 'AAAA' }]] as Array<[string, ResponseKnobs]>)('refuses a registration with %s', async (_, knobs) => {
    const key = new SoftwareAuthenticator();
    await expect(verifyRegistration(rp, key.register(options, knobs), challenge)).resolves.toBeNull();
  });

  it.each([...WRONG, ['a bad signature', { badSignature: true }], ['an unknown credential id', { credentialId: 'AAAA' }], ['rawId unlike id', { rawId: 'AAAA' }]] as Array<
    [string, ResponseKnobs]
  >)('refuses an assertion with %s', async (_, knobs) => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(options, knobs), NOW, SESSION)).resolves.toEqual({ refused: 'wrong' });
    // The same key and challenge with nothing turned wrong: the refusal was the knob's.
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(options), NOW, SESSION)).resolves.toHaveProperty('proof');
  });

  it('applies the counter rule: both zero is fine, else the new one must be greater', async () => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    const at = (stored: number, sent: number) => proveWebAuthn(rp, recordWith({ ...credential, counter: stored }), key.assert(options, { counter: sent }), NOW, SESSION);
    await expect(at(0, 0)).resolves.toHaveProperty('proof.counter', 0);
    await expect(at(0, 1)).resolves.toHaveProperty('proof.counter', 1);
    await expect(at(5, 6)).resolves.toHaveProperty('proof.previousCounter', 5);
    await expect(at(5, 5)).resolves.toEqual({ refused: 'counter_regression', authenticatorId: 'key-1' });
    await expect(at(5, 4)).resolves.toEqual({ refused: 'counter_regression', authenticatorId: 'key-1' });
    await expect(at(5, 0)).resolves.toEqual({ refused: 'counter_regression', authenticatorId: 'key-1' });
  });

  it('refuses an assertion to an expired challenge, or when the user has no challenge key', async () => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    const expired = { ...options, challenge: minted(NOW) };
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(expired), NOW, SESSION)).resolves.toEqual({ refused: 'wrong' });
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(expired), NOW - 1, SESSION)).resolves.toHaveProperty('proof');
    // Minted by a function whose clock runs up to a minute ahead: still answerable.
    const ahead = { ...options, challenge: minted(NOW + 5 * 60_000 + 60_000) };
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(ahead), NOW, SESSION)).resolves.toHaveProperty('proof');
    await expect(proveWebAuthn(rp, recordWith(credential, { webauthnChallengeKey: undefined }), key.assert(options), NOW, SESSION)).resolves.toEqual({ refused: 'wrong' });
  });

  it("refuses an assertion to a challenge the session has since replaced with a later one", async () => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    const latest = (expiresAt: number) => recordWith(credential, { sessions: { [SESSION]: { ...freshSession(), keyChallengeExpiresAt: expiresAt } } });
    await expect(proveWebAuthn(rp, latest(NOW + 60_001), key.assert(options), NOW, SESSION)).resolves.toEqual({ refused: 'wrong' });
    await expect(proveWebAuthn(rp, latest(NOW + 60_000), key.assert(options), NOW, SESSION)).resolves.toHaveProperty('proof');
    // Another session's later challenge replaces nothing of this one's.
    await expect(proveWebAuthn(rp, recordWith(credential, { sessions: { other: { ...freshSession(), keyChallengeExpiresAt: NOW + 60_001 } } }), key.assert(options), NOW, SESSION)).resolves.toHaveProperty('proof');
  });

  it("refuses an assertion presented by another session than the one that asked for its challenge", async () => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(options), NOW, 'another-session')).resolves.toEqual({ refused: 'wrong' });
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert(options), NOW, SESSION)).resolves.toHaveProperty('proof');
  });

  it.each([
    ['minted for another user', () => minted(NOW + 60_000, { userId: 'user-2', sessionId: SESSION })],
    ['minted under another key', () => mintChallenge(Buffer.alloc(CHALLENGE_KEY_BYTES, 4), { userId: USER, sessionId: SESSION }, NONCE, NOW + 60_000)],
    ['with a later expiry written over it', () => {
      const bytes = Buffer.from(minted(), 'base64url');
      bytes.writeUIntBE(NOW + 3_600_000, 1, 6);
      return bytes.toString('base64url');
    }],
    ['with its MAC cut short', () => minted().slice(0, -4)],
    ['minted (with the challenge key) to expire later than any challenge the service hands out', () => minted(NOW + 5 * 60_000 + 60_001)],
    ['of 32 random bytes (not minted)', () => Buffer.alloc(32, 9).toString('base64url')],
  ])('refuses an assertion to a challenge %s', async (_, challengeOf) => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    await expect(proveWebAuthn(rp, recordWith(credential), key.assert({ ...options, challenge: challengeOf() }), NOW, SESSION)).resolves.toEqual({ refused: 'wrong' });
  });

  it('recognises a right response to a challenge already spent as a copy (no guess), and passes the spent challenges on to the write', async () => {
    const key = new SoftwareAuthenticator();
    const credential = await registered(key);
    const response = key.assert(options);
    const spent = { [NONCE.toString('base64url')]: NOW + 60_000, older: NOW - 1 };
    await expect(proveWebAuthn(rp, recordWith(credential, { spentChallenges: spent }), response, NOW, SESSION)).resolves.toEqual({
      refused: 'spent',
      spentKey: expect.any(String),
    });
    // Spent in another write's map but not this challenge's: a proof, carrying the map as read.
    await expect(proveWebAuthn(rp, recordWith(credential, { spentChallenges: { older: NOW - 1 } }), response, NOW, SESSION)).resolves.toMatchObject({
      proof: { challengeNonce: NONCE.toString('base64url'), spentRead: { older: NOW - 1 } },
    });
    // A copy whose signature does not verify is a guess, spent challenge or not.
    await expect(proveWebAuthn(rp, recordWith(credential, { spentChallenges: spent }), key.assert(options, { badSignature: true }), NOW, SESSION)).resolves.toEqual({ refused: 'wrong' });
  });
});
