import { signOut, type App } from '../app.js';
import { codeForm } from '../code-form.js';
import { button } from '../dom.js';

/** Screen 2: MFA is on, so the first factor alone is not enough: verify a code to get the assertion. */
export function showSecondStep(app: App): void {
  const form = codeForm(app, {
    allowRecoveryCode: true,
    intro: {
      code: 'Open your authenticator app and enter the code it shows for this account.',
      recoveryCode: 'Lost your phone? Enter one of the recovery codes you saved when you turned on two-factor authentication.',
    },
    submit: async (factor) => {
      const verified = await app.client.verifyMfa(factor);
      app.session.holdAssertion(verified);
      app.router.go('profile', {
        note: verified.method === 'recovery_code' ? `Signed in with a recovery code. ${plural(verified.recoveryCodesRemaining)} left.` : 'Signed in with two-factor authentication.',
      });
    },
    actions: [button('Cancel', () => signOut(app), { variant: 'link' })],
  });
  app.shell.show({
    title: 'Two-factor authentication',
    body: [form.element],
    focus: form.field,
  });
}

function plural(count: number): string {
  return count === 1 ? '1 recovery code' : `${count} recovery codes`;
}
