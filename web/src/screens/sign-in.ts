import { onSubmit, refuseInField, showAccount, type App } from '../app.js';
import { h, textField } from '../dom.js';
import type { FirstFactorResult } from '../first-factor.js';
import { describeError } from '../messages.js';
import type { Routes } from '../router.js';

/** Usernames the dev issuer accepts (local/dev-identity-provider.ts); also fine as a login hint. */
const USERNAME_PATTERN = /^[A-Za-z0-9._@+-]{1,128}$/;

/**
 * Screen 1: the first factor, through the configured identity provider (locally the dev
 * issuer: any username, no password). Then the MFA state decides whether a second step is needed.
 */
export function showSignIn(app: App, { note, error }: Routes['sign-in']): void {
  const username = textField({ label: 'Username', autocomplete: 'username', hint: app.firstFactor.hint });
  const form = h(
    'form',
    { className: 'form', noValidate: true },
    username.wrapper,
    h('div', { className: 'actions' }, h('button', { type: 'submit', className: 'button button-primary' }, 'Sign in')),
  );

  const refuse = (message: string) => refuseInField(app, username, message);

  onSubmit(form, async () => {
    const name = username.input.value.trim();
    if (!USERNAME_PATTERN.test(name)) {
      return refuse(name === '' ? 'Enter your username.' : 'A username uses letters, digits and . _ @ + - only.');
    }
    try {
      const result = await app.firstFactor.signIn(name);
      if (result !== 'redirected') await continueAfterFirstFactor(app, result);
    } catch (failure) {
      app.session.signOut();
      refuse(failure instanceof Error && failure.name === 'FirstFactorError' ? failure.message : describeError(failure));
    }
  });

  app.shell.show({ title: 'Sign in', body: [form], focus: username.input });
  if (error) app.shell.showError(error);
  else if (note) app.shell.showStatus(note);
}

/** With a first-factor token: the second step when MFA is on, else straight to the profile. */
export async function continueAfterFirstFactor(app: App, { token, username }: FirstFactorResult): Promise<void> {
  app.session.signIn(username, token);
  const status = await app.client.getMfaStatus();
  showAccount(app, status.mfaEnabled ? 'signing-in' : 'signed-in');
  if (status.mfaEnabled) app.router.go('second-step', { status });
  else app.router.go('profile', { status });
}
