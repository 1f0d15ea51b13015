import type { AuthenticatorKind } from '../methods/kinds.js';
import type { LockoutState, ProofRateState } from './lockout.js';
import type { SessionLimits } from './sessions.js';

interface AuthenticatorBase {
  id: string;
  kind: AuthenticatorKind;
  name: string;
  createdAt: number;
  lastUsedAt?: number | undefined;
}

/** An authenticator app: its KMS-sealed secret and the newest time step it had accepted. */
export interface TotpAuthenticator extends AuthenticatorBase {
  kind: 'totp';
  sealedSecret: Uint8Array;
  /** A code is accepted only for a newer step (RFC 6238 section 5.2): replay protection per app. */
  lastStep: number;
  /**
   * A digest of the code last accepted (totp-proof.ts `spentCodeDigest`), so that a copy of it is
   * recognised as spent without opening the secret (no KMS call). A spent code proves nothing.
   */
  lastCodeDigest?: string | undefined;
}

/** A security key or passkey (WebAuthn credential). Its public key is not a secret. */
export interface WebAuthnAuthenticator extends AuthenticatorBase {
  kind: 'webauthn';
  /** base64url credential id. */
  credentialId: string;
  /** COSE_Key bytes. */
  publicKey: Uint8Array;
  /** The signature counter of the last verified assertion (WebAuthn L3 6.1.1). */
  counter: number;
  transports: string[];
  /** Backup eligible (BE) and backed up (BS) flags as last seen: a synced passkey vs a device-bound key. */
  backupEligible: boolean;
  backedUp: boolean;
}

/** A verified email address codes are sent to (the first-factor token's `email`, verified by the IdP). */
export interface EmailAuthenticator extends AuthenticatorBase {
  kind: 'email';
  address: string;
}

export type Authenticator = TotpAuthenticator | WebAuthnAuthenticator | EmailAuthenticator;

/**
 * A code sent by email, pending for one first-factor session: an HMAC of it under a key made
 * for it alone, that key sealed by the secret key (see methods/email/email-codes.ts).
 */
export interface PendingEmailCode {
  purpose: 'enroll' | 'prove';
  hash: Uint8Array;
  sealedKey: Uint8Array;
  expiresAt: number;
  /** Where the code went: the address an enrollment adds once the code comes back. */
  address: string;
  /** An enrollment started with a proof of a current factor (see PendingEnrollment.proved). */
  proved: boolean;
}

/** A TOTP app being set up (by one session): its sealed secret until confirmed. */
export interface PendingEnrollment {
  sealedSecret: Uint8Array;
  createdAt: number;
  expiresAt: number;
  /** Started with a proof of a current factor (MFA was on): only then may it be confirmed while MFA is on. */
  proved: boolean;
}

/** A WebAuthn challenge waiting for its one response (from the session that asked for it). */
export interface PendingChallenge {
  challenge: string;
  createdAt: number;
  expiresAt: number;
  /** For a registration: started with a proof of a current factor (see PendingEnrollment.proved). */
  proved: boolean;
}

/** A browser's public key (ES256 JWK coordinates): the private half never leaves the browser, which cannot export it. */
export interface DevicePublicKey {
  /** base64url of the 32-byte P-256 coordinates. */
  x: string;
  y: string;
}

/** A remembered browser: its public key, bound to the app it was remembered for; its expiry never slides. */
export interface RememberedDevice {
  id: string;
  name: string;
  /** The first-factor audience (the app) it was remembered for: it signs in to that app only. */
  app: string;
  publicKey: DevicePublicKey;
  createdAt: number;
  lastUsedAt?: number | undefined;
  expiresAt: number;
  /** When a real factor was last proven on this browser (the assertions' `auth_time`). */
  authTime: number;
}

/** A device challenge waiting for its one signature: one per first-factor session. */
export interface PendingDeviceChallenge {
  /** The first-factor session it was handed to (`Actor.sessionId`). */
  sessionId: string;
  deviceId: string;
  app: string;
  challenge: string;
  expiresAt: number;
}

/** Everything the service knows about one user's MFA: one item, changed only by conditional writes. */
export interface MfaRecord extends LockoutState, ProofRateState {
  userId: string;
  authenticators: Authenticator[];
  /** Encoded hashes of the unused recovery codes of the account. */
  recoveryCodeHashes: string[];
  /** Encoded hashes of the current set's used codes: a copy of one is a right code already spent, not a guess. */
  spentRecoveryCodeHashes?: string[] | undefined;
  /**
   * Fast digests of the current set's used codes (recovery-codes.ts `spentRecoveryCodeDigest`):
   * a copy of one is recognised as spent without running the KDF.
   */
  spentRecoveryCodeDigests?: string[] | undefined;
  /** Pending ceremonies by session id (at most MAX_PENDING_PER_USER of each kind): apps being set up, keys being registered. */
  pendingEnrollments?: Record<string, PendingEnrollment> | undefined;
  registrations?: Record<string, PendingChallenge> | undefined;
  /** Per-session limits by session id (domain/sessions.ts); undefined when the item has none yet. */
  sessions?: Record<string, SessionLimits> | undefined;
  /** When reaching the per-user ceiling of recovery-code and key checks was last reported. */
  ceilingReportedAt?: number | undefined;
  /** The random WebAuthn user handle (never the subject). */
  webauthnUserHandle?: string | undefined;
  /**
   * The key that authenticates the user's key sign-in challenges (methods/webauthn/challenges.ts):
   * challenges are minted, not stored. Made by the first challenge; gone with every authenticator (the last method removed, a reset).
   */
  webauthnChallengeKey?: Uint8Array | undefined;
  /**
   * Nonces of the sign-in challenges already answered, until each challenge expires: a copy of a
   * response to one is spent, not a guess, and no challenge is answered twice.
   */
  spentChallenges?: Readonly<Record<string, number>> | undefined;
  /** A digest of the email code last consumed, bound to its session (spentEmailCodeDigest): a copy of it is spent, not a guess. */
  emailLastCodeDigest?: string | undefined;
  /** Pending email codes by first-factor session (`Actor.sessionId`): a new one replaces only its own session's. */
  emailCodes?: Readonly<Record<string, PendingEmailCode>> | undefined;
  /** Times of the last mails with a code (at most EMAIL_SENDS_PER_WINDOW), oldest first: the send limit's window. */
  emailSends?: readonly number[] | undefined;
  /** The verified address security notifications go to, recorded when the user adds a method. */
  notifyAddress?: string | undefined;
  /** Remembered browsers, oldest first (absent: none). */
  devices?: RememberedDevice[] | undefined;
  /** Pending device challenges, at most one per first-factor session. */
  deviceChallenges?: PendingDeviceChallenge[] | undefined;
  /** Stored in the shape of version 1 (one TOTP secret in top-level attributes): migrated by the next attempt. */
  legacy: boolean;
}

export const mfaEnabled = (record: MfaRecord | undefined): boolean => (record?.authenticators.length ?? 0) > 0;

export function authenticatorsOf<K extends AuthenticatorKind>(record: MfaRecord | undefined, kind: K): Extract<Authenticator, { kind: K }>[] {
  return (record?.authenticators ?? []).filter((a): a is Extract<Authenticator, { kind: K }> => a.kind === kind);
}

/** The user's remembered browsers that have not expired at `now`. */
export const activeDevices = (record: MfaRecord | undefined, now: number): RememberedDevice[] => (record?.devices ?? []).filter((device) => device.expiresAt > now);
