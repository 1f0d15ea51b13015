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
 */
export const LOCKOUT_THRESHOLD = 5;
export const BASE_LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 15 * 60_000;
export const HARD_LOCK_FAILURES = 100;
/** Stored as the lock's end for a hard lock: the largest valid JavaScript date. */
export const HARD_LOCK_UNTIL = 8_640_000_000_000_000;
/** What Retry-After says during a hard lock: look again in a day. */
export const HARD_LOCK_RETRY_AFTER_SECONDS = 86_400;

export interface LockoutState {
  failures: number;
  lockedUntil?: number | undefined;
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
