import { describe, expect, it } from 'vitest';
import {
  BASE_LOCKOUT_MS,
  countAttempt,
  quietAttemptGuard,
  DAILY_FAILURE_CAP,
  FAILURE_WINDOW_MS,
  countProofAttempt,
  isLocked,
  lockAfterFailure,
  LOCKOUT_THRESHOLD,
  MAX_LOCKOUT_MS,
  PROOF_ATTEMPTS_PER_WINDOW,
  PROOF_WINDOW_MS,
  proofRetryAfterSeconds,
  proofAttemptTime,
  PROOF_TIME_FRACTIONS,
  refundProofAttempt,
  quietProofGuard,
  retryAfterSeconds,
} from '../../functions/domain/lockout.js';

const NOW = 1_800_000_000_000;

describe('lockout policy', () => {
  it('locks on the fifth consecutive failure, for 30 seconds', () => {
    for (let failures = 1; failures < LOCKOUT_THRESHOLD; failures++) expect(lockAfterFailure(failures, NOW)).toBeUndefined();
    expect(lockAfterFailure(5, NOW)).toBe(NOW + 30_000);
    expect(BASE_LOCKOUT_MS).toBeGreaterThanOrEqual(30_000);
  });

  it('doubles each new lockout up to a 15-minute cap', () => {
    const durations = [5, 10, 15, 20, 25, 30, 35, 40].map((failures) => lockAfterFailure(failures, NOW)! - NOW);
    expect(durations).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
    expect(MAX_LOCKOUT_MS).toBe(900_000);
    expect(lockAfterFailure(11, NOW)).toBeUndefined();
  });

  it('has no lock that never ends: after any number of failures the lock is at most 15 minutes, or until the window ends', () => {
    for (const failures of [100, 200, 1000, 10_000]) {
      const lock = lockAfterFailure(failures, NOW);
      expect(lock === undefined || lock - NOW <= MAX_LOCKOUT_MS, String(failures)).toBe(true);
    }
    const capped = countAttempt({ failures: 199, windowStart: NOW, windowFailures: DAILY_FAILURE_CAP - 1 }, NOW + 1000);
    expect(capped.lockedUntil).toBe(NOW + FAILURE_WINDOW_MS);
    expect(retryAfterSeconds(capped, NOW + 1000)).toBeLessThanOrEqual(FAILURE_WINDOW_MS / 1000);
    expect(isLocked(capped, NOW + FAILURE_WINDOW_MS)).toBe(false);
  });

  it('is locked strictly before the lock ends and free from that instant on', () => {
    const state = { failures: 5, lockedUntil: NOW + 30_000 };
    expect(isLocked(state, NOW)).toBe(true);
    expect(isLocked(state, NOW + 29_999)).toBe(true);
    expect(isLocked(state, NOW + 30_000)).toBe(false);
    expect(isLocked({ failures: 3 }, NOW)).toBe(false);
  });

  it('rounds Retry-After up to whole seconds, never below one', () => {
    expect(retryAfterSeconds({ failures: 5, lockedUntil: NOW + 30_000 }, NOW)).toBe(30);
    expect(retryAfterSeconds({ failures: 5, lockedUntil: NOW + 30_000 }, NOW + 29_500)).toBe(1);
    expect(retryAfterSeconds({ failures: 5, lockedUntil: NOW + 30_000 }, NOW + 100)).toBe(30);
  });

  it('opens a failure window at the first counted attempt and counts into it', () => {
    expect(countAttempt({ failures: 0 }, NOW)).toEqual({ failures: 1, windowStart: NOW, windowFailures: 1, lockedUntil: undefined });
    expect(countAttempt({ failures: 3, windowStart: NOW, windowFailures: 40 }, NOW + 1000)).toMatchObject({ failures: 4, windowStart: NOW, windowFailures: 41 });
  });

  it('starts a new window 24 h after the last one began', () => {
    const later = NOW + FAILURE_WINDOW_MS;
    expect(countAttempt({ failures: 0, windowStart: NOW, windowFailures: 99 }, later)).toMatchObject({ windowStart: later, windowFailures: 1, lockedUntil: undefined });
  });

  it('locks until the window ends at the daily cap, even when successes reset the consecutive count', () => {
    const state = { failures: 0, windowStart: NOW, windowFailures: DAILY_FAILURE_CAP - 1 };
    expect(countAttempt(state, NOW + 3600_000).lockedUntil).toBe(NOW + FAILURE_WINDOW_MS);
    expect(countAttempt({ ...state, windowFailures: DAILY_FAILURE_CAP - 2 }, NOW + 3600_000).lockedUntil).toBeUndefined();
  });

  it('keeps the later of the consecutive-failure lock and the window lock', () => {
    expect(countAttempt({ failures: 4, windowStart: NOW, windowFailures: 10 }, NOW).lockedUntil).toBe(NOW + 30_000);
    expect(countAttempt({ failures: 99, windowStart: NOW, windowFailures: 99 }, NOW).lockedUntil).toBe(NOW + FAILURE_WINDOW_MS);
  });

  it('calls an attempt quiet only when counting it starts no lock and keeps the window, and always below 99 failures', () => {
    const guard = quietAttemptGuard(NOW);
    for (let failures = 0; failures <= 101; failures++) {
      for (const windowFailures of [0, 50, 97, 98, 99]) {
        for (const windowStart of [NOW - 1000, NOW - FAILURE_WINDOW_MS + 1, NOW - FAILURE_WINDOW_MS]) {
          const state = { failures, windowStart, windowFailures };
          const counted = countAttempt(state, NOW);
          const quiet =
            guard.failuresIn.includes(failures) && windowFailures < guard.windowFailuresBelow && windowStart > guard.windowStartAfter;
          const plain = counted.lockedUntil === undefined && counted.windowStart === windowStart;
          if (quiet) expect(plain, JSON.stringify(state)).toBe(true);
          if (failures < 99) expect(quiet, JSON.stringify(state)).toBe(plain);
        }
      }
    }
    expect(guard.failuresIn.length).toBeLessThanOrEqual(100); // DynamoDB's IN takes at most 100 values
  });
});

describe('rate limit of recovery codes and security keys', () => {
  it(`allows ${PROOF_ATTEMPTS_PER_WINDOW} attempts in any minute (a sliding window), then says when the next may come`, () => {
    let state: { proofTimes?: number[] } = {};
    for (let i = 0; i < PROOF_ATTEMPTS_PER_WINDOW; i++) {
      expect(proofRetryAfterSeconds(state, NOW + i * 1000)).toBe(0);
      state = { proofTimes: countProofAttempt(state, NOW + i * 1000) };
    }
    expect(state.proofTimes).toEqual(Array.from({ length: PROOF_ATTEMPTS_PER_WINDOW }, (_, i) => NOW + i * 1000));
    expect(proofRetryAfterSeconds(state, NOW + 10_000)).toBe(50);
    expect(proofRetryAfterSeconds(state, NOW + PROOF_WINDOW_MS - 500)).toBe(1);
    // The oldest check is a minute old: one more may come, and the window slides by one.
    expect(proofRetryAfterSeconds(state, NOW + PROOF_WINDOW_MS)).toBe(0);
    expect(countProofAttempt(state, NOW + PROOF_WINDOW_MS)).toEqual([...state.proofTimes!.slice(1), NOW + PROOF_WINDOW_MS]);
    expect(proofRetryAfterSeconds({ proofTimes: countProofAttempt(state, NOW + PROOF_WINDOW_MS) }, NOW + PROOF_WINDOW_MS)).toBe(1);
  });

  it('counts quietly exactly when the oldest of the last checks is a window old', () => {
    expect(quietProofGuard(NOW)).toEqual({ oldestAtMost: NOW - PROOF_WINDOW_MS });
  });

  it('tells checks of one millisecond apart, exactly, without moving a wait past the next second', () => {
    const times = Array.from({ length: PROOF_TIME_FRACTIONS - 1 }, (_, i) => proofAttemptTime(NOW, i + 1));
    expect(new Set(times).size).toBe(PROOF_TIME_FRACTIONS - 1);
    for (const time of times) {
      expect(Number(String(time))).toBe(time);
      expect(time).toBeGreaterThan(NOW - 1);
      expect(time).toBeLessThan(NOW);
    }
    expect(proofRetryAfterSeconds({ proofTimes: [times[0]!] }, NOW)).toBe(60);
  });

  it('gives a check back: its time leaves the window and a free slot takes the oldest place', () => {
    const full = Array.from({ length: PROOF_ATTEMPTS_PER_WINDOW }, (_, i) => NOW + i);
    expect(proofRetryAfterSeconds({ proofTimes: full }, NOW + 10)).toBe(60);
    const back = refundProofAttempt(full, NOW + 4)!;
    expect(back).toEqual([0, ...full.slice(0, 4), ...full.slice(5)]);
    expect(proofRetryAfterSeconds({ proofTimes: back }, NOW + 10)).toBe(0);
    expect(refundProofAttempt(full, NOW + 99)).toBeNull();
  });
});
