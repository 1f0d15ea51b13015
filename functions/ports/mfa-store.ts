import type { ChangeEvent } from '../domain/change-events.js';
import type { CountedAttempt } from '../domain/lockout.js';
import type {
  Authenticator,
  MfaRecord,
  PendingChallenge,
  PendingDeviceChallenge,
  PendingEmailCode,
  PendingEnrollment,
  RememberedDevice,
  WebAuthnAuthenticator,
} from '../domain/mfa-record.js';
import type { SessionLimits } from '../domain/sessions.js';

export type { MfaRecord } from '../domain/mfa-record.js';

/**
 * Storage of a user's MFA state. Every mutation is one conditional write: it either applies
 * whole or reports `conflict` and changes nothing, so concurrent requests and faults can
 * never leave half-applied state. A mutation's `events` are recorded in that same write
 * (the outbox), so an event exists exactly when its change committed.
 */
export type WriteResult = 'ok' | 'conflict';

/**
 * A write that also claims a key's credential id: `credential_in_use` when the user's item was
 * as expected but the credential id is held already (by another user, or by a key of this one).
 */
export type KeyWriteResult = WriteResult | 'credential_in_use';

/** The authenticators a write expects the item to hold (as read), and the credential ids of its keys. */
export interface AuthenticatorSet {
  authenticatorIds: readonly string[];
  credentialIds: readonly string[];
}

/** What proves, in a write, that the user holds a current factor; the write consumes it. */
export type Proof =
  /** A code of one of the user's apps, for a step newer than that app's last; `codeDigest` is kept to recognise a copy. */
  | { kind: 'totp'; authenticatorId: string; sealedSecret: Uint8Array; step: number; codeDigest: string }
  /** One unused recovery code (its stored hash); `digest` is kept once it is spent, to recognise a copy. */
  | { kind: 'recovery_code'; hash: string; digest: string }
  /**
   * A key's verified assertion over a challenge minted for the session (methods/webauthn/challenges.ts),
   * spent by the write: `challengeNonce` joins the spent challenges until `challengeExpiresAt`,
   * and the write must find it not there yet; `spentRead` is the map as read (undefined: none),
   * whose expired entries the write drops. The counter moves from `previousCounter`.
   */
  | {
      kind: 'webauthn';
      authenticatorId: string;
      sessionId: string;
      challengeNonce: string;
      challengeExpiresAt: number;
      spentRead: Readonly<Record<string, number>> | undefined;
      previousCounter: number;
      counter: number;
      backedUp: boolean;
    }
  /** A code of the app the session is setting up (confirming its pending enrollment). */
  | { kind: 'pending_totp'; sessionId: string; sealedSecret: Uint8Array; step: number }
  /** The email code pending for this session (its stored hash), proving the user's email method; `codeDigest` is kept once it is spent, to recognise a copy. */
  | { kind: 'email'; authenticatorId: string; sessionId: string; hash: Uint8Array; codeDigest: string }
  /** The email code pending for this session that confirms adding the email method. */
  | { kind: 'pending_email'; sessionId: string; hash: Uint8Array; address: string; proved: boolean; codeDigest: string }
  /**
   * A remembered browser's signature over its session's pending device challenge (consumed);
   * `authTime`: when a real factor was last proven on it.
   */
  | { kind: 'device'; deviceId: string; sessionId: string; challenge: string; authTime: number };

/** Another session's pending ceremony to drop (only if it is still the one read: same `createdAt`). */
export interface PendingDrop {
  sessionId: string;
  createdAt: number;
}

/**
 * The address security notices go to from a write on (`address`), and the one the caller read
 * (`read`; undefined: none): the write refuses if that changed, so that the change event can
 * tell the address it replaces (ChangeEvent.previousNotifyAddress).
 */
export interface NotifyAddressChange {
  address: string;
  read: string | undefined;
}

/** What a successful proof also does, in the same write. */
export type ProofEffect =
  | { kind: 'none' }
  | { kind: 'replace_recovery_codes'; hashes: string[] }
  /**
   * Adds an authenticator to the `authenticatorCount` the caller read (the write refuses if
   * that changed); the first one brings the account's recovery codes and needs MFA off, others
   * need a pending setup that was started with a proof.
   */
  | {
      kind: 'add_authenticator';
      authenticator: Authenticator;
      authenticatorCount: number;
      recoveryCodeHashes?: string[] | undefined;
      /** The user's verified address, for security notifications, from this write on. */
      notifyAddress?: NotifyAddressChange | undefined;
    }
  /**
   * Removes these of the `authenticatorCount` the caller read, and the uniqueness records of the
   * keys among them (`credentialIds`) in the same transaction; removing all turns MFA off and
   * deletes the recovery codes. Every remembered browser goes too (the `deviceCount` read).
   */
  | { kind: 'remove_authenticators'; ids: string[]; authenticatorCount: number; credentialIds: readonly string[]; deviceCount: number }
  /** Remembers a browser (a sign-in's proof of a real factor), forgetting `forget` (expired ones, the oldest past the limit) of the `deviceCount` read. */
  | { kind: 'remember_device'; device: RememberedDevice; forget: string[]; deviceCount: number }
  /**
   * Starts setting up one more app in the session (MFA is on, so only with a proof), replacing
   * that session's pending one; `pendingRead` is the map as read (undefined: none), from which
   * others are dropped to keep at most MAX_PENDING_PER_USER.
   */
  | { kind: 'start_totp_enrollment'; sessionId: string; pending: PendingEnrollment; pendingRead: PendingMapRead }
  /** Starts registering one more key in the session (MFA is on, so only with a proof); as above. */
  | { kind: 'start_webauthn_registration'; sessionId: string; registration: PendingChallenge; userHandle: string; pendingRead: PendingMapRead }
  /** Counts one mail with a code in the send window (`previous` as read, `next` after it). */
  | { kind: 'count_email_send'; send: EmailSend };

/** A map of pending ceremonies of one kind as read (session id -> when started and until when), or undefined when the item has none. */
export type PendingMapRead = Readonly<Record<string, { createdAt: number; expiresAt: number }>> | undefined;

/** One mail with a code, counted in the send window: the window as read, and after the send. */
export interface EmailSend {
  previous: readonly number[] | undefined;
  next: readonly number[];
}

/**
 * What must hold for an email code to be sent or stored: MFA off (adding the first method),
 * on (adding one more, after a proof), or the user's email method (a code to prove it).
 */
export type EmailCodeRequires = { mfa: 'off' } | { mfa: 'on' } | { emailAuthenticatorId: string };

/** What the operation needs of the item for an attempt to be counted at all. */
export type AttemptRequires = 'mfa-enabled' | 'pending-enrollment' | 'pending-email';

/**
 * When counting an attempt needs no decision (see domain/lockout.ts): for a guessable code, the
 * failure count is one of `failuresIn`, the failure window began after `windowStartAfter` and
 * holds fewer than `windowFailuresBelow` failures, and no lock stands; for an unguessable proof,
 * the session has an entry and the oldest check of its window and of the user's ceiling window
 * happened at or before `oldestAtMost`; the check is recorded at `at` in both (unique to the
 * attempt, so that it can be given back). `sessionId` names the session (and, for a confirmation,
 * whose pending enrollment it needs).
 */
export type QuietAttemptGuard = { requires: AttemptRequires; sessionId: string } & (
  | { lane: 'guessable'; failuresIn: readonly number[]; windowStartAfter: number; windowFailuresBelow: number }
  | { lane: 'unguessable'; oldestAtMost: number; at: number }
);

/** A change of one session's entry, applied only if it is still as read (`before`; undefined: no entry). */
export interface SessionChange {
  sessionId: string;
  before: SessionLimits | undefined;
  after: SessionLimits;
  /** Whether the item has the map of sessions at all (else the write creates it, holding only this entry). */
  mapExists: boolean;
  /** Other sessions' entries to drop (each only if still as read), to keep the map bounded. */
  drop: ReadonlyArray<{ sessionId: string; entry: SessionLimits }>;
}

/** A change of the user's ceiling window in the same write. */
export type CeilingChange =
  /** One more check at `at`, when the oldest in the window happened at or before `oldestAtMost`. */
  | { kind: 'count'; oldestAtMost: number; at: number }
  /** The whole window, replacing the one read (an earlier version's shorter window). */
  | { kind: 'replace'; before: readonly number[] | undefined; after: readonly number[] }
  /** The check at `at`, found at `index`, given back in place. */
  | { kind: 'give_back'; index: number; at: number };

/** `counted`: the attempt was counted and `record` is the item after it; else `record` is the item as found (or none). */
export interface QuietAttemptResult {
  counted: boolean;
  record?: MfaRecord | undefined;
}

/** One code check as decided by the caller, applied only if the counters are still as read. */
/** `previousWindowStart`: the failure window as read; when the attempt counts in that same window, the store adds one to it (other requests may add to it meanwhile). */
export type DecidedAttempt = { previousFailures: number; previousWindowStart?: number | undefined } & CountedAttempt;

export interface MfaStore {
  get(userId: string): Promise<MfaRecord | undefined>;

  /**
   * Reads and counts an attempt in one write when the guard holds (the common case). When it
   * does not, nothing is written and the record comes back as found, for the caller to decide
   * and count through countDecidedAttempt.
   */
  countQuietAttempt(userId: string, guard: QuietAttemptGuard, now: number): Promise<QuietAttemptResult>;

  /**
   * Records one code check as the caller decided it (it may start a lock). Called for every
   * guessable attempt the quiet write could not count, before it is evaluated, so that nothing
   * is ever evaluated uncounted. Conflict when another request counted first, or a lock stands.
   */
  countDecidedAttempt(userId: string, attempt: DecidedAttempt, now: number): Promise<WriteResult>;

  /**
   * Changes one session's entry (and the ceiling window) as the caller decided: counting a
   * recovery-code or key check the quiet write could not (a session's first, an earlier
   * version's item), or giving back a copy of a right proof. Conflict, with the item as found,
   * when the entry (or the ceiling slot) is no longer as read.
   */
  changeSession(
    userId: string,
    session: SessionChange,
    ceiling: CeilingChange | undefined,
    now: number,
    events?: readonly ChangeEvent[],
  ): Promise<{ result: WriteResult; record?: MfaRecord | undefined }>;

  /**
   * Gives back a counted code check that turned out to be a right code already spent (a double
   * click, a client's retry): it was no guess, and it never touches the user's lock. Best
   * effort, never below zero; the lock this very check started goes with it.
   */
  refundCodeAttempt(userId: string, counted: CountedAttempt, now: number): Promise<void>;

  /**
   * Counts `extra` more failures in the failure window that began at `windowStart`: a wrong code
   * checked against several apps was one chance per app, so that the window's cap bounds the
   * chances, not the requests. Nothing when that window has ended meanwhile; the window's lock
   * then starts with the next count (countDecidedAttempt), as for any window that is full.
   */
  chargeCodeChecks(userId: string, windowStart: number, extra: number, now: number): Promise<void>;

  /** Records `events` (the lock's start) only while the lock ending at `lockedUntil` still stands as committed; conflict otherwise. */
  confirmLockout(userId: string, lockedUntil: number, now: number, events: readonly ChangeEvent[]): Promise<WriteResult>;

  /** Records `events` (the ceiling reached) and the report's time, if the last report is still `reportedAt` as read. */
  reportCeiling(userId: string, reportedAt: number | undefined, now: number, events: readonly ChangeEvent[]): Promise<WriteResult>;

  /**
   * Consumes the proof, applies the effect and, for a code, resets the failure count, in one
   * write. Conflict when the proof is no longer valid (replayed, already used, challenge spent,
   * counter moved, secret changed) or the effect no longer applies. A lock does not refuse it:
   * the attempt was counted while no lock stood, and counting is what the lock limits.
   */
  commitProof(userId: string, proof: Proof, effect: ProofEffect, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /**
   * Stores (or replaces) the session's pending TOTP enrollment, dropping others past
   * MAX_PENDING_PER_USER; conflict when MFA is on (that needs commitProof).
   */
  putPendingEnrollment(userId: string, sessionId: string, pending: PendingEnrollment, now: number): Promise<WriteResult>;

  /**
   * Stores (or replaces) the session's pending key registration, dropping others past
   * MAX_PENDING_PER_USER, keeping the user's handle or setting `newUserHandle` when there is
   * none, and returns the handle stored; conflict when MFA is on.
   */
  putRegistration(
    userId: string,
    sessionId: string,
    registration: PendingChallenge,
    newUserHandle: string,
    now: number,
  ): Promise<{ result: WriteResult; userHandle?: string | undefined }>;

  /**
   * Records a key sign-in challenge handed to a session: the session's entry with the
   * challenge's expiry (`session`; made when the session has none, so that the answer's check
   * counts in one write), and the user's challenge key it was minted under (`challengeKey`:
   * stored when `made`, the item having none yet; else it must still be the stored one).
   * Conflict unless MFA is on and the item is still as read.
   */
  recordKeyChallenge(userId: string, input: { challengeKey: { value: Uint8Array; made: boolean }; session: SessionChange }, now: number): Promise<WriteResult>;

  /**
   * Adds a key whose registration answered the session's pending challenge, consuming it, with
   * the first recovery-code set when it is the first authenticator, and claims its credential id
   * (a uniqueness record in the same transaction). Conflict unless that challenge is still
   * pending and the authenticator count is still `authenticatorCount`; `credential_in_use` when
   * the credential id is held already.
   */
  addRegisteredKey(
    userId: string,
    input: {
      sessionId: string;
      challenge: string;
      authenticator: WebAuthnAuthenticator;
      authenticatorCount: number;
      proved: boolean;
      recoveryCodeHashes?: string[] | undefined;
      notifyAddress?: NotifyAddressChange | undefined;
    },
    now: number,
    events?: readonly ChangeEvent[],
  ): Promise<KeyWriteResult>;

  /**
   * Stores the session's pending device challenge (replacing its previous one) and drops the
   * pending challenges of the `drop` sessions, on the `pendingCount` pending challenges read;
   * conflict unless the device is still remembered for that app and not expired.
   */
  putDeviceChallenge(userId: string, input: { pending: PendingDeviceChallenge; drop: readonly string[]; pendingCount: number }, now: number): Promise<WriteResult>;

  /**
   * Forgets these remembered browsers (all of them, and every pending device challenge, when
   * `ids` is every one of the `deviceCount` read). Conflict when one of them is gone or the count changed.
   */
  forgetDevices(userId: string, ids: readonly string[], deviceCount: number, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /** Counts one mail with a code in the send window, when it is still as read and `requires` holds. */
  countEmailSend(userId: string, send: EmailSend, requires: EmailCodeRequires, now: number): Promise<WriteResult>;

  /** Gives back a counted send whose mail could not be sent (best effort: only if the window is still as written). */
  refundEmailSend(userId: string, send: EmailSend, now: number): Promise<void>;

  /**
   * Stores the code pending for one session, replacing that session's (and only its) code, and
   * drops the `expired` ones read. `mapExists`: whether the item held pending codes when read.
   * Conflict when that changed or `requires` does not hold.
   */
  putEmailCode(
    userId: string,
    input: { sessionId: string; code: PendingEmailCode; expired: readonly string[]; mapExists: boolean; requires: EmailCodeRequires },
    now: number,
  ): Promise<WriteResult>;

  /** Renames one authenticator; conflict when it does not exist. */
  renameAuthenticator(userId: string, authenticatorId: string, name: string, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /**
   * An operator's reset: removes every authenticator, recovery code, pending enrollment and
   * challenge, remembered browser, and clears the lockout and rate-limit counters, so that the
   * user enrolls afresh; the keys' uniqueness records go in the same transaction. Conflict when
   * the user has no item, when its authenticators are no longer `found`, or (with `deviceCount`)
   * when the number of remembered browsers is no longer the one read (read them again).
   */
  resetMfa(userId: string, now: number, events: readonly ChangeEvent[], found: AuthenticatorSet, deviceCount?: number): Promise<WriteResult>;

  /**
   * Records change events that come with no change of state (a security signal, such as a
   * suspected cloned key) in a write of their own. Conflict when the user has no item.
   */
  recordEvents(userId: string, now: number, events: readonly ChangeEvent[]): Promise<WriteResult>;

  /** An operator's unlock: clears the lock and the attempt counters only. Conflict when the user has no item. */
  clearLock(userId: string, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /** Rewrites an item stored in version 1's shape (`record.legacy`) in today's; conflict when it changed since read. */
  migrateLegacy(record: MfaRecord, now: number): Promise<WriteResult>;
}
