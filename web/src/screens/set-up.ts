import { MfaProblemError, type TotpEnrollment } from '../../../client/index.js';
import { reportError, signOut, type App } from '../app.js';
import { copyText } from '../clipboard.js';
import { button, h, textField, timeOfDay } from '../dom.js';
import { describeError, signInAgainNote } from '../messages.js';
import { dropNameDraft, keepNameDraft } from '../name-drafts.js';
import { proofForm } from '../proof-form.js';
import type { Routes } from '../router.js';

export const DEFAULT_APP_NAME = 'Authenticator app';

/**
 * Screen 4: a new secret as a QR code and as text, confirmed with the first code the app shows.
 * The first app starts here; another app arrives with the enrollment its step-up started.
 */
export function showSetUp(app: App, { enrollment }: Routes['set-up']): void {
  if (enrollment) return renderSetUp(app, enrollment, true);
  app.shell.show({ title: 'Set up one time password', body: [h('p', { className: 'muted' }, 'Preparing your QR code…')] });
  app.client.startTotpEnrollment().then(
    (started) => renderSetUp(app, started, false),
    (error: unknown) => {
      // MFA was switched on elsewhere meanwhile: another app needs a proof first.
      if (error instanceof MfaProblemError && (error.code === 'totp_already_enabled' || error.code === 'step_up_required')) {
        app.router.go('profile', { note: describeError(error) });
      } else {
        reportError(app, error);
      }
    },
  );
}

/** `afterStepUp`: MFA is on, and the enrollment was started with a proof. */
function renderSetUp(app: App, enrollment: TotpEnrollment, afterStepUp: boolean): void {
  const name = textField({ label: 'App name', hint: 'To tell your apps apart, such as "Phone" or "Bitwarden".', maxLength: 64 });
  keepNameDraft('app', name.input, DEFAULT_APP_NAME);
  const cancel = () => {
    dropNameDraft('app');
    app.router.go('profile');
  };
  const form = proofForm(app, {
    methods: { code: true, recoveryCode: false, securityKey: false },
    context: 'enrollment',
    submit: async (proof) => {
      if (!('code' in proof)) return;
      const confirmed = await app.client.confirmTotpEnrollment({ code: proof.code, name: name.input.value.trim() || DEFAULT_APP_NAME });
      dropNameDraft('app');
      if (confirmed.recoveryCodes) app.router.go('recovery-codes', { codes: confirmed.recoveryCodes, reason: 'enrolled', kind: 'totp' });
      else signOut(app, signInAgainNote('totp', false));
    },
    actions: [
      // Another app's enrollment began with a proof, so starting again asks for one again.
      button('Start again', () => (afterStepUp ? app.router.go('step-up', { action: 'add-app' }) : app.router.go('set-up')), { variant: 'link' }),
      button('Cancel', cancel, { variant: 'link' }),
    ],
  });
  // Enter in "App name" goes on to the code (the form's own fields submit it): to the code field while it is empty, else submits.
  name.input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.isComposing) return;
    event.preventDefault();
    const code = form.element.querySelector('form');
    const codeField = code?.querySelector('input');
    if (codeField && codeField.value.trim() === '') codeField.focus();
    else code?.requestSubmit();
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
      // On a phone the QR code is on the phone itself: the same otpauth:// URI as a link opens the app (shown on narrow screens only).
      h('p', { className: 'otpauth-link' }, h('a', { href: enrollment.otpauthUri, className: 'button button-secondary' }, 'Open in authenticator app')),
      h('p', { className: 'muted' }, `This QR code works until ${timeOfDay(new Date(enrollment.expiresAt), { seconds: true })}.`),
    ),
    h(
      'li',
      {},
      h('p', {}, "Can't scan it? Choose to enter a setup key in the app and type this secret:"),
      h('div', { className: 'secret-row' }, secret, button('Copy secret', () => void copyText(app, enrollment.secret, 'Secret copied.'))),
    ),
    h('li', {}, h('p', {}, 'Name the app, then enter the code it now shows to confirm:'), name.wrapper, form.element),
  );
  app.shell.show({ title: 'Set up one time password', body: [steps] });
}

function groupsOfFour(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}
