import type { ChangeEventName } from '../domain/change-events.js';
import type { ProofMethod } from '../methods/kinds.js';
import type { Mail } from '../ports/mailer.js';

/**
 * Every mail the service sends, written here and nowhere else: plain text and HTML of the same
 * words. Values from outside (a name, an address) are escaped in the HTML. A notification
 * never carries a code, a secret or a token: only what happened, when and from where.
 */

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function htmlOf(paragraphs: readonly string[]): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return `<!doctype html>\n<html><body style="font-family: sans-serif; line-height: 1.5">\n${body}\n</body></html>\n`;
}

/** The mail with an email code: the code, what it is for, how long it lasts. */
export function emailCodeMail(input: { to: string; code: string; purpose: 'enroll' | 'prove'; minutes: number; serviceName: string }): Mail {
  const what = input.purpose === 'enroll' ? 'to turn on email codes for two-factor sign-in' : 'to finish signing in';
  const subject = `${input.serviceName}: your code is ${input.code}`;
  const paragraphs = [
    `Your code ${what} is ${input.code}`,
    `It works once and expires in ${input.minutes} minutes. Nobody from ${input.serviceName} will ever ask you for it.`,
    'If you did not ask for this code, someone may know your password: change it.',
  ];
  const html = htmlOf(paragraphs).replace(escapeHtml(input.code), `<strong style="font-size: 1.4em; letter-spacing: 0.1em">${escapeHtml(input.code)}</strong>`);
  return { to: input.to, subject, text: `${paragraphs.join('\n\n')}\n`, html };
}

const METHOD_WORDS: Record<ProofMethod, string> = {
  totp: 'an authenticator app',
  webauthn: 'a security key',
  email: 'email codes',
  recovery_code: 'a recovery code',
  device: 'a remembered browser',
};

/** The change events a user is told about, and how each reads. Not here: `mfa.enabled` (its `authenticator.added` tells it) and signals that change nothing. */
export const NOTIFIED_EVENTS = {
  'authenticator.added': (e) => `A two-factor method was added to your account: ${methodWords(e.method)}.`,
  'authenticator.renamed': (e) => `A two-factor method of your account was renamed: ${methodWords(e.method)}.`,
  'authenticator.removed': (e) => `A two-factor method was removed from your account: ${methodWords(e.method)}.`,
  'mfa.disabled': () => 'Two-factor authentication was turned off for your account.',
  'recovery_codes.regenerated': (e) => `New recovery codes were made for your account (${e.recoveryCodesRemaining ?? 10} codes); the old ones no longer work.`,
  'recovery_code.used': (e) => `A recovery code of your account was used, to sign in or to confirm a change (${e.recoveryCodesRemaining ?? 0} left).`,
  'lockout.started': () => 'Two-factor sign-in to your account was locked for a while after too many wrong codes.',
  'admin.reset': () => 'Support reset two-factor authentication for your account: every method and recovery code was removed.',
  'admin.unlock': () => 'Support unlocked two-factor sign-in for your account.',
  'device.remembered': () => 'A browser was remembered for two-factor sign-in to your account: it signs in without a second factor until it expires or is forgotten.',
} as const satisfies Partial<Record<ChangeEventName, (event: NotifiedEvent) => string>>;

export type NotifiedEventName = keyof typeof NOTIFIED_EVENTS;

export interface NotifiedEvent {
  event: NotifiedEventName;
  method?: ProofMethod | undefined;
  recoveryCodesRemaining?: number | undefined;
  /** ISO 8601 time of the change. */
  at: string;
  sourceIp?: string | undefined;
  /** For the address notices went to before this change: where they go now (masked). */
  noticesNowGoTo?: string | undefined;
}

const methodWords = (method: ProofMethod | undefined): string => (method ? METHOD_WORDS[method] : 'a method');

export const isNotifiedEvent = (name: string): name is NotifiedEventName => Object.hasOwn(NOTIFIED_EVENTS, name);

/** One security notification: what happened, when, from which address, and what to do if it was not the user. */
export function securityNotificationMail(input: { to: string; change: NotifiedEvent; serviceName: string; supportUrl?: string | undefined }): Mail {
  const { change } = input;
  const what = NOTIFIED_EVENTS[change.event](change);
  const when = `When: ${new Date(change.at).toUTCString()}`;
  const where = `From IP address: ${change.sourceIp ?? 'unknown'}`;
  const help = input.supportUrl
    ? `If this was not you, sign in and check your two-factor methods, change your password, and contact support: ${input.supportUrl}`
    : 'If this was not you, sign in and check your two-factor methods, change your password, and contact support.';
  const moved = change.noticesNowGoTo ? [`Security notices for your account now go to another address: ${change.noticesNowGoTo}.`] : [];
  const paragraphs = [what, ...moved, when, where, help, `This is an automatic security notice from ${input.serviceName}; it never contains a code.`];
  return { to: input.to, subject: `${input.serviceName}: security notice about your sign-in settings`, text: `${paragraphs.join('\n\n')}\n`, html: htmlOf(paragraphs) };
}
