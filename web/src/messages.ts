import { MfaProblemError } from '../../client/index.js';
import { timeOfDay } from './dom.js';

/** Defguard's guide: once the method is on, the user is signed out to sign in again using MFA. */
export const SIGN_IN_AGAIN_NOTE = 'Two-factor authentication is on. Sign in again using your authenticator app.';

/** What the user was doing when the API said no: the same problem reads differently per task. */
export type CodeContext = 'code' | 'recovery-code' | 'enrollment';

/** Plain words for a failed call, for the alert region. */
export function describeError(error: unknown, context: CodeContext | 'other' = 'other'): string {
  if (!(error instanceof MfaProblemError)) {
    if (error instanceof DOMException && error.name === 'TimeoutError') return 'The server took too long to answer. Try again.';
    // fetch rejects with a TypeError when the request never got an answer (offline, DNS, CORS).
    if (error instanceof TypeError) return 'The server could not be reached. Check your connection and try again.';
    return 'Something went wrong. Try again.';
  }
  switch (error.code) {
    case 'invalid_code':
      if (context === 'recovery-code') return 'That recovery code is wrong or has already been used.';
      if (context === 'enrollment') {
        return "That code is wrong. Enter the code your authenticator app shows now; if it keeps failing, check that your phone's clock is set automatically.";
      }
      return 'That code is wrong or has already been used. Enter the newest code from your authenticator app.';
    case 'too_many_attempts':
      return tooManyAttempts(error.retryAfter);
    case 'enrollment_not_found':
      return 'This set-up has expired. Choose "Start again" for a new QR code.';
    case 'mfa_not_enabled':
      return 'Two-factor authentication is not on for this account.';
    case 'totp_already_enabled':
      return 'One time password is already on for this account.';
    case 'service_unavailable':
      return 'The service is busy. Try again in a moment.';
    default:
      return error.detail || error.title || 'Something went wrong. Try again.';
  }
}

/** "Too many wrong codes. Try again in 30 seconds, at 14:05:30." */
export function tooManyAttempts(retryAfterSeconds: number | undefined, now = new Date()): string {
  if (!retryAfterSeconds) return 'Too many wrong codes. Wait a while, then try again.';
  const at = new Date(now.getTime() + retryAfterSeconds * 1000);
  return `Too many wrong codes. Try again in ${duration(retryAfterSeconds)}, at ${timeOfDay(at, { seconds: retryAfterSeconds < 3600 })}.`;
}

function duration(seconds: number): string {
  if (seconds < 60) return plural(seconds, 'second');
  if (seconds < 3600) return plural(Math.ceil(seconds / 60), 'minute');
  return plural(Math.ceil(seconds / 3600), 'hour');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** The first-factor token expired or was refused: only signing in again helps. */
export function isSessionExpired(error: unknown): boolean {
  return error instanceof MfaProblemError && error.status === 401;
}
