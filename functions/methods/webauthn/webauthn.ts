import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { MfaRecord, WebAuthnAuthenticator } from '../../domain/mfa-record.js';
import type { Proof } from '../../ports/mfa-store.js';
import { spentKeyOf, type Evaluation } from '../evaluation.js';
import { verifyAssertion } from './assertion.js';
import { CLOCK_DRIFT_MS, openChallenge } from './challenges.js';
import { webAuthnLibrary } from './library.js';

/**
 * Security keys and passkeys (WebAuthn Level 3), with @simplewebauthn/server for the
 * ceremonies. The library is loaded on first use from here only, so a function that checks a
 * TOTP code never pays for it.
 */
export interface RelyingParty {
  /** Configured, never taken from the request's Host or Origin. */
  id: string;
  name: string;
  origins: readonly string[];
}

/** WebAuthn L3 13.4.3 asks for at least 16 random bytes. */
export const WEBAUTHN_CHALLENGE_BYTES = 32;
export const WEBAUTHN_USER_HANDLE_BYTES = 32;
export const WEBAUTHN_CEREMONY_TTL_MS = 5 * 60_000;
/** WebAuthn L3 7.1 step 25: a credential id longer than this is refused. */
export const MAX_CREDENTIAL_ID_BYTES = 1023;
/** EdDSA, ES256, RS256: the library's default would add ML-DSA, experimental on Node 24. */
export const SUPPORTED_ALGORITHM_IDS = [-8, -7, -257];

export type { AuthenticationResponseJSON, RegistrationResponseJSON };


/** A registered key as stored, from a verified registration. */
export type RegisteredCredential = Pick<WebAuthnAuthenticator, 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'backupEligible' | 'backedUp'>;

export async function registrationOptions(
  rp: RelyingParty,
  input: { challenge: string; userHandle: Uint8Array; accountName: string; exclude: readonly WebAuthnAuthenticator[] },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await webAuthnLibrary();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: input.accountName,
    userDisplayName: input.accountName,
    userID: input.userHandle as Uint8Array<ArrayBuffer>,
    // Bytes, not a string: the library base64url-encodes a string's UTF-8 as the challenge.
    challenge: Buffer.from(input.challenge, 'base64url') as Uint8Array<ArrayBuffer>,
    timeout: WEBAUTHN_CEREMONY_TTL_MS,
    attestationType: 'none',
    excludeCredentials: input.exclude.map((key) => ({ id: key.credentialId, transports: key.transports })),
    authenticatorSelection: { residentKey: 'discouraged', userVerification: 'discouraged' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
  }) as Promise<PublicKeyCredentialCreationOptionsJSON>;
}

/**
 * The key a registration response registers, or null when it does not answer `challenge` for
 * this relying party (challenge, origin, rpIdHash, type, user presence, attestation, algorithm),
 * names another credential in `id`/`rawId` than the one attested, or attests a credential id
 * longer than 1023 bytes (WebAuthn L3 7.1 step 25).
 */
export async function verifyRegistration(rp: RelyingParty, response: RegistrationResponseJSON, challenge: string): Promise<RegisteredCredential | null> {
  const { verifyRegistrationResponse } = await webAuthnLibrary();
  try {
    if (embeddedCrossOrigin(clientDataOf(response.response.clientDataJSON))) return null;
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserPresence: true,
      requireUserVerification: false,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
    });
    if (!result.verified) return null;
    const { credential, credentialDeviceType, credentialBackedUp } = result.registrationInfo;
    // The library checks `id` against `rawId`, not against the credential the authenticator data attests.
    if (response.id !== credential.id || response.rawId !== credential.id) return null;
    if (Buffer.from(credential.id, 'base64url').length > MAX_CREDENTIAL_ID_BYTES) return null;
    return {
      credentialId: credential.id,
      publicKey: new Uint8Array(credential.publicKey),
      counter: credential.counter,
      transports: [...(credential.transports ?? [])],
      backupEligible: credentialDeviceType === 'multiDevice',
      backedUp: credentialBackedUp,
    };
  } catch {
    return null;
  }
}

export async function authenticationOptions(
  rp: RelyingParty,
  input: { challenge: string; keys: readonly WebAuthnAuthenticator[] },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webAuthnLibrary();
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: Buffer.from(input.challenge, 'base64url') as Uint8Array<ArrayBuffer>,
    timeout: WEBAUTHN_CEREMONY_TTL_MS,
    allowCredentials: input.keys.map((key) => ({ id: key.credentialId, transports: key.transports as never })),
    userVerification: 'discouraged',
  });
}

/**
 * Whether the client says the ceremony ran in a frame of another origin (`crossOrigin: true`,
 * or a `topOrigin`). WebAuthn L3 7.1 step 10 and 7.2 step 13 leave it to the relying party to
 * expect that; this service offers no sign-in inside another site's frame (its web client sends
 * `frame-ancestors 'none'`), so such a response is refused. The library refuses a `topOrigin`
 * only at authentication and never checks `crossOrigin`. Unreadable client data counts as
 * cross-origin (the library refuses it anyway).
 */
function embeddedCrossOrigin(clientData: ClientData | null): boolean {
  return clientData === null || clientData.crossOrigin === true || 'topOrigin' in clientData;
}

type ClientData = Readonly<Record<string, unknown>>;

/** The client data's members (read once per response), or null when it is not a JSON object. */
function clientDataOf(clientDataJSON: string): ClientData | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as ClientData) : null;
  } catch {
    return null;
  }
}

/** The signature counter in authenticator data (bytes 33-36, big-endian), or null when it is too short. */
function counterOf(response: AuthenticationResponseJSON): number | null {
  const data = Buffer.from(response.response.authenticatorData, 'base64url');
  return data.length >= 37 ? data.readUInt32BE(33) : null;
}

/** A key's proof: the write's part (Proof) and what the assertion said of its backup eligibility. */
export type WebAuthnProof = Extract<Proof, { kind: 'webauthn' }> & {
  /** As registered: fixed for the key's life, it names `hwk` or `swk`. */
  backupEligible: boolean;
  /** As this assertion's flags say (WebAuthn L3 says it never changes; platforms have flipped it). */
  assertedBackupEligible: boolean;
};

/**
 * Checks a key's assertion against a challenge minted for the user and the session that presents
 * it (challenges.ts: a challenge handed to another session is never accepted), unexpired, not
 * replaced by a later challenge of the session, and the key stored for its credential id: WebAuthn L3 7.2 (the library's checks, assertion.ts) and the
 * signature counter (6.1.1: both zero is fine, else the new one must be greater). Only a verified
 * response's counter becomes part of the proof. A verified response to a challenge already spent
 * (a double click, a retry) is a copy of a right response: no guess. A verified response whose
 * counter went backwards is refused as a possible clone, naming the key.
 */
export async function proveWebAuthn(
  rp: RelyingParty,
  record: MfaRecord,
  response: AuthenticationResponseJSON,
  nowMs: number,
  sessionId: string,
): Promise<Evaluation<WebAuthnProof>> {
  const key = record.authenticators.find((a): a is WebAuthnAuthenticator => a.kind === 'webauthn' && a.credentialId === response.id);
  if (!key || response.rawId !== response.id) return { refused: 'wrong' };
  const clientData = clientDataOf(response.response.clientDataJSON);
  if (embeddedCrossOrigin(clientData)) return { refused: 'wrong' };
  // 7.2 step 6: a user handle, when the key returns one (a discoverable credential does), must be this user's.
  const { userHandle } = response.response;
  if (userHandle && userHandle !== record.webauthnUserHandle) return { refused: 'wrong' };
  // The challenge the client data says the response answers (verifyAssertion checks it again, with the library's decoder).
  const challenge = typeof clientData?.challenge === 'string' ? clientData.challenge : null;
  const challengeKey = record.webauthnChallengeKey;
  const minted = challenge !== null && challengeKey ? openChallenge(challengeKey, { userId: record.userId, sessionId }, challenge) : null;
  // Expired, or valid for longer than any challenge this service mints (beyond the clocks' drift): only one minted with the key in other hands.
  if (!minted || minted.expiresAt <= nowMs || minted.expiresAt > nowMs + WEBAUTHN_CEREMONY_TTL_MS + CLOCK_DRIFT_MS) return { refused: 'wrong' };
  // The library's checks with node:crypto and the key parsed once per container (assertion.ts).
  const verified = await verifyAssertion(response, { challenge: challenge!, origins: rp.origins, rpId: rp.id }, { id: key.credentialId, publicKey: key.publicKey });
  if (!verified) return { refused: 'wrong' };
  if (record.spentChallenges?.[minted.nonce] !== undefined) return { refused: 'spent', spentKey: spentKeyOf('webauthn', minted.nonce) };
  // Replaced by a later challenge of the session (unless the session's entry, and so the record of it, was dropped).
  const latest = record.sessions?.[sessionId]?.keyChallengeExpiresAt;
  if (latest !== undefined && minted.expiresAt < latest) return { refused: 'wrong' };
  const counter = verified.newCounter;
  if (counter !== counterOf(response)) return { refused: 'wrong' };
  if ((counter > 0 || key.counter > 0) && counter <= key.counter) return { refused: 'counter_regression', authenticatorId: key.id };
  return {
    proof: {
      kind: 'webauthn',
      authenticatorId: key.id,
      sessionId,
      challengeNonce: minted.nonce,
      challengeExpiresAt: minted.expiresAt,
      spentRead: record.spentChallenges,
      previousCounter: key.counter,
      counter,
      backedUp: verified.credentialBackedUp,
      backupEligible: key.backupEligible,
      assertedBackupEligible: verified.credentialDeviceType === 'multiDevice',
    },
  };
}
