/**
 * Lockout policy for failed code checks, counted per user across every code-checking
 * operation (TOTP and recovery codes alike).
 *
 * - Every LOCKOUT_THRESHOLD consecutive failures start a lockout; during it every attempt,
 *   right or wrong, is refused without being evaluated.
 * - The first lockout lasts BASE_LOCKOUT_MS and each further one doubles, up to MAX_LOCKOUT_MS.
 * - At HARD_LOCK_FAILURES consecutive failures (NIST SP 800-63B's cap of 100) the lock no
 *   longer expires: an operator must reset it.
 * - A success resets the count.
 * - Besides, at most DAILY_FAILURE_CAP failures count in any failure window of 24 h, and a
 *   success does not give them back: a victim who signs in every hour would otherwise hand an
 *   attacker who holds the password a fresh 100 guesses each time.
 */
export const LOCKOUT_THRESHOLD = 5;
export const BASE_LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 15 * 60_000;
export const HARD_LOCK_FAILURES = 100;
/** Stored as the lock's end for a hard lock: the largest valid JavaScript date. */
export const HARD_LOCK_UNTIL = 8_640_000_000_000_000;
/** What Retry-After says during a hard lock: look again in a day. */
export const HARD_LOCK_RETRY_AFTER_SECONDS = 86_400;
export const FAILURE_WINDOW_MS = 24 * 3600_000;
/** 100 x 3 accepted codes / 10^6 = 3 x 10^-4 per window, under the 1 in 1,000 a day we promise. */
export const DAILY_FAILURE_CAP = 100;

export interface LockoutState {
  failures: number;
  lockedUntil?: number | undefined;
  /** When the current failure window began, and the failures counted in it. */
  windowStart?: number | undefined;
  windowFailures?: number | undefined;
}

/** What counting one more attempt writes, before its code is evaluated. */
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
  if (state.lockedUntil >= HARD_LOCK_UNTIL) return HARD_LOCK_RETRY_AFTER_SECONDS;
  return Math.max(1, Math.ceil((state.lockedUntil - nowMs) / 1000));
}

export function lockoutDurationMs(failures: number): number {
  const lockoutNumber = Math.floor(failures / LOCKOUT_THRESHOLD);
  return Math.min(BASE_LOCKOUT_MS * 2 ** (lockoutNumber - 1), MAX_LOCKOUT_MS);
}

/** The lock that recording one more failure imposes, if any. */
export function lockAfterFailure(failuresAfter: number, nowMs: number): number | undefined {
  if (failuresAfter >= HARD_LOCK_FAILURES) return HARD_LOCK_UNTIL;
  if (failuresAfter % LOCKOUT_THRESHOLD !== 0) return undefined;
  return nowMs + lockoutDurationMs(failuresAfter);
}

/**
 * Counts one attempt as a failure (a success gives it back by resetting `failures` and
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

/**
 * The conditions under which counting one more attempt is plain arithmetic, decided by no
 * one: countAttempt would start no lock and keep the current window. The store can then count
 * in the same write that reads the record, instead of a read followed by a conditional write.
 */
export function quietAttemptGuard(nowMs: number): { failuresIn: number[]; windowStartAfter: number; windowFailuresBelow: number } {
  const failuresIn = Array.from({ length: HARD_LOCK_FAILURES - 1 }, (_, failures) => failures).filter(
    (failures) => lockAfterFailure(failures + 1, nowMs) === undefined,
  );
  return { failuresIn, windowStartAfter: nowMs - FAILURE_WINDOW_MS, windowFailuresBelow: DAILY_FAILURE_CAP - 1 };
}
