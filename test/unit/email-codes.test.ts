import { describe, expect, it } from 'vitest';
import {
  countEmailSend,
  EMAIL_SEND_WINDOW_MS,
  emailCodeMatches,
  generateEmailCode,
  hashEmailCode,
  maskEmail,
  normalizeEmailCode,
} from '../../functions/methods/email/email-codes.js';
import { emailCodeMail, securityNotificationMail } from '../../functions/mail/templates.js';

const bytes = (...values: number[]) => ({ bytes: () => new Uint8Array(values) });

describe('email codes', () => {
  it('draws 8 digits, rejecting the values above the largest multiple of 10^8 so that no code is likelier', () => {
    expect(generateEmailCode(bytes(0, 0, 0, 7))).toBe('00000007');
    let calls = 0;
    // 0xFFFFFFFF is above 4.2e9: drawn again.
    const source = { bytes: () => (calls++ === 0 ? new Uint8Array([255, 255, 255, 255]) : new Uint8Array([0, 0, 1, 0])) };
    expect(generateEmailCode(source)).toBe('00000256');
    expect(calls).toBe(2);
  });

  it('checks a code against its HMAC, bound to the user and the session, ignoring spaces and hyphens', () => {
    const key = new Uint8Array(32).fill(7);
    const binding = { userId: 'alice', sessionId: 's1' };
    const hash = hashEmailCode(key, '12345678', binding);
    expect(emailCodeMatches(key, '1234-5678', binding, hash)).toBe(true);
    expect(emailCodeMatches(key, '12345679', binding, hash)).toBe(false);
    expect(emailCodeMatches(key, '12345678', { ...binding, sessionId: 's2' }, hash)).toBe(false);
    expect(emailCodeMatches(new Uint8Array(32).fill(8), '12345678', binding, hash)).toBe(false);
    expect(normalizeEmailCode('1234567')).toBeNull();
  });

  it('masks an address to its first character and domain', () => {
    expect(maskEmail('alice@example.com')).toBe('a***@example.com');
    expect(maskEmail('not-an-address')).toBe('***');
  });

  it('allows 5 sends in any 15 minutes, then says when the oldest leaves the window', () => {
    const now = 10 * EMAIL_SEND_WINDOW_MS;
    const four = [now - 60_000, now - 50_000, now - 40_000, now - 30_000];
    expect(countEmailSend([now - EMAIL_SEND_WINDOW_MS, ...four], now)).toEqual({ times: [...four, now] });
    expect(countEmailSend([now - 70_000, ...four], now)).toEqual({ retryAfterSeconds: (EMAIL_SEND_WINDOW_MS - 70_000) / 1000 });
  });
});

describe('mail templates', () => {
  it('puts the code in the subject, the text and the HTML of a code mail', () => {
    const mail = emailCodeMail({ to: 'a@example.com', code: '40918273', purpose: 'prove', minutes: 10, serviceName: 'Acme' });
    expect(mail.subject).toBe('Acme: your code is 40918273');
    expect(mail.text).toContain('Your code to finish signing in is 40918273');
    expect(mail.html).toContain('<strong style="font-size: 1.4em; letter-spacing: 0.1em">40918273</strong>');
  });

  it('escapes what it did not write in a notice\'s HTML', () => {
    const mail = securityNotificationMail({
      to: 'a@example.com',
      change: { event: 'authenticator.removed', method: 'webauthn', at: '2026-12-03T10:00:00.000Z', sourceIp: '<script>' },
      serviceName: 'Acme & Co',
      supportUrl: 'https://help.example.com/?a=1&b=2',
    });
    expect(mail.text).toContain('From IP address: <script>');
    expect(mail.html).toContain('From IP address: &lt;script&gt;');
    expect(mail.html).toContain('https://help.example.com/?a=1&amp;b=2');
    expect(mail.html).not.toContain('<script>');
  });
});
