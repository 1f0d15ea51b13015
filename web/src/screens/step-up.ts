import type { MfaStatus, SecondFactor } from '../../../client/index.js';
import { reportError, type App } from '../app.js';
import { button, h } from '../dom.js';
import { proofForm, proofMethodsOf, type ProofMethods } from '../proof-form.js';
import type { Routes, StepUp } from '../router.js';

/**
 * Changes that protect the account (new recovery codes, another method, removing one) ask for a
 * proof in the same request first: a current code, a recovery code or a security key.
 */
export function showStepUp(app: App, params: Routes['step-up']): void {
  const { status, ...stepUp } = params;
  if (status) return render(app, stepUp, status);
  app.shell.show({ title: titleOf(stepUp), body: [h('p', { className: 'muted' }, 'Loading…')] });
  app.client.getMfaStatus().then(
    (fetched) => render(app, stepUp, fetched),
    (error: unknown) => reportError(app, error),
  );
}

function render(app: App, stepUp: StepUp, status: MfaStatus): void {
  const methods = proofMethodsOf(status);
  const form = proofForm(app, {
    methods,
    submit: (proof) => perform(app, stepUp, proof),
    actions: [button('Cancel', () => app.router.go('profile'), { variant: 'link' })],
  });
  app.shell.show({ title: titleOf(stepUp, status), body: [h('p', { className: 'lead' }, explanation(stepUp, status, methods)), form.element], focus: form.field });
}

async function perform(app: App, stepUp: StepUp, proof: SecondFactor): Promise<void> {
  switch (stepUp.action) {
    case 'regenerate': {
      const { recoveryCodes } = await app.client.regenerateRecoveryCodes(proof);
      return app.router.go('recovery-codes', { codes: recoveryCodes, reason: 'regenerated' });
    }
    case 'add-app':
      return app.router.go('set-up', { enrollment: await app.client.startTotpEnrollment(proof) });
    case 'add-key':
      return app.router.go('add-security-key', { registration: await app.client.startWebAuthnRegistration(proof) });
    case 'add-email':
      return app.router.go('set-up-email', { sent: await app.client.startEmailEnrollment(proof) });
    case 'remove': {
      const removed = await app.client.removeAuthenticator(stepUp.authenticator.id, proof);
      return app.router.go('profile', {
        note: removed.mfaEnabled
          ? `"${stepUp.authenticator.name}" is removed.`
          : `"${stepUp.authenticator.name}" is removed. It was your last method: two-factor authentication is off and your recovery codes are deleted.`,
      });
    }
  }
}

function titleOf(stepUp: StepUp, status?: MfaStatus): string {
  switch (stepUp.action) {
    case 'regenerate':
      return 'Regenerate recovery codes';
    case 'add-app':
      return status && !status.methods.totp.enabled ? 'Set up one time password' : 'Add another app';
    case 'add-key':
      return 'Add security key';
    case 'add-email':
      return 'Set up email codes';
    case 'remove':
      return `Remove ${{ totp: 'authenticator app', webauthn: 'security key', email: 'email codes' }[stepUp.authenticator.kind]}`;
  }
}

function explanation(stepUp: StepUp, status: MfaStatus, methods: ProofMethods): string {
  const proofs = [methods.code && 'a current code', methods.email && 'a code by email', methods.recoveryCode && 'a recovery code', methods.securityKey && 'your security key'].filter(Boolean);
  const confirm = `Confirm it is you with ${proofs.length > 1 ? `${proofs.slice(0, -1).join(', ')} or ${proofs.at(-1)}` : proofs[0]}.`;
  switch (stepUp.action) {
    case 'regenerate':
      return `${confirm} Your old recovery codes stop working as soon as the new ones are made.`;
    case 'add-app':
      return `${confirm} Then scan a new QR code with the ${status.methods.totp.enabled ? 'other ' : ''}app.`;
    case 'add-key':
      return `${confirm} Then name the new key and follow your browser's prompt.`;
    case 'add-email':
      return `${confirm} Then we email you a code to turn email codes on.`;
    case 'remove': {
      const last = status.authenticators.length <= 1;
      return `${confirm} "${stepUp.authenticator.name}" then stops working for this account.${last ? ' It is your only method: removing it turns two-factor authentication off and deletes your recovery codes.' : ''}`;
    }
  }
}
