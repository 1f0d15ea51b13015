import type { CountedAttempt } from '../domain/lockout.js';

/**
 * Storage of a user's MFA state. Every mutation is one conditional write: it either
 * applies whole or reports `conflict` and changes nothing, so concurrent requests and
 * faults can never leave half-applied state.
 */
export interface PendingEnrollment {
  sealedSecret: Uint8Array;
  expiresAt: number;
}

export interface ActiveTotp {
  sealedSecret: Uint8Array;
  enabledAt: number;
  lastUsedAt?: number | undefined;
  /** The newest accepted time step; a code is accepted only for a newer one. */
  lastStep: number;
}

export interface MfaRecord {
  userId: string;
  pending?: PendingEnrollment | undefined;
  totp?: ActiveTotp | undefined;
  /** Encoded hashes of the unused recovery codes. */
  recoveryCodeHashes: string[];
  failures: number;
  lockedUntil?: number | undefined;
  windowStart?: number | undefined;
  windowFailures?: number | undefined;
}

/** What proves the user holds a second factor in a write. */
export type Proof =
  | { kind: 'totp'; sealedSecret: Uint8Array; step: number }
  | { kind: 'recovery_code'; hash: string };

/** What a successful proof also does, in the same write. */
export type ProofEffect =
  | { kind: 'none' }
  | { kind: 'replace_recovery_codes'; hashes: string[] }
  | { kind: 'disable' };

export type WriteResult = 'ok' | 'conflict';

/**
 * When counting an attempt needs no decision: the failure count is one of `failuresIn` (one
 * more starts no lock), the failure window began after `windowStartAfter` and holds fewer than
 * `windowFailuresBelow` failures, no lock stands, and the operation applies to the item.
 */
export interface QuietAttemptGuard {
  failuresIn: readonly number[];
  windowStartAfter: number;
  windowFailuresBelow: number;
  /** What the operation checks a code against: an active TOTP, or a pending, unexpired enrollment. */
  requires: 'totp' | 'pending-enrollment';
}

/** `counted`: the attempt was counted and `record` is the item after it; else `record` is the item as found (or none). */
export interface QuietAttemptResult {
  counted: boolean;
  record?: MfaRecord | undefined;
}

export interface MfaStore {
  get(userId: string): Promise<MfaRecord | undefined>;

  /**
   * Reads and counts an attempt in one write when the guard holds (the common case: no lock
   * starts, no window turns over). When it does not, nothing is written and the record comes
   * back as found, for the caller to decide and count through recordFailure.
   */
  countQuietAttempt(userId: string, guard: QuietAttemptGuard, now: number): Promise<QuietAttemptResult>;

  /** Stores (or replaces) the pending enrollment; conflict when TOTP is already enabled. */
  putPendingEnrollment(userId: string, pending: PendingEnrollment, now: number): Promise<WriteResult>;

  /**
   * Turns the pending enrollment into the active TOTP method, records `step` as used,
   * resets failures and, when given, stores the first recovery-code set: all in one write.
   * Conflict unless that same enrollment is still pending and TOTP is off.
   */
  enableTotp(
    userId: string,
    input: { pendingSealedSecret: Uint8Array; step: number; recoveryCodeHashes?: string[] | undefined },
    now: number,
  ): Promise<WriteResult>;

  /**
   * Consumes the proof (a TOTP step newer than the last, or one unused recovery code), resets
   * failures and applies the effect, in one write. Conflict when the proof is no longer valid
   * (replayed, already used, secret changed). A lock does not refuse it: the proof's attempt
   * was recorded (recordFailure) while no lock stood, and recording is what the lock limits.
   */
  commitProof(userId: string, proof: Proof, effect: ProofEffect, now: number): Promise<WriteResult>;

  /**
   * Records one failure, optionally starting a lock. Called for every attempt before its code
   * is evaluated (a right code then resets the count as it commits), so that no code is ever
   * evaluated uncounted. Applies only when the stored count is still `previousFailures` and no
   * lock is active: conflict when another request counted first or a lock stands.
   */
  recordFailure(userId: string, input: { previousFailures: number } & CountedAttempt, now: number): Promise<WriteResult>;
}
