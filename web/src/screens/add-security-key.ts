import { MfaProblemError, type WebAuthnRegistration } from '../../../client/index.js';
import { onSubmit, reportError, signOut, type App } from '../app.js';
import { button, h, textField } from '../dom.js';
import { describeError, isSessionExpired, signInAgainNote } from '../messages.js';
import { dropNameDraft, keepNameDraft } from '../name-drafts.js';
import type { Routes } from '../router.js';
import { createKeyCredential, PreparedOptions, securityKeysSupported } from '../security-key.js';

export const DEFAULT_KEY_NAME = 'Security key';

/**
 * A security key or passkey: a "Key name", then "Add" opens the browser's prompt. The options
 * are fetched as the screen opens (or come from the step-up), so "Add" calls the browser
 * straight away, inside the user's gesture as Safari needs.
 */
export function showAddSecurityKey(app: App, { registration }: Routes['add-security-key']): void {
  const title = 'Add security key';
  if (!securityKeysSupported()) {
    app.shell.show({
      title,
      body: [
        h('p', { className: 'lead' }, 'This browser cannot use security keys or passkeys. Open this page in a current Chrome, Edge, Firefox or Safari.'),
        h('div', { className: 'actions' }, button('Back to two-factor methods', () => app.router.go('profile'))),
      ],
    });
    return;
  }
  // A registration that came from a step-up was paid for with a proof; a new one needs another.
  const fromStepUp = registration !== undefined;
  const prepared = new PreparedOptions<WebAuthnRegistration>(() => app.client.startWebAuthnRegistration());
  if (registration) prepared.hold(registration);
  else prepared.prepare();

  const name = textField({ label: 'Key name', hint: `To tell your keys apart, such as "YubiKey on my keyring". Left empty, it is called "${DEFAULT_KEY_NAME}".`, maxLength: 64 });
  keepNameDraft('key', name.input);
  const startAgain = () => (fromStepUp ? app.router.go('step-up', { action: 'add-key' }) : app.router.go('add-security-key'));
  const form = h(
    'form',
    { className: 'form', noValidate: true },
    name.wrapper,
    h(
      'div',
      { className: 'actions' },
      h('button', { type: 'submit', className: 'button button-primary' }, 'Add'),
      button('Start again', startAgain, { variant: 'link' }),
      button(
        'Cancel',
        () => {
          dropNameDraft('key');
          app.router.go('profile');
        },
        { variant: 'link' },
      ),
    ),
  );

  const refuse = (message: string) => {
    app.shell.showError(message);
    name.input.focus();
  };

  onSubmit(form, async () => {
    app.shell.showStatus("Use your security key now: follow your browser's prompt.");
    // With the options already here, the browser is called before anything is awaited.
    let options = prepared.takeReady();
    try {
      const credential = await createKeyCredential((options ??= await prepared.take()).value.options);
      const keyName = name.input.value.trim();
      const confirmed = await app.client.confirmWebAuthnRegistration({ credential, ...(keyName ? { name: keyName } : {}) });
      dropNameDraft('key');
      if (confirmed.recoveryCodes) app.router.go('recovery-codes', { codes: confirmed.recoveryCodes, reason: 'enrolled', kind: 'webauthn' });
      else signOut(app, signInAgainNote('webauthn', false));
    } catch (error) {
      if (isSessionExpired(error)) return reportError(app, error);
      if (error instanceof MfaProblemError) {
        // The server has seen (and used up) these options: the next try needs new ones.
        if (!fromStepUp) prepared.prepare();
      } else if (options) {
        // The browser's prompt was closed or failed: the server never saw the options, so they still work.
        prepared.hold(options.value, options.arrivedAt);
      }
      refuse(describeError(error, 'key-registration'));
    }
  });

  app.shell.show({
    title,
    body: [
      h(
        'p',
        { className: 'lead' },
        'Insert your security key, or have the phone or computer that keeps your passkeys at hand. Name the key, choose "Add" and follow your browser\'s prompt.',
      ),
      form,
    ],
    focus: name.input,
  });
}
