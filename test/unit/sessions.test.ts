import { describe, expect, it } from 'vitest';
import { ceilingWindowOf, freeSlots, PROOF_ATTEMPTS_PER_WINDOW, PROOF_WINDOW_MS, USER_PROOF_CEILING } from '../../functions/domain/lockout.js';
import {
  decideRefund,
  freshSession,
  MAX_PENDING_PER_USER,
  MAX_SESSION_ENTRIES,
  pendingToDrop,
  REFUNDS_PER_WINDOW,
  sessionRetryAfterSeconds,
  sessionsToDrop,
  sessionWithCheck,
  type SessionLimits,
} from '../../functions/domain/sessions.js';
import { PROOF_LANES } from '../../functions/methods/kinds.js';

const NOW = 1_800_000_000_000;

/** A session whose checks happened at `times` (and nothing else). */
const checkedAt = (...times: number[]): SessionLimits => times.reduce((entry, time) => sessionWithCheck(entry, time), freshSession());

describe('per-session limits', () => {
  it('sets the ceiling at ten sessions worth of checks, at least 10 times one session', () => {
    expect(USER_PROOF_CEILING).toBeGreaterThanOrEqual(10 * PROOF_ATTEMPTS_PER_WINDOW);
  });

  it('declares each proof kind in one lane: codes (app and email) guessable, recovery codes, keys and remembered browsers not', () => {
    expect(PROOF_LANES).toEqual({ totp: 'guessable', email: 'guessable', recovery_code: 'unguessable', webauthn: 'unguessable', device: 'unguessable' });
  });

  it(`allows ${PROOF_ATTEMPTS_PER_WINDOW} checks in a session in any minute, then says when the next may come`, () => {
    const full = checkedAt(...Array.from({ length: PROOF_ATTEMPTS_PER_WINDOW }, (_, i) => NOW + i * 1000));
    expect(sessionRetryAfterSeconds(checkedAt(NOW), NOW)).toBe(0);
    expect(sessionRetryAfterSeconds(full, NOW + 10_000)).toBe(50);
    expect(sessionRetryAfterSeconds(full, NOW + PROOF_WINDOW_MS)).toBe(0);
    expect(sessionRetryAfterSeconds(undefined, NOW)).toBe(0);
  });

  it(`gives back up to ${REFUNDS_PER_WINDOW} copies a minute, the counted check leaving the window, then refuses with a wait`, () => {
    let entry: SessionLimits | undefined;
    const events: boolean[] = [];
    for (let i = 0; i < REFUNDS_PER_WINDOW; i++) {
      const counted = checkedAt(NOW + i);
      const decision = decideRefund(entry ? { ...entry, proofTimes: counted.proofTimes } : { ...counted }, NOW + i, 'spent-1', NOW + i);
      if (!('entry' in decision)) throw new Error(`refused the refund ${i}`);
      expect(decision.entry.proofTimes).toEqual(freeSlots(PROOF_ATTEMPTS_PER_WINDOW));
      events.push(decision.event);
      entry = decision.entry;
    }
    expect(events).toEqual([true, ...Array.from({ length: REFUNDS_PER_WINDOW - 1 }, () => false)]);
    expect(decideRefund(entry, undefined, 'spent-1', NOW + 20)).toEqual({ retryAfterSeconds: 60 });
    // A minute after the first refund, one more may come, and its event is due again.
    expect(decideRefund(entry, undefined, 'spent-1', NOW + PROOF_WINDOW_MS)).toMatchObject({ event: true });
  });

  it('publishes one event per spent proof a minute: another spent proof in the same minute has its own', () => {
    const first = decideRefund(undefined, undefined, 'spent-1', NOW);
    if (!('entry' in first)) throw new Error('refused');
    expect(decideRefund(first.entry, undefined, 'spent-2', NOW + 1)).toMatchObject({ event: true });
    expect(decideRefund(first.entry, undefined, 'spent-1', NOW + 1)).toMatchObject({ event: false });
  });

  it('forgets replay events older than a minute, so an entry stays small', () => {
    const old = decideRefund(undefined, undefined, 'spent-old', NOW);
    if (!('entry' in old)) throw new Error('refused');
    const later = decideRefund(old.entry, undefined, 'spent-new', NOW + PROOF_WINDOW_MS + 1);
    if (!('entry' in later)) throw new Error('refused');
    expect(Object.keys(later.entry.replayEvents)).toEqual(['spent-new']);
  });

  it(`keeps at most ${MAX_SESSION_ENTRIES} entries: idle ones go first, then the least recently active`, () => {
    const idle = { idle: checkedAt(NOW - 2 * PROOF_WINDOW_MS) };
    const active = Object.fromEntries(Array.from({ length: MAX_SESSION_ENTRIES }, (_, i) => [`s${i}`, checkedAt(NOW - i)]));
    const dropped = sessionsToDrop({ ...idle, ...active }, 'new', NOW);
    expect(dropped).toEqual(['idle', `s${MAX_SESSION_ENTRIES - 1}`]);
    expect(sessionsToDrop({ ...idle, s0: checkedAt(NOW) }, 'new', NOW)).toEqual(['idle']);
    // A session already kept needs no room.
    expect(sessionsToDrop(active, 's0', NOW)).toEqual([]);
    expect(sessionsToDrop(undefined, 'new', NOW)).toEqual([]);
  });

  it(`keeps at most ${MAX_PENDING_PER_USER} pending ceremonies of a kind: expired ones go, then the oldest; a session's own is replaced, not dropped`, () => {
    const pending = Object.fromEntries(Array.from({ length: MAX_PENDING_PER_USER }, (_, i) => [`s${i}`, { createdAt: NOW + i, expiresAt: NOW + 300_000 }]));
    expect(pendingToDrop(pending, 'new', NOW + 10)).toEqual(['s0']);
    expect(pendingToDrop(pending, 's3', NOW + 10)).toEqual([]);
    expect(pendingToDrop({ ...pending, gone: { createdAt: NOW - 1, expiresAt: NOW } }, 's1', NOW + 10)).toEqual(['gone']);
    expect(pendingToDrop(undefined, 'new', NOW)).toEqual([]);
  });

  it('widens an earlier version ceiling window of 10 slots, its times kept, newest last', () => {
    const stored = Array.from({ length: 10 }, (_, i) => NOW + i);
    const widened = ceilingWindowOf(stored);
    expect(widened).toHaveLength(USER_PROOF_CEILING);
    expect(widened.slice(-10)).toEqual(stored);
    expect(widened.slice(0, -10)).toEqual(freeSlots(USER_PROOF_CEILING - 10));
    expect(ceilingWindowOf(undefined)).toEqual(freeSlots(USER_PROOF_CEILING));
  });
});
