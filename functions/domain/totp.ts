import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from './random.js';

/**
 * TOTP as authenticator apps honour it (Google Authenticator, Bitwarden, ...):
 * RFC 6238 with HMAC-SHA1, 6 digits, 30-second steps. Written on node:crypto rather than an
 * OTP library: it is a few lines, and every function that checks codes loads it at cold start.
 */
export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one (RFC 6238 section 5.2 transmission delay and drift). */
export const TOTP_DRIFT_WINDOW = 1;
/** RFC 4226 section 4 asks for at least 128 bits and recommends 160: 20 bytes. */
export const TOTP_SECRET_BYTES = 20;

const CODE_PATTERN = /^[0-9]{6}$/;
/** Steps tried, relative to the current one: the current step, then one back and one ahead, and so on. */
const DRIFT_ORDER = [0, ...Array.from({ length: TOTP_DRIFT_WINDOW }, (_, i) => [-(i + 1), i + 1]).flat()];

export function generateTotpSecret(random: RandomSource): Uint8Array {
  return random.bytes(TOTP_SECRET_BYTES);
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Base32 (RFC 4648) without padding, as authenticator apps expect it for manual entry. */
export function toBase32(secret: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of secret) {
    value = ((value << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function stepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** RFC 4226 HOTP: HMAC over the 8-byte big-endian counter, dynamically truncated to TOTP_DIGITS digits. */
function hotp(secret: Uint8Array, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac(TOTP_ALGORITHM, secret).update(message).digest();
  const offset = digest[digest.length - 1]! & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
}

/** The code an authenticator app shows for `secret` at `nowMs`. */
export function generateTotpCode(secret: Uint8Array, nowMs: number): string {
  return hotp(secret, stepAt(nowMs));
}

/**
 * The time step that `code` (spaces ignored) belongs to, if it is valid within the drift window at `nowMs`;
 * otherwise null. Replay protection (the step must be newer than the last accepted one)
 * is enforced by the caller's conditional write, not here.
 */
export function matchTotpStep(secret: Uint8Array, code: string, nowMs: number): number | null {
  const token = code.replace(/\s/g, '');
  if (!CODE_PATTERN.test(token)) return null;
  const step = stepAt(nowMs);
  for (const delta of DRIFT_ORDER) {
    if (timingSafeEqual(Buffer.from(hotp(secret, step + delta)), Buffer.from(token))) return step + delta;
  }
  return null;
}

/**
 * otpauth:// URI (Key Uri Format) with the label `Issuer:account` and a matching `issuer` parameter.
 */
export function buildOtpauthUri(secret: Uint8Array, issuer: string, account: string): string {
  const e = encodeURIComponent;
  const label = issuer.length > 0 ? `${e(issuer)}:${e(account)}?issuer=${e(issuer)}&` : `${e(account)}?`;
  return `otpauth://totp/${label}secret=${toBase32(secret)}&algorithm=${TOTP_ALGORITHM}&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
}
