import { onSubmit, signOut, type App } from '../app.js';
import { h, textField } from '../dom.js';
import { describeError } from '../messages.js';
import { showProfile } from './profile.js';
import { showSecondStep } from './second-step.js';

/** The dev identity provider's rule for a subject (local/dev-identity-provider.ts). */
const USERNAME_PATTERN = /^[A-Za-z0-9._@+-]{1,128}$/;

/**
 * Screen 1: the first factor. Locally that is POST /dev/token for any username; then the
 * MFA state decides whether a second step is needed.
 */
export function showSignIn(app: App, note?: string): void {
  const username = textField({ label: 'Username', autocomplete: 'username', hint: 'Local development: any name signs you in, no password.' });
  const form = h(
    'form',
    { className: 'form', noValidate: true },
    username.wrapper,
    h('div', { className: 'actions' }, h('button', { type: 'submit', className: 'button button-primary' }, 'Sign in')),
  );

  onSubmit(form, async () => {
    const name = username.input.value.trim();
    if (!USERNAME_PATTERN.test(name)) {
      username.setInvalid(true);
      app.shell.showError(name === '' ? 'Enter your username.' : 'A username uses letters, digits and . _ @ + - only.');
      username.input.focus();
      return;
    }
    try {
      const { token } = await app.client.createDevToken({ sub: name });
      app.session.signIn(name, token);
      const status = await app.client.getMfaStatus();
      app.shell.setAccount(name, () => signOut(app));
      if (status.mfaEnabled) showSecondStep(app);
      else showProfile(app, { status });
    } catch (error) {
      app.session.signOut();
      username.setInvalid(true);
      app.shell.showError(describeError(error));
      username.input.focus();
    }
  });

  app.shell.show({ title: 'Sign in', body: [form], focus: username.input });
  if (note) app.shell.showStatus(note);
}
