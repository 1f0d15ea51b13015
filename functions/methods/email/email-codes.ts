import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '../../domain/random.js';

/**
 * Codes sent by email: the weakest method (NIST SP 800-63B-4 does not accept email as an
 * out-of-band authenticator: a mailbox is reached with a password, often the same one). It is
 * opt-in, its assertions say so (`amr` without `pop`), and its codes are guessable: each check
 * counts in the per-user code lock, as a TOTP code's does.
 *
 * A code is 8 digits (10^8 values) and lives 10 minutes. It is stored only as an HMAC-SHA-256
 * under a random 32-byte key made for that one code and kept sealed by the secret key (KMS):
 * with a dump of the table alone, an attacker cannot test a single guess offline. An unkeyed or
 * salted hash would not do: all 10^8 codes hash in well under a second on one GPU, salt or not,
 * and a slow KDF makes every check costly while buying minutes at best.
 */
export const EMAIL_CODE_DIGITS = 8;
export const EMAIL_CODE_TTL_MS = 10 * 60_000;
/** At most EMAIL_SENDS_PER_WINDOW mails with a code per user in any EMAIL_SEND_WINDOW_MS. */
export const EMAIL_SENDS_PER_WINDOW = 5;
export const EMAIL_SEND_WINDOW_MS = 15 * 60_000;
export const EMAIL_CODE_KEY_BYTES = 32;

/** What a pending email code is for: adding the method, or proving it (a sign-in or a step-up). */
export type EmailCodePurpose = 'enroll' | 'prove';

/** A uniformly drawn 8-digit code (rejection sampling: no digit is likelier than another). */
export function generateEmailCode(random: RandomSource): string {
  const limit = 4_200_000_000; // 42 x 10^8: the largest multiple of 10^8 below 2^32
  for (;;) {
    const bytes = random.bytes(4);
    const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    if (value < limit) return String(value % 10 ** EMAIL_CODE_DIGITS).padStart(EMAIL_CODE_DIGITS, '0');
  }
}

/** The code as typed: digits only (spaces and hyphens a user may add are dropped), or null. */
export function normalizeEmailCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${EMAIL_CODE_DIGITS}}$`).test(digits) ? digits : null;
}

/** HMAC-SHA-256 of the code, bound to the user and the session it was sent for. */
export function hashEmailCode(key: Uint8Array, code: string, binding: { userId: string; sessionId: string }): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(`${binding.userId}\n${binding.sessionId}\n${code}`).digest());
}

export function emailCodeMatches(key: Uint8Array, code: string, binding: { userId: string; sessionId: string }, storedHash: Uint8Array): boolean {
  const normalized = normalizeEmailCode(code);
  if (normalized === null) return false;
  const hash = hashEmailCode(key, normalized, binding);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}

/** Whether two addresses name one mailbox, as security notices decide it: letter case aside. */
export const sameMailbox = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** `alice@example.com` -> `a***@example.com`: enough for the user to recognise, little for anyone else. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/**
 * The send window after one more mail at `now`: the times of the last sends within the window,
 * oldest first; or, when the window is full, how many seconds until its oldest send leaves it.
 */
export function countEmailSend(times: readonly number[], now: number): { times: number[] } | { retryAfterSeconds: number } {
  const recent = times.filter((time) => time > now - EMAIL_SEND_WINDOW_MS).sort((a, b) => a - b);
  if (recent.length >= EMAIL_SENDS_PER_WINDOW) {
    return { retryAfterSeconds: Math.max(1, Math.ceil((recent[recent.length - EMAIL_SENDS_PER_WINDOW]! + EMAIL_SEND_WINDOW_MS - now) / 1000)) };
  }
  return { times: [...recent, now] };
}
