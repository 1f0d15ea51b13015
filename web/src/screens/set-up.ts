import { MfaProblemError, type TotpEnrollment } from '../../../client/index.js';
import { reportError, signOut, type App } from '../app.js';
import { copyText } from '../clipboard.js';
import { codeForm } from '../code-form.js';
import { button, h, timeOfDay } from '../dom.js';
import { describeError, SIGN_IN_AGAIN_NOTE } from '../messages.js';

/** Screen 4: a new secret as a QR code and as text, confirmed with the first code the app shows. */
export function showSetUp(app: App): void {
  app.shell.show({ title: 'Set up one time password', body: [h('p', { className: 'muted' }, 'Preparing your QR code…')] });
  app.client.startTotpEnrollment().then(
    (enrollment) => renderSetUp(app, enrollment),
    (error: unknown) => {
      if (error instanceof MfaProblemError && error.code === 'totp_already_enabled') {
        app.router.go('profile', { note: describeError(error) });
      } else {
        reportError(app, error);
      }
    },
  );
}

function renderSetUp(app: App, enrollment: TotpEnrollment): void {
  const form = codeForm(app, {
    allowRecoveryCode: false,
    context: 'enrollment',
    submit: async (factor) => {
      if (!('code' in factor)) return;
      const confirmed = await app.client.confirmTotpEnrollment({ code: factor.code });
      if (confirmed.recoveryCodes) app.router.go('recovery-codes', { codes: confirmed.recoveryCodes, reason: 'enrolled' });
      else signOut(app, SIGN_IN_AGAIN_NOTE);
    },
    actions: [button('Start again', () => app.router.go('set-up'), { variant: 'link' }), button('Cancel', () => app.router.go('profile'), { variant: 'link' })],
  });

  const secret = h('code', { className: 'secret' }, groupsOfFour(enrollment.secret));
  const steps = h(
    'ol',
    { className: 'steps' },
    h(
      'li',
      {},
      h('p', {}, 'Open your authenticator app (for example Google Authenticator or Bitwarden), choose ', h('em', {}, 'Add a code'), ', then ', h('em', {}, 'Scan a QR code'), ' and scan this one:'),
      h('img', {
        className: 'qr',
        src: enrollment.qrCode,
        alt: 'QR code for one time password: scan it with your authenticator app',
        width: 256,
        height: 256,
      }),
      h('p', { className: 'muted' }, `This QR code works until ${timeOfDay(new Date(enrollment.expiresAt))}.`),
    ),
    h(
      'li',
      {},
      h('p', {}, "Can't scan it? Choose to enter a setup key in the app and type this secret:"),
      h('div', { className: 'secret-row' }, secret, button('Copy secret', () => void copyText(app, enrollment.secret, 'Secret copied.'))),
    ),
    h('li', {}, h('p', {}, 'Enter the code the app now shows to confirm:'), form.element),
  );
  app.shell.show({ title: 'Set up one time password', body: [steps] });
}

function groupsOfFour(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}
