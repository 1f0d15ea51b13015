import { MfaProblemError } from '../../client/index.js';
import { timeOfDay } from './dom.js';

/**
 * Defguard's guide: once a method is added, the user is signed out to sign in again using MFA
 * (the API answers `reauthenticate: true`). `first`: this turned two-factor authentication on.
 */
export function signInAgainNote(kind: 'totp' | 'webauthn' | 'email', first: boolean): string {
  const what = { totp: 'your authenticator app', webauthn: 'your security key', email: 'a code sent to your email' }[kind];
  if (first) return `Two-factor authentication is on. Sign in again using ${what}.`;
  return `${{ totp: 'The new authenticator app', webauthn: 'The new security key', email: 'Email codes' }[kind]} ${kind === 'email' ? 'are' : 'is'} added. Sign in again using two-factor authentication.`;
}

/** What the user was doing when the API (or the browser) said no: the same problem reads differently per task. */
export type ProofContext = 'code' | 'recovery-code' | 'enrollment' | 'security-key' | 'key-registration' | 'email-code';

/** Plain words for a failed call, for the alert region. */
export function describeError(error: unknown, context: ProofContext | 'other' = 'other'): string {
  if (!(error instanceof MfaProblemError)) {
    if (error instanceof DOMException) return describeBrowserError(error, context);
    // fetch rejects with a TypeError when the request never got an answer (offline, DNS, CORS).
    if (error instanceof TypeError) return 'The server could not be reached. Check your connection and try again.';
    return 'Something went wrong. Try again.';
  }
  switch (error.code) {
    case 'invalid_code':
      if (context === 'recovery-code') return 'That recovery code is wrong or has already been used.';
      if (context === 'email-code') return 'That code is wrong, expired or already used. Enter the code of the newest mail, or choose "Send again".';
      if (context === 'enrollment') {
        return "That code is wrong. Enter the code your authenticator app shows now; if it keeps failing, check that your phone's clock is set automatically.";
      }
      return 'That code is wrong or has already been used. Enter the newest code from your authenticator app.';
    case 'invalid_credential':
      if (context === 'key-registration') return 'The security key\'s answer was not accepted. Try again, or use another key.';
      return 'That security key was not accepted. Use a key you added to this account, or choose another way.';
    case 'too_many_attempts':
      return tooManyAttempts(error.retryAfter, new Date(), context === 'security-key' ? 'Too many failed attempts.' : undefined);
    case 'enrollment_not_found':
      return 'This set-up has expired. Choose "Start again" for a new QR code.';
    case 'registration_not_found':
      return 'Adding this key took too long. Choose "Start again" and add it once more.';
    case 'credential_already_registered':
      return 'This security key is already added to your account.';
    case 'too_many_authenticators':
      return 'You have as many authenticators as an account can hold. Remove one before adding another.';
    case 'authenticator_not_found':
      return 'That authenticator is no longer on your account.';
    case 'step_up_required':
      return 'Confirm it is you first, with a code, a recovery code or a security key.';
    case 'webauthn_not_enabled':
      return 'No security key is added to this account.';
    case 'mfa_not_enabled':
      return 'Two-factor authentication is not on for this account.';
    case 'totp_already_enabled':
      return 'One time password is already on for this account.';
    case 'too_many_emails':
      return `We have sent as many codes as we may for now. ${error.retryAfter ? `Try again after ${timeOfDay(new Date(Date.now() + error.retryAfter * 1000))}.` : 'Try again later.'}`;
    case 'email_not_verified':
      return 'Your sign-in has no verified email address, so codes cannot be emailed to you.';
    case 'email_already_enabled':
      return 'Email codes are already on for this account.';
    case 'email_not_enabled':
      return 'Email codes are not on for this account.';
    case 'service_unavailable':
      return 'The service is busy. Try again in a moment.';
    default:
      return error.detail || error.title || 'Something went wrong. Try again.';
  }
}

/** navigator.credentials.* and fetch timeouts reject with DOMExceptions named for what happened. */
function describeBrowserError(error: DOMException, context: ProofContext | 'other'): string {
  switch (error.name) {
    case 'TimeoutError':
      return 'The server took too long to answer. Try again.';
    case 'NotAllowedError':
      // Cancelled, timed out, or (at sign-in) no key of this account was presented.
      return context === 'key-registration'
        ? 'The security key was not added: the prompt was closed or timed out. Choose "Add" to try again.'
        : 'The security key was not used: the prompt was closed, timed out, or the key is not one of yours. Try again, or choose another way.';
    case 'InvalidStateError':
      return 'This security key is already added to your account.';
    case 'SecurityError':
      return 'Security keys cannot be used at this address. Open the page through its https (or localhost) address.';
    case 'NotSupportedError':
      return 'This browser or key does not support what this account needs. Try another key or browser.';
    default:
      return 'The security key could not be used. Try again.';
  }
}

/** "Too many wrong codes. Try again in 30 seconds, at 14:05:30." */
export function tooManyAttempts(retryAfterSeconds: number | undefined, now = new Date(), what = 'Too many wrong codes.'): string {
  if (!retryAfterSeconds) return `${what} Wait a while, then try again.`;
  const at = new Date(now.getTime() + retryAfterSeconds * 1000);
  return `${what} Try again in ${duration(retryAfterSeconds)}, at ${timeOfDay(at, { seconds: retryAfterSeconds < 3600 })}.`;
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
