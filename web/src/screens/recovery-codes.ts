import { signOut, type App } from '../app.js';
import { copyText } from '../clipboard.js';
import { button, h, uniqueId } from '../dom.js';
import { signInAgainNote } from '../messages.js';
import type { Routes } from '../router.js';
import { confirmCodesSaved, guardUnsavedCodes } from '../unsaved-codes-guard.js';

export const RECOVERY_CODES_FILE_NAME = 'serverless-mfa-recovery-codes.txt';

/**
 * Screen 5: the recovery codes, shown once. "Continue" waits for the user to say they saved
 * them; until then leaving asks first (unsaved-codes-guard.ts). After first set-up the user is
 * signed out to sign in again with MFA (Defguard's flow); after regenerating, back to the profile.
 */
export function showRecoveryCodes(app: App, { codes, reason, kind = 'totp' }: Routes['recovery-codes']): void {
  const username = app.session.username ?? '';
  const text = recoveryCodesFile(username, codes);
  const checkboxId = uniqueId('saved');
  const checkbox = h('input', { type: 'checkbox', id: checkboxId, className: 'checkbox' });
  const proceed = h('button', { type: 'button', className: 'button button-primary', disabled: true }, 'Continue');
  checkbox.addEventListener('change', () => {
    proceed.disabled = !checkbox.checked;
  });
  proceed.addEventListener('click', () => {
    if (!checkbox.checked) return;
    confirmCodesSaved(username);
    if (reason === 'enrolled') signOut(app, signInAgainNote(kind, true));
    else app.router.go('profile', { note: 'Your new recovery codes are active. The old ones no longer work.' });
  });

  guardUnsavedCodes(username);
  app.shell.show({
    title: 'Save your recovery codes',
    body: [
      h(
        'p',
        { className: 'lead' },
        'If you lose your phone or key, a recovery code is the only way to sign in. Each code works once. ',
        h('strong', {}, 'They are shown only now:'),
        ' keep them somewhere safe, such as a password manager.',
      ),
      h('ol', { className: 'codes', attrs: { 'aria-label': 'Recovery codes' } }, ...codes.map((code) => h('li', {}, h('code', {}, code)))),
      h(
        'div',
        { className: 'actions' },
        button('Copy', () => void copyText(app, text, 'Recovery codes copied.')),
        button('Download', () => download(app, text)),
      ),
      h('div', { className: 'check' }, checkbox, h('label', { htmlFor: checkboxId }, 'I have saved these codes')),
      h('div', { className: 'actions' }, proceed),
    ],
  });
}

/** The downloaded file: plain text, one code per line, with enough context to recognise it later. */
export function recoveryCodesFile(username: string, codes: string[], now = new Date()): string {
  return [
    `serverless-mfa recovery codes for ${username}`,
    `Created ${now.toISOString()}. Each code works once.`,
    '',
    ...codes,
    '',
  ].join('\n');
}

function download(app: App, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = h('a', { href: url, download: RECOVERY_CODES_FILE_NAME, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  app.shell.showStatus(`Recovery codes downloaded as ${RECOVERY_CODES_FILE_NAME}.`);
}
