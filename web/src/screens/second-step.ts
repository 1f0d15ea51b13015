import type { MfaStatus } from '../../../client/index.js';
import { reportError, signOut, type App } from '../app.js';
import { button, h } from '../dom.js';
import { proofForm, proofMethodsOf } from '../proof-form.js';
import { rememberBrowserOption, signInWithRememberedBrowser } from '../remembered-browser.js';
import type { Routes } from '../router.js';

/**
 * Screen 2: MFA is on, so the first factor alone is not enough: a code, a recovery code or a
 * security key gets the assertion. A browser remembered for this user and app tries first,
 * without asking.
 */
export function showSecondStep(app: App, { status }: Routes['second-step']): void {
  app.shell.show({ title: 'Two-factor authentication', body: [h('p', { className: 'muted' }, 'Loading…')] });
  void (async () => {
    const remembered = await signInWithRememberedBrowser(app);
    if (remembered) {
      app.session.holdAssertion(remembered);
      return app.router.go('profile', { note: signedInNote(remembered.method, remembered.recoveryCodesRemaining) });
    }
    render(app, status ?? (await app.client.getMfaStatus()));
  })().catch((error: unknown) => reportError(app, error));
}

function render(app: App, status: MfaStatus): void {
  const remember = rememberBrowserOption(app);
  const form = proofForm(app, {
    methods: proofMethodsOf(status),
    intro: {
      code: 'Open your authenticator app and enter the code it shows for this account.',
      'recovery-code': 'Lost your phone? Enter one of the recovery codes you saved when you turned on two-factor authentication.',
      'security-key': 'Use the security key or passkey you added to this account.',
    },
    submit: async (proof) => {
      const verified = await remember.verify(proof);
      app.session.holdAssertion(verified);
      app.router.go('profile', { note: signedInNote(verified.method, verified.recoveryCodesRemaining) });
    },
    actions: [button('Cancel', () => signOut(app), { variant: 'link' })],
  });
  app.shell.show({ title: 'Two-factor authentication', body: [form.element, remember.element], focus: form.field });
}

export function signedInNote(method: 'totp' | 'recovery_code' | 'webauthn' | 'email' | 'device', remaining: number): string {
  if (method === 'recovery_code') return `Signed in with a recovery code. ${remaining === 1 ? '1 recovery code' : `${remaining} recovery codes`} left.`;
  if (method === 'webauthn') return 'Signed in with your security key.';
  if (method === 'email') return 'Signed in with a code sent to your email.';
  if (method === 'device') return 'Signed in with this remembered browser.';
  return 'Signed in with two-factor authentication.';
}
