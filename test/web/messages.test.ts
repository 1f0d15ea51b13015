import { describe, expect, it } from 'vitest';
import { MfaProblemError } from '../../client/index.js';
import { describeError, signInAgainNote } from '../../web/src/messages.js';

const problem = (code: string, status = 400) => new MfaProblemError(status, code, 'Title', 'Detail from the server');

describe('describeError', () => {
  it('says what the browser\'s key prompt reported, per task', () => {
    const closed = new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError');
    expect(describeError(closed, 'security-key')).toMatch(/^The security key was not used/);
    expect(describeError(closed, 'key-registration')).toMatch(/^The security key was not added/);
    expect(describeError(new DOMException('excluded', 'InvalidStateError'), 'key-registration')).toBe('This security key is already added to your account.');
    expect(describeError(new DOMException('bad rp', 'SecurityError'), 'security-key')).toMatch(/cannot be used at this address/);
    expect(describeError(new DOMException('slow', 'TimeoutError'))).toBe('The server took too long to answer. Try again.');
  });

  it('words the new problem codes for the user, not with the server\'s detail', () => {
    for (const code of ['invalid_credential', 'registration_not_found', 'credential_already_registered', 'too_many_authenticators', 'authenticator_not_found', 'step_up_required', 'webauthn_not_enabled']) {
      const words = describeError(problem(code), 'security-key');
      expect(words, code).not.toBe('Detail from the server');
      expect(words.length, code).toBeGreaterThan(20);
    }
    expect(describeError(problem('invalid_credential'), 'key-registration')).not.toBe(describeError(problem('invalid_credential'), 'security-key'));
  });

  it('says when to try again after a lockout, in words that fit a key or a code', () => {
    const locked = new MfaProblemError(429, 'too_many_attempts', 'Too many attempts', '', 30);
    expect(describeError(locked, 'security-key')).toMatch(/^Too many failed attempts\. Try again in 30 seconds, at /);
    expect(describeError(locked, 'code')).toMatch(/^Too many wrong codes\. Try again in 30 seconds, at /);
  });
});

describe('signInAgainNote', () => {
  it('names the method the user signs in with next', () => {
    expect(signInAgainNote('totp', true)).toBe('Two-factor authentication is on. Sign in again using your authenticator app.');
    expect(signInAgainNote('webauthn', true)).toBe('Two-factor authentication is on. Sign in again using your security key.');
    expect(signInAgainNote('webauthn', false)).toMatch(/^The new security key is added\. Sign in again/);
  });
});
