import { MfaProblemError, type MfaStatus } from '../../../client/index.js';
import { signOut, type App } from '../app.js';
import { button, h, uniqueId } from '../dom.js';
import { emailCodeMode } from '../email-code.js';
import { describeError, signInAgainNote } from '../messages.js';
import type { Routes } from '../router.js';

/**
 * Screen: email codes as a method. A code goes to the address the sign-in's identity provider
 * verified; typing it back turns the method on. While MFA is on, the step-up has already sent it.
 */
export function showSetUpEmail(app: App, { sent }: Routes['set-up-email']): void {
  const afterStepUp = sent !== undefined;
  const mode = emailCodeMode(app, {
    sent,
    // Another mail while MFA is on needs a proof again: that is the step-up's, so "Send again" starts over there.
    send: () => (afterStepUp ? Promise.reject(new MfaProblemError(403, 'step_up_required', 'Step-up required', '')) : app.client.startEmailEnrollment()),
    submitLabel: 'Turn on',
    intro: h('p', { className: 'lead' }, 'Each time you sign in, we can email you a code. Email is the weakest of the methods: anyone who can read your mail can use it, so prefer an app or a security key when you can.'),
    submit: async ({ emailCode }) => {
      const enabled = await app.client.confirmEmailEnrollment({ code: emailCode });
      if (enabled.recoveryCodes) app.router.go('recovery-codes', { codes: enabled.recoveryCodes, reason: 'enrolled', kind: 'email' });
      else signOut(app, signInAgainNote('email', false));
    },
    actions: [button('Cancel', () => app.router.go('profile'), { variant: 'link' })],
  });
  app.shell.show({ title: 'Set up email codes', body: [mode.element], focus: mode.field });
}

/** The profile's row for email codes, when the deployment offers them: "Enable" sends a code (after a step-up while MFA is on). */
export function emailMethodRow(app: App, status: MfaStatus): HTMLElement | null {
  if (!app.config.emailCodes) return null;
  const { email } = status.methods;
  const address = status.authenticators.find((authenticator) => authenticator.kind === 'email')?.address;
  const nameId = uniqueId('method');
  const enable = button('Enable', () => (status.mfaEnabled ? app.router.go('step-up', { action: 'add-email', status }) : app.router.go('set-up-email', {})), {
    variant: 'primary',
  });
  enable.setAttribute('aria-describedby', nameId);
  return h(
    'li',
    { className: 'method' },
    h(
      'div',
      { className: 'method-text' },
      h('h2', { id: nameId, className: 'method-name' }, 'Email codes'),
      h('p', { className: 'muted' }, email.enabled ? `Codes go to ${address ?? 'your email address'}.` : 'A code sent to your verified email address. The weakest method: use it as a fallback.'),
    ),
    h('span', { className: `badge ${email.enabled ? 'badge-on' : 'badge-off'}` }, email.enabled ? 'On' : 'Off'),
    email.enabled ? '' : enable,
  );
}

/** What to say when a set-up could not start: the profile shows it. */
export function emailSetUpProblem(error: unknown): string | undefined {
  return error instanceof MfaProblemError ? describeError(error, 'email-code') : undefined;
}
