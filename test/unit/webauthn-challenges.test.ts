import { describe, expect, it } from 'vitest';
import { CHALLENGE_KEY_BYTES, CHALLENGE_NONCE_BYTES, CLOCK_DRIFT_MS, mintChallenge, openChallenge, SPENT_CHALLENGES_DROPPED_PER_WRITE, spentChallengesToDrop } from '../../functions/methods/webauthn/challenges.js';

const KEY = Buffer.alloc(CHALLENGE_KEY_BYTES, 1);
const BINDING = { userId: 'user-1', sessionId: 'session-1' };
const NONCE = Buffer.alloc(CHALLENGE_NONCE_BYTES, 2);
const EXPIRES = Date.UTC(2026, 11, 5, 12, 5);

describe('minted key sign-in challenges', () => {
  it('opens to its nonce and expiry for the user, session and key it was minted for', () => {
    const challenge = mintChallenge(KEY, BINDING, NONCE, EXPIRES);
    // 39 bytes: more than the 16 random bytes WebAuthn L3 13.4.3 asks for, as base64url without padding.
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{52}$/);
    expect(openChallenge(KEY, BINDING, challenge)).toEqual({ nonce: NONCE.toString('base64url'), expiresAt: EXPIRES });
  });

  it.each([
    ['another session', KEY, { ...BINDING, sessionId: 'session-2' }],
    ['another user', KEY, { ...BINDING, userId: 'user-2' }],
    ['another key', Buffer.alloc(CHALLENGE_KEY_BYTES, 9), BINDING],
  ])('does not open for %s', (_, key, binding) => {
    expect(openChallenge(key, binding, mintChallenge(KEY, BINDING, NONCE, EXPIRES))).toBeNull();
  });

  it('does not open once any byte is changed, or in any other length or alphabet', () => {
    const bytes = Buffer.from(mintChallenge(KEY, BINDING, NONCE, EXPIRES), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = changed[i]! ^ 0x01;
      expect(openChallenge(KEY, BINDING, changed.toString('base64url')), `byte ${i}`).toBeNull();
    }
    expect(openChallenge(KEY, BINDING, bytes.subarray(0, -1).toString('base64url'))).toBeNull();
    expect(openChallenge(KEY, BINDING, Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'))).toBeNull();
    expect(openChallenge(KEY, BINDING, bytes.toString('base64'))).toBeNull();
    expect(openChallenge(KEY, BINDING, '')).toBeNull();
  });

  it('refuses to mint with a nonce of another length', () => {
    expect(() => mintChallenge(KEY, BINDING, Buffer.alloc(8), EXPIRES)).toThrow(/16 bytes/);
  });
});

describe('spent challenges a write drops', () => {
  const NOW = Date.UTC(2026, 11, 5, 12);
  it('drops only those expired for longer than the clocks may drift, oldest first, at most 20 a write', () => {
    expect(spentChallengesToDrop({ live: NOW + 1, justExpired: NOW - CLOCK_DRIFT_MS + 1, old: NOW - CLOCK_DRIFT_MS }, NOW)).toEqual(['old']);
    const backlog = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`n${i}`, NOW - CLOCK_DRIFT_MS - i]));
    expect(spentChallengesToDrop(backlog, NOW)).toEqual(Array.from({ length: SPENT_CHALLENGES_DROPPED_PER_WRITE }, (_, i) => `n${49 - i}`));
  });
});

describe('the binding a challenge is minted for', () => {
  it('does not open for another split of the same characters between user and session', () => {
    const challenge = mintChallenge(KEY, { userId: 'user\u0000a', sessionId: 'b' }, NONCE, EXPIRES);
    expect(openChallenge(KEY, { userId: 'user', sessionId: 'a\u0000b' }, challenge)).toBeNull();
    expect(openChallenge(KEY, { userId: 'user\u0000a', sessionId: 'b' }, challenge)).not.toBeNull();
  });
});
