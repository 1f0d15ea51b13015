import type { ChangeEvent } from '../domain/change-events.js';
import type { CountedAttempt } from '../domain/lockout.js';
import type { Authenticator, MfaRecord, PendingChallenge, PendingEmailCode, PendingEnrollment } from '../domain/mfa-record.js';

export type { MfaRecord } from '../domain/mfa-record.js';

/**
 * Storage of a user's MFA state. Every mutation is one conditional write: it either applies
 * whole or reports `conflict` and changes nothing, so concurrent requests and faults can
 * never leave half-applied state. A mutation's `events` are recorded in that same write
 * (the outbox), so an event exists exactly when its change committed.
 */
export type WriteResult = 'ok' | 'conflict';

/** What proves, in a write, that the user holds a current factor; the write consumes it. */
export type Proof =
  /** A code of one of the user's apps, for a step newer than that app's last. */
  | { kind: 'totp'; authenticatorId: string; sealedSecret: Uint8Array; step: number }
  /** One unused recovery code (its stored hash). */
  | { kind: 'recovery_code'; hash: string }
  /** A key's verified assertion over the pending challenge; the counter moves from `previousCounter`. */
  | { kind: 'webauthn'; authenticatorId: string; challenge: string; previousCounter: number; counter: number; backedUp: boolean }
  /** A code of the app being set up (confirming a pending enrollment). */
  | { kind: 'pending_totp'; sealedSecret: Uint8Array; step: number }
  /** The email code pending for this session (its stored hash), proving the user's email method. */
  | { kind: 'email'; authenticatorId: string; sessionId: string; hash: Uint8Array }
  /** The email code pending for this session that confirms adding the email method. */
  | { kind: 'pending_email'; sessionId: string; hash: Uint8Array; address: string; proved: boolean };

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
      /** The user's verified address, for security notifications. */
      notifyAddress?: string | undefined;
    }
  /** Removes these of the `authenticatorCount` the caller read; removing all turns MFA off and deletes the recovery codes. */
  | { kind: 'remove_authenticators'; ids: string[]; authenticatorCount: number }
  /** Starts setting up one more app (MFA is on, so only with a proof). */
  | { kind: 'start_totp_enrollment'; pending: PendingEnrollment }
  /** Starts registering one more key (MFA is on, so only with a proof). */
  | { kind: 'start_webauthn_registration'; registration: PendingChallenge; userHandle: string }
  /** Counts one mail with a code in the send window (`previous` as read, `next` after it). */
  | { kind: 'count_email_send'; send: EmailSend };

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
 * When counting an attempt needs no decision (see domain/lockout.ts): for a code, the failure
 * count is one of `failuresIn`, the failure window began after `windowStartAfter` and holds
 * fewer than `windowFailuresBelow` failures, and no lock stands; for a recovery code or key,
 * the oldest of the last checks in the sliding window happened at or before `oldestAtMost`; the
 * check is recorded at `at` (unique to the attempt, so that it can be given back).
 */
export type QuietAttemptGuard = { requires: AttemptRequires } & (
  | { lane: 'code'; failuresIn: readonly number[]; windowStartAfter: number; windowFailuresBelow: number }
  | { lane: 'proof'; oldestAtMost: number; at: number }
);

/** `counted`: the attempt was counted and `record` is the item after it; else `record` is the item as found (or none). */
export interface QuietAttemptResult {
  counted: boolean;
  record?: MfaRecord | undefined;
}

/** One attempt as decided by the caller, applied only if the counters are still as read. */
export type DecidedAttempt =
  | ({ lane: 'code'; previousFailures: number } & CountedAttempt)
  /** Only for an item that has no rate window yet (one written by version 1): starts it. */
  | { lane: 'proof'; proofTimes: number[] };

export interface MfaStore {
  get(userId: string): Promise<MfaRecord | undefined>;

  /**
   * Reads and counts an attempt in one write when the guard holds (the common case). When it
   * does not, nothing is written and the record comes back as found, for the caller to decide
   * and count through countDecidedAttempt.
   */
  countQuietAttempt(userId: string, guard: QuietAttemptGuard, now: number): Promise<QuietAttemptResult>;

  /**
   * Records one attempt as the caller decided it (a code check may start a lock). Called for
   * every attempt before it is evaluated, so that nothing is ever evaluated uncounted. Conflict
   * when another request counted first, or (for a code) a lock stands.
   */
  countDecidedAttempt(userId: string, attempt: DecidedAttempt, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /**
   * Gives back a counted code check that turned out to be a right code already spent (a double
   * click, a client's retry): it was no guess. Best effort, never below zero. The `events`
   * (the replayed-code signal) are recorded by whichever of its writes applies, and by a write
   * of their own when none does.
   */
  refundCodeAttempt(userId: string, counted: CountedAttempt, now: number, events?: readonly ChangeEvent[]): Promise<void>;

  /**
   * Gives back a counted recovery-code or key check, recorded at `at`, that turned out to be a
   * right proof already spent: its time leaves the sliding window and a free slot (0) takes the
   * oldest place, so the next check may count at once. `known` is the window as last read (to
   * find the slot without a read). Best effort: nothing when the time has left the window. The
   * `events` are recorded by its write, or by one of their own when there is nothing to give back.
   */
  refundProofAttempt(userId: string, at: number, now: number, known?: readonly number[], events?: readonly ChangeEvent[]): Promise<void>;

  /**
   * Consumes the proof, applies the effect and, for a code, resets the failure count, in one
   * write. Conflict when the proof is no longer valid (replayed, already used, challenge spent,
   * counter moved, secret changed) or the effect no longer applies. A lock does not refuse it:
   * the attempt was counted while no lock stood, and counting is what the lock limits.
   */
  commitProof(userId: string, proof: Proof, effect: ProofEffect, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /** Stores (or replaces) a pending TOTP enrollment; conflict when MFA is on (that needs commitProof). */
  putPendingEnrollment(userId: string, pending: PendingEnrollment, now: number): Promise<WriteResult>;

  /**
   * Stores (or replaces) a pending key registration, keeping the user's handle or setting
   * `newUserHandle` when there is none, and returns the handle stored; conflict when MFA is on.
   */
  putRegistration(userId: string, registration: PendingChallenge, newUserHandle: string, now: number): Promise<{ result: WriteResult; userHandle?: string | undefined }>;

  /** Stores (or replaces) the pending authentication challenge; conflict unless MFA is on. */
  putAuthenticationChallenge(userId: string, challenge: PendingChallenge, now: number): Promise<WriteResult>;

  /**
   * Adds a key whose registration answered the pending challenge, consuming it, with the first
   * recovery-code set when it is the first authenticator. Conflict unless that challenge is
   * still pending and the authenticator count is still `authenticatorCount`.
   */
  addRegisteredKey(
    userId: string,
    input: {
      challenge: string;
      authenticator: Authenticator;
      authenticatorCount: number;
      proved: boolean;
      recoveryCodeHashes?: string[] | undefined;
      notifyAddress?: string | undefined;
    },
    now: number,
    events?: readonly ChangeEvent[],
  ): Promise<WriteResult>;

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
   * challenge, and clears the lockout and rate-limit counters, so that the user enrolls afresh.
   * Conflict when the user has no item.
   */
  resetMfa(userId: string, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /** An operator's unlock: clears the lock and the attempt counters only. Conflict when the user has no item. */
  clearLock(userId: string, now: number, events?: readonly ChangeEvent[]): Promise<WriteResult>;

  /** Rewrites an item stored in version 1's shape (`record.legacy`) in today's; conflict when it changed since read. */
  migrateLegacy(record: MfaRecord, now: number): Promise<WriteResult>;
}
