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
 *   real user signs in. A wrong code checked against several apps counts once per app in the
 *   window (each was a chance), so the window bounds the chances, not the requests. Then the lock lasts until the window ends: there is no lock that never
 *   ends, so a password thief cannot lock the real user out for good.
 * - A success resets the consecutive count.
 *
 * Recovery codes (80 bits) and security keys (signatures) cannot be guessed (NIST SP 800-63B-4
 * asks for rate limiting only below 64 bits of entropy). A code lockout never refuses them, and
 * their failures do not count toward it. Their limit is against cost (each recovery-code check
 * runs the KDF) and is kept per first-factor session (domain/sessions.ts): at most
 * PROOF_ATTEMPTS_PER_WINDOW checks in any PROOF_WINDOW_MS per session, so that a password holder's
 * session never spends the real user's; and at most USER_PROOF_CEILING per user in the same
 * window, a cost bound that only that many separate sessions together can reach.
 */
export const LOCKOUT_THRESHOLD = 5;
export const BASE_LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 15 * 60_000;
export const FAILURE_WINDOW_MS = 24 * 3600_000;
/** 100 x 3 accepted codes / 10^6 = 3 x 10^-4 per window, under the 1 in 1,000 a day we promise. */
export const DAILY_FAILURE_CAP = 100;

export const PROOF_WINDOW_MS = 60_000;
/** Recovery-code and key checks per session in any PROOF_WINDOW_MS. */
export const PROOF_ATTEMPTS_PER_WINDOW = 10;
/** Recovery-code and key checks per user, all sessions together, in any PROOF_WINDOW_MS: ten sessions' worth. */
export const USER_PROOF_CEILING = 10 * PROOF_ATTEMPTS_PER_WINDOW;

/**
 * The two lanes of counting. `guessable`: a proof short enough to guess (an app's code), counted
 * per user and locked (the lockout above). `unguessable`: a proof no one can guess (a recovery
 * code, a key's signature), limited per session against cost and never locked.
 */
export type AttemptLane = 'guessable' | 'unguessable';

export interface LockoutState {
  failures: number;
  lockedUntil?: number | undefined;
  /** When the current failure window began, and the failures counted in it. */
  windowStart?: number | undefined;
  windowFailures?: number | undefined;
}

/** The times of the user's last USER_PROOF_CEILING recovery-code or key checks, oldest first (0 for none): the ceiling's sliding window. */
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

/** A sliding window of `size` slots, all free (0). */
export const freeSlots = (size: number): number[] => Array.from({ length: size }, () => 0);

/** No attempts yet: a session's sliding window, all free. */
export const NO_PROOF_ATTEMPTS: readonly number[] = freeSlots(PROOF_ATTEMPTS_PER_WINDOW);
/** No attempts yet: the user's ceiling window, all free. */
export const NO_CEILING_ATTEMPTS: readonly number[] = freeSlots(USER_PROOF_CEILING);

/**
 * Seconds until a sliding window of times (oldest first, one slot per allowed event) has room
 * again, or 0 when it has room now: free once its oldest time is PROOF_WINDOW_MS old.
 */
export function windowRetryAfterSeconds(times: readonly number[], nowMs: number): number {
  const oldest = times[0] ?? 0;
  return oldest > nowMs - PROOF_WINDOW_MS ? Math.max(1, Math.ceil((oldest + PROOF_WINDOW_MS - nowMs) / 1000)) : 0;
}

/** The window after one more event at `nowMs`: the newest goes in at the end, the oldest comes out. */
export function slideWindow(times: readonly number[], nowMs: number): number[] {
  return [...times.slice(1), nowMs];
}

/** Seconds until another check may be counted in a session's window (`proofTimes`), or 0. */
export function proofRetryAfterSeconds(state: ProofRateState, nowMs: number): number {
  return windowRetryAfterSeconds(state.proofTimes ?? NO_PROOF_ATTEMPTS, nowMs);
}

/** A session's window after counting one more check at `nowMs`. */
export function countProofAttempt(state: ProofRateState, nowMs: number): number[] {
  return slideWindow(state.proofTimes ?? NO_PROOF_ATTEMPTS, nowMs);
}

/**
 * The user's ceiling window as stored, in today's length: an item of an earlier version kept
 * ten slots; its times carry over (newest last) and the rest are free.
 */
export function ceilingWindowOf(stored: readonly number[] | undefined): number[] {
  if (stored?.length === USER_PROOF_CEILING) return [...stored];
  const kept = (stored ?? []).slice(-USER_PROOF_CEILING);
  return [...freeSlots(USER_PROOF_CEILING - kept.length), ...kept];
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
 * (The shared ceiling window, written by every session at once, is given back in place instead:
 * its slot turns free where it is, and becomes usable when it reaches the front.)
 */
export function refundProofAttempt(times: readonly number[], at: number): number[] | null {
  const index = times.indexOf(at);
  return index < 0 ? null : [0, ...times.slice(0, index), ...times.slice(index + 1)];
}
