import type { App } from '../app.js';
import { codeForm } from '../code-form.js';
import { button, h } from '../dom.js';
import type { Routes } from '../router.js';

type ConfirmedAction = Routes['confirm-with-code']['action'];

const ACTIONS: Record<ConfirmedAction, { title: string; explanation: string }> = {
  disable: {
    title: 'Disable one time password',
    explanation: 'Enter a current code to confirm. Turning it off also deletes your recovery codes: signing in will then need your username only.',
  },
  regenerate: {
    title: 'Regenerate recovery codes',
    explanation: 'Enter a current code to confirm. Your old recovery codes stop working as soon as the new ones are made.',
  },
};

/** Disable and regenerate change what protects the account, so they ask for a current code first. */
export function showConfirmWithCode(app: App, { action }: Routes['confirm-with-code']): void {
  const { title, explanation } = ACTIONS[action];
  const form = codeForm(app, {
    allowRecoveryCode: true,
    submit: async (factor) => {
      if (action === 'disable') {
        await app.client.disableTotp(factor);
        app.router.go('profile', { note: 'One time password is off and your recovery codes are deleted.' });
      } else {
        const { recoveryCodes } = await app.client.regenerateRecoveryCodes(factor);
        app.router.go('recovery-codes', { codes: recoveryCodes, reason: 'regenerated' });
      }
    },
    actions: [button('Cancel', () => app.router.go('profile'), { variant: 'link' })],
  });
  app.shell.show({ title, body: [h('p', { className: 'lead' }, explanation), form.element], focus: form.field });
}
