import { freeSlots, PROOF_ATTEMPTS_PER_WINDOW, PROOF_WINDOW_MS, slideWindow, windowRetryAfterSeconds, refundProofAttempt } from './lockout.js';

/**
 * What the service keeps per first-factor session (`Actor.sessionId`) in the user's item, so that
 * one session (a password holder's) can never spend another's allowances:
 * - `proofTimes`: the last PROOF_ATTEMPTS_PER_WINDOW recovery-code and key checks (the cost limit);
 * - `refundTimes`: the last REFUNDS_PER_WINDOW copies of a right proof given back (a double click,
 *   a retry): beyond them, the session's copies are refused 429 and given nothing;
 * - `replayEvents`: when a `code.replay_refused` event was last published for a spent proof (by a
 *   short digest of it), so that a proof replayed in a loop yields at most one event a minute;
 * - `keyChallengeExpiresAt`: the expiry of the last key sign-in challenge handed to the session: a
 *   challenge of the session that expires earlier was replaced by it and is no longer answered.
 */
export interface SessionLimits {
  proofTimes: number[];
  refundTimes: number[];
  replayEvents: Record<string, number>;
  keyChallengeExpiresAt?: number | undefined;
}

/** Copies of a right proof given back per session in any PROOF_WINDOW_MS. */
export const REFUNDS_PER_WINDOW = 10;
/**
 * Session entries an item keeps. A session past them (an attacker opening sessions by the
 * thousand) makes room by dropping idle entries first, then the least recently active: the item
 * stays bounded (each entry is well under 1 KB), and the per-user ceiling still bounds the checks
 * of all sessions together, kept or dropped.
 */
export const MAX_SESSION_ENTRIES = 32;

export const freshSession = (): SessionLimits => ({ proofTimes: freeSlots(PROOF_ATTEMPTS_PER_WINDOW), refundTimes: freeSlots(REFUNDS_PER_WINDOW), replayEvents: {} });

/** The session's entry after counting one more check at `at`. */
export function sessionWithCheck(entry: SessionLimits | undefined, at: number): SessionLimits {
  const current = entry ?? freshSession();
  return { ...current, proofTimes: slideWindow(current.proofTimes, at) };
}

/** The session's entry with its check at `at` taken back (a free slot again), or null when the window does not hold it. */
export function sessionWithoutCheck(entry: SessionLimits, at: number): SessionLimits | null {
  const proofTimes = refundProofAttempt(entry.proofTimes, at);
  return proofTimes ? { ...entry, proofTimes } : null;
}

/** Seconds until the session may have another recovery-code or key check counted, or 0. */
export const sessionRetryAfterSeconds = (entry: SessionLimits | undefined, nowMs: number): number =>
  entry ? windowRetryAfterSeconds(entry.proofTimes, nowMs) : 0;

export type RefundDecision =
  /** Give the copy back; publish a `code.replay_refused` event with it when `event`. */
  | { entry: SessionLimits; event: boolean }
  /** The session has had its refunds for the window: refuse the copy (429) and give nothing back. */
  | { retryAfterSeconds: number };

/**
 * What to do with a copy of a right proof (spent, no guess) in a session: give it back while the
 * session has refunds left in the window, with the check it counted (`countedAt`, for a
 * recovery code or key) leaving the session's window; publish its event at most once a window per
 * spent proof (`spentKey`, a digest) and session.
 */
export function decideRefund(entry: SessionLimits | undefined, countedAt: number | undefined, spentKey: string, nowMs: number): RefundDecision {
  const current = entry ?? freshSession();
  const wait = windowRetryAfterSeconds(current.refundTimes, nowMs);
  if (wait > 0) return { retryAfterSeconds: wait };
  const recent = Object.fromEntries(Object.entries(current.replayEvents).filter(([, at]) => at > nowMs - PROOF_WINDOW_MS));
  const event = recent[spentKey] === undefined;
  return {
    entry: {
      ...current,
      proofTimes: (countedAt !== undefined ? refundProofAttempt(current.proofTimes, countedAt) : null) ?? current.proofTimes,
      refundTimes: slideWindow(current.refundTimes, nowMs),
      replayEvents: event ? { ...recent, [spentKey]: nowMs } : recent,
    },
    event,
  };
}

/** The last time a session did anything that counts (0 for never); a session with a live key challenge counts as active until it expires. */
const lastActive = (entry: SessionLimits): number =>
  Math.max(0, ...entry.proofTimes, ...entry.refundTimes, ...Object.values(entry.replayEvents), entry.keyChallengeExpiresAt ?? 0);

/**
 * The entries to drop before adding a new session's, so that at most MAX_SESSION_ENTRIES remain:
 * idle ones (nothing in the last window) first, then the least recently active.
 */
export function sessionsToDrop(sessions: Readonly<Record<string, SessionLimits>> | undefined, adding: string, nowMs: number): string[] {
  const others = Object.entries(sessions ?? {}).filter(([id]) => id !== adding);
  const idle = others.filter(([, entry]) => lastActive(entry) <= nowMs - PROOF_WINDOW_MS).map(([id]) => id);
  const active = others.filter(([, entry]) => lastActive(entry) > nowMs - PROOF_WINDOW_MS).sort(([, a], [, b]) => lastActive(a) - lastActive(b));
  const excess = Math.max(0, active.length + 1 - MAX_SESSION_ENTRIES);
  return [...idle, ...active.slice(0, excess).map(([id]) => id)];
}

/** At most this many pending ceremonies of one kind (key registrations, app enrollments) per user; key sign-in challenges are minted, not kept. */
export const MAX_PENDING_PER_USER = 5;

/** A pending ceremony of one session: when it was started and until when it may be answered. */
export interface Pending {
  createdAt: number;
  expiresAt: number;
}

/**
 * The other sessions' pending ceremonies (of one kind) to drop when `sessionId` starts one: the
 * expired ones, then the oldest, so that at most MAX_PENDING_PER_USER remain with the new one.
 * The session's own is replaced by the write, not dropped.
 */
export function pendingToDrop(pending: Readonly<Record<string, Pending>> | undefined, sessionId: string, nowMs: number): string[] {
  const others = Object.entries(pending ?? {}).filter(([id]) => id !== sessionId);
  const expired = others.filter(([, entry]) => entry.expiresAt <= nowMs).map(([id]) => id);
  const live = others.filter(([, entry]) => entry.expiresAt > nowMs).sort(([, a], [, b]) => a.createdAt - b.createdAt);
  const excess = Math.max(0, live.length + 1 - MAX_PENDING_PER_USER);
  return [...expired, ...live.slice(0, excess).map(([id]) => id)];
}
