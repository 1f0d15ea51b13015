import { Secret } from 'otpauth';
import { generateTotpCode } from '../functions/methods/totp/totp.js';

/** What an authenticator app shows for the base32 secret the enrollment returned, `offsetSteps` steps from `nowMs`. */
export function codeAt(base32Secret: string, nowMs: number, offsetSteps = 0): string {
  return generateTotpCode(Secret.fromBase32(base32Secret).bytes, nowMs + offsetSteps * 30_000);
}

/** A six-digit code that is not the right one at any step in ±1 of `nowMs`. */
export function wrongCodeAt(base32Secret: string, nowMs: number): string {
  const valid = new Set([-1, 0, 1].map((offset) => codeAt(base32Secret, nowMs, offset)));
  let candidate = Number(codeAt(base32Secret, nowMs));
  do candidate = (candidate + 1) % 1_000_000;
  while (valid.has(String(candidate).padStart(6, '0')));
  return String(candidate).padStart(6, '0');
}
