import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Sign-in challenges that the service does not keep per user. A challenge carries its own expiry and a
 * random nonce, and a MAC (HMAC-SHA-256, truncated to 128 bits) under the user's challenge key
 * over those, the user and the first-factor session that asked for it. A response is accepted
 * only for a challenge this service minted for this user and session, before its expiry, and
 * once: the write that accepts it records the nonce among the user's spent challenges until the
 * challenge expires (webauthn.ts, the store's commit).
 *
 * Nothing pending is kept per user, so no number of other sessions asking for challenges can
 * push out the one the real user is answering (docs/security.md). The session's own entry keeps
 * the latest challenge's expiry, so that a new challenge replaces the session's earlier ones.
 *
 * Layout (39 bytes, base64url in the options and the client data):
 *   version (1) | expiresAt, ms since the epoch, big-endian (6) | nonce (16) | tag (16)
 */

const VERSION = 1;
const EXPIRES_BYTES = 6;
export const CHALLENGE_NONCE_BYTES = 16;
const TAG_BYTES = 16;
const SIGNED_BYTES = 1 + EXPIRES_BYTES + CHALLENGE_NONCE_BYTES;
const CHALLENGE_BYTES = SIGNED_BYTES + TAG_BYTES;
/** A user's challenge key: 256 random bits. */
export const CHALLENGE_KEY_BYTES = 32;
const LABEL = 'serverless-mfa/webauthn.get/v1';

/** Who a challenge was minted for: its MAC covers both. */
export interface ChallengeBinding {
  userId: string;
  sessionId: string;
}

/** What a minted challenge holds, once its MAC has been checked. */
export interface OpenedChallenge {
  /** base64url of the 16 random bytes: the key of the user's spent challenges. */
  nonce: string;
  expiresAt: number;
}

/** Each part with its length in front, so that no two bindings (whatever bytes a subject holds) give the same input. */
const framed = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

function tagOf(key: Uint8Array, binding: ChallengeBinding, signed: Buffer): Buffer {
  return createHmac('sha256', key)
    .update(framed(LABEL))
    .update(framed(binding.userId))
    .update(framed(binding.sessionId))
    .update(signed)
    .digest()
    .subarray(0, TAG_BYTES);
}

/** A challenge for `binding`, valid until `expiresAt`; `nonce` must be CHALLENGE_NONCE_BYTES random bytes. */
export function mintChallenge(key: Uint8Array, binding: ChallengeBinding, nonce: Uint8Array, expiresAt: number): string {
  if (nonce.length !== CHALLENGE_NONCE_BYTES) throw new Error(`A challenge nonce is ${CHALLENGE_NONCE_BYTES} bytes.`);
  const signed = Buffer.alloc(SIGNED_BYTES);
  signed.writeUInt8(VERSION, 0);
  signed.writeUIntBE(expiresAt, 1, EXPIRES_BYTES);
  Buffer.from(nonce).copy(signed, 1 + EXPIRES_BYTES);
  return Buffer.concat([signed, tagOf(key, binding, signed)]).toString('base64url');
}

/**
 * The nonce and expiry of a challenge minted under `key` for `binding`, or null for anything
 * else (another user's or session's challenge, a changed byte, another layout). Expiry is the
 * caller's to check.
 */
export function openChallenge(key: Uint8Array, binding: ChallengeBinding, challenge: string): OpenedChallenge | null {
  if (!/^[A-Za-z0-9_-]+$/.test(challenge)) return null;
  const bytes = Buffer.from(challenge, 'base64url');
  if (bytes.length !== CHALLENGE_BYTES || bytes[0] !== VERSION) return null;
  const signed = bytes.subarray(0, SIGNED_BYTES);
  if (!timingSafeEqual(bytes.subarray(SIGNED_BYTES), tagOf(key, binding, signed))) return null;
  return {
    nonce: signed.subarray(1 + EXPIRES_BYTES).toString('base64url'),
    expiresAt: signed.readUIntBE(1, EXPIRES_BYTES),
  };
}

/** How far ahead of one function's clock another function's may run when it mints or checks a challenge. */
export const CLOCK_DRIFT_MS = 60_000;
/** At most this many expired spent challenges are dropped by one write, so that its expression stays small whatever was left. */
export const SPENT_CHALLENGES_DROPPED_PER_WRITE = 20;

/**
 * The spent challenges a write may drop at `nowMs`: those expired for longer than the clocks'
 * drift (a function whose clock runs behind still takes their challenges as live, and must still
 * find them spent), oldest first, at most SPENT_CHALLENGES_DROPPED_PER_WRITE.
 */
export function spentChallengesToDrop(spent: Readonly<Record<string, number>>, nowMs: number): string[] {
  return Object.entries(spent)
    .filter(([, expiresAt]) => expiresAt + CLOCK_DRIFT_MS <= nowMs)
    .sort(([, a], [, b]) => a - b)
    .slice(0, SPENT_CHALLENGES_DROPPED_PER_WRITE)
    .map(([nonce]) => nonce);
}
