import { Secret, TOTP } from 'otpauth';
import type { RandomSource } from '../../domain/random.js';

/**
 * TOTP as authenticator apps honour it (Google Authenticator, Bitwarden, ...):
 * RFC 6238 with HMAC-SHA1, 6 digits, 30-second steps.
 */
export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one (RFC 6238 section 5.2 transmission delay and drift). */
export const TOTP_DRIFT_WINDOW = 1;
/** RFC 4226 section 4 asks for at least 128 bits and recommends 160: 20 bytes. */
export const TOTP_SECRET_BYTES = 20;

const CODE_PATTERN = /^[0-9]{6}$/;

export function generateTotpSecret(random: RandomSource): Uint8Array {
  return random.bytes(TOTP_SECRET_BYTES);
}

/** Base32 (RFC 4648) without padding, as authenticator apps expect it for manual entry. */
export function toBase32(secret: Uint8Array): string {
  return new Secret({ buffer: toArrayBuffer(secret) }).base32.replace(/=+$/, '');
}

export function stepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

function totpFor(secret: Uint8Array, label = 'user', issuer = ''): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
  });
}

/** The code an authenticator app shows for `secret` at `nowMs`. */
export function generateTotpCode(secret: Uint8Array, nowMs: number): string {
  return totpFor(secret).generate({ timestamp: nowMs });
}

/**
 * The time step that `code` (spaces ignored) belongs to, if it is valid within the drift window at `nowMs`;
 * otherwise null. Replay protection (the step must be newer than the last accepted one)
 * is enforced by the caller's conditional write, not here.
 */
export function matchTotpStep(secret: Uint8Array, code: string, nowMs: number): number | null {
  const token = code.replace(/\s/g, '');
  if (!CODE_PATTERN.test(token)) return null;
  const delta = totpFor(secret).validate({ token, timestamp: nowMs, window: TOTP_DRIFT_WINDOW });
  return delta === null ? null : stepAt(nowMs) + delta;
}

/**
 * otpauth:// URI (Key Uri Format) with the label `Issuer:account` and a matching `issuer` parameter.
 */
export function buildOtpauthUri(secret: Uint8Array, issuer: string, account: string): string {
  return totpFor(secret, account, issuer).toString();
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
