/**
 * Attempt limits, by kind of proof.
 *
 * Codes from an authenticator app can be guessed (3 accepted codes in a million per try), so
 * their checks are counted per user and locked:
 * - Every LOCKOUT_THRESHOLD consecutive failures start a lockout; during it every code check,
 *   right or wrong, is refused without being evaluated.
 * - The first lockout lasts BASE_LOCKOUT_MS and each further one doubles, up to MAX_LOCKOUT_MS.
 * - At most DAILY_FAILURE_CAP failures count in any failure window of 24 h, and a success does
 *   not give them back: a guesser gets at most 100 tries a day (P <= 3e-4) however often the
 *   real user signs in. Then the lock lasts until the window ends: there is no lock that never
 *   ends, so a password thief cannot lock the real user out for good.
 * - A success resets the consecutive count.
 *
 * Recovery codes (80 bits) and security keys (signatures) cannot be guessed (NIST SP 800-63B-4
 * asks for rate limiting only below 64 bits of entropy). A code lockout never refuses them, and
 * their failures do not count toward it. They have their own per-user limit against cost (each
 * recovery-code check runs the KDF): at most PROOF_ATTEMPTS_PER_WINDOW attempts in any PROOF_WINDOW_MS.
 */
export const LOCKOUT_THRESHOLD = 5;
export const BASE_LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 15 * 60_000;
export const FAILURE_WINDOW_MS = 24 * 3600_000;
/** 100 x 3 accepted codes / 10^6 = 3 x 10^-4 per window, under the 1 in 1,000 a day we promise. */
export const DAILY_FAILURE_CAP = 100;

export const PROOF_WINDOW_MS = 60_000;
export const PROOF_ATTEMPTS_PER_WINDOW = 10;

/** The two lanes of counting: guessable codes, and proofs that cannot be guessed. */
export type AttemptLane = 'code' | 'proof';

export interface LockoutState {
  failures: number;
  lockedUntil?: number | undefined;
  /** When the current failure window began, and the failures counted in it. */
  windowStart?: number | undefined;
  windowFailures?: number | undefined;
}

/** The times of the last PROOF_ATTEMPTS_PER_WINDOW recovery-code or key checks, oldest first (0 for none). */
export interface ProofRateState {
  proofTimes?: readonly number[] | undefined;
}

/** What counting one more code check writes, before its code is evaluated. */
export interface CountedAttempt {
  failures: number;
  lockedUntil?: number | undefined;
  windowStart: number;
  windowFailures: number;
}

export function isLocked(state: LockoutState, nowMs: number): boolean {
  return state.lockedUntil !== undefined && state.lockedUntil > nowMs;
}

export function retryAfterSeconds(state: LockoutState, nowMs: number): number {
  if (state.lockedUntil === undefined) return 0;
  return Math.max(1, Math.ceil((state.lockedUntil - nowMs) / 1000));
}

export function lockoutDurationMs(failures: number): number {
  const lockoutNumber = Math.floor(failures / LOCKOUT_THRESHOLD);
  return Math.min(BASE_LOCKOUT_MS * 2 ** (lockoutNumber - 1), MAX_LOCKOUT_MS);
}

/** The lock that recording one more failure imposes, if any. */
export function lockAfterFailure(failuresAfter: number, nowMs: number): number | undefined {
  if (failuresAfter % LOCKOUT_THRESHOLD !== 0) return undefined;
  return nowMs + lockoutDurationMs(failuresAfter);
}

/**
 * Counts one code check as a failure (a success gives it back by resetting `failures` and
 * decrementing `windowFailures`), with the lock it starts: the consecutive-failure lock, or
 * the end of the failure window once DAILY_FAILURE_CAP is reached, whichever is later.
 */
export function countAttempt(state: LockoutState, nowMs: number): CountedAttempt {
  const fresh = state.windowStart === undefined || nowMs - state.windowStart >= FAILURE_WINDOW_MS;
  const windowStart = fresh ? nowMs : state.windowStart!;
  const windowFailures = (fresh ? 0 : Math.max(0, state.windowFailures ?? 0)) + 1;
  const failures = state.failures + 1;
  const locks = [lockAfterFailure(failures, nowMs), windowFailures >= DAILY_FAILURE_CAP ? windowStart + FAILURE_WINDOW_MS : undefined];
  const lockedUntil = Math.max(...locks.map((lock) => lock ?? -Infinity));
  return { failures, windowStart, windowFailures, lockedUntil: Number.isFinite(lockedUntil) ? lockedUntil : undefined };
}

/** The largest consecutive-failure count the one-write path handles (DynamoDB's IN takes 100 values). */
const QUIET_FAILURES_LIMIT = 99;

/**
 * The conditions under which counting one more code check is plain arithmetic, decided by no
 * one: countAttempt would start no lock and keep the current window. The store can then count
 * in the same write that reads the record, instead of a read followed by a conditional write.
 */
export function quietAttemptGuard(nowMs: number): { failuresIn: number[]; windowStartAfter: number; windowFailuresBelow: number } {
  const failuresIn = Array.from({ length: QUIET_FAILURES_LIMIT }, (_, failures) => failures).filter(
    (failures) => lockAfterFailure(failures + 1, nowMs) === undefined,
  );
  return { failuresIn, windowStartAfter: nowMs - FAILURE_WINDOW_MS, windowFailuresBelow: DAILY_FAILURE_CAP - 1 };
}

/** No attempts yet: the sliding window's slots, all free. */
export const NO_PROOF_ATTEMPTS: readonly number[] = Array.from({ length: PROOF_ATTEMPTS_PER_WINDOW }, () => 0);

/**
 * Seconds until another recovery-code or key check may be counted, or 0 when one may be now: a
 * sliding window, free once the oldest of the last PROOF_ATTEMPTS_PER_WINDOW checks is a window old.
 */
export function proofRetryAfterSeconds(state: ProofRateState, nowMs: number): number {
  const oldest = (state.proofTimes ?? NO_PROOF_ATTEMPTS)[0] ?? 0;
  return oldest > nowMs - PROOF_WINDOW_MS ? Math.max(1, Math.ceil((oldest + PROOF_WINDOW_MS - nowMs) / 1000)) : 0;
}

/** The window after counting one more check at `nowMs`. */
export function countProofAttempt(state: ProofRateState, nowMs: number): number[] {
  return [...(state.proofTimes ?? NO_PROOF_ATTEMPTS).slice(1), nowMs];
}

/** When counting one more check is allowed: the oldest of the last checks began before `oldestAtMost`. */
export function quietProofGuard(nowMs: number): { oldestAtMost: number } {
  return { oldestAtMost: nowMs - PROOF_WINDOW_MS };
}

/** Fractions of a millisecond a check's time may carry: multiples of 2^-12 stay exact in a double of today's epoch milliseconds. */
export const PROOF_TIME_FRACTIONS = 4096;

/**
 * The time a check is recorded at: `nowMs` less `fraction` (1 to PROOF_TIME_FRACTIONS - 1) parts
 * of PROOF_TIME_FRACTIONS of a millisecond, so that checks counted in the same millisecond are
 * told apart and one can be given back. Less, not more: the wait it implies never rounds up a second.
 */
export function proofAttemptTime(nowMs: number, fraction: number): number {
  return nowMs - fraction / PROOF_TIME_FRACTIONS;
}

/**
 * The window with the check recorded at `at` given back: it leaves, and a free slot takes the
 * oldest place (the first slot decides whether the next check may count). Null when `at` is not in it.
 */
export function refundProofAttempt(times: readonly number[], at: number): number[] | null {
  const index = times.indexOf(at);
  return index < 0 ? null : [0, ...times.slice(0, index), ...times.slice(index + 1)];
}
