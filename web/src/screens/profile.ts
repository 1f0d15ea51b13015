import type { Authenticator, MfaStatus } from '../../../client/index.js';
import { reportError, showAccount, type App } from '../app.js';
import { button, dateAndTime, h, uniqueId } from '../dom.js';
import { profileNotices } from '../profile-notices.js';
import type { Routes } from '../router.js';
import { rememberedBrowsersSection } from './remembered-browsers.js';
import { securityKeysSupported } from '../security-key.js';
import { emailMethodRow } from './set-up-email.js';

/** At or below this many unused recovery codes the profile asks the user to regenerate. */
export const LOW_RECOVERY_CODES = 3;

/**
 * Screen 3: the two-factor methods, each authenticator, and the recovery codes, as Defguard's
 * "My Profile" lists them. Adding a method while MFA is on asks for a proof first (step-up).
 */
export function showProfile(app: App, options: Routes['profile']): void {
  const content = h('div', { className: 'profile' }, h('p', { className: 'muted' }, 'Loading…'));
  app.shell.show({ title: 'Two-factor methods', body: [content] });
  if (options.note) app.shell.showStatus(options.note);

  const render = (status: MfaStatus): void => {
    // MFA switched on elsewhere since sign-in: this session has only one factor.
    if (status.mfaEnabled && !app.session.assertion) return app.router.go('second-step', { status });
    showAccount(app, 'signed-in');
    content.replaceChildren(...profileNotices(app, status, () => render(status)), methodList(app, status), authenticatorList(app, status), rememberedBrowsersSection(app, status), recoveryCodesSection(app, status));
  };

  if (options.status) render(options.status);
  else app.client.getMfaStatus().then(render, (error: unknown) => reportError(app, error));
}

function methodList(app: App, status: MfaStatus): HTMLElement {
  const { totp, webauthn } = status.methods;
  const addApp = () => (status.mfaEnabled ? app.router.go('step-up', { action: 'add-app', status }) : app.router.go('set-up'));
  // Without WebAuthn in this browser the key screen says so at once, before any proof is spent.
  const addKey = () =>
    status.mfaEnabled && securityKeysSupported() ? app.router.go('step-up', { action: 'add-key', status }) : app.router.go('add-security-key');
  return h(
    'ul',
    { className: 'methods', attrs: { 'aria-label': 'Two-factor methods' } },
    methodRow({
      name: 'One time password',
      on: totp.enabled,
      details: totp.enabled
        ? count(totp.count, 'authenticator app')
        : 'Codes from an authenticator app such as Google Authenticator or Bitwarden.',
      action: totp.enabled ? button('Add another app', addApp) : button('Enable', addApp, { variant: 'primary' }),
    }),
    methodRow({
      name: 'Security keys',
      on: webauthn.enabled,
      details: webauthn.enabled ? count(webauthn.count, 'security key') : 'A hardware key such as a YubiKey, or a passkey on your phone or computer.',
      action: button('Add security key', addKey),
    }),
    emailMethodRow(app, status),
  );
}

function methodRow(method: { name: string; on: boolean; details: string; action: HTMLButtonElement }): HTMLElement {
  const nameId = uniqueId('method');
  method.action.setAttribute('aria-describedby', nameId);
  return h(
    'li',
    { className: 'method' },
    h('div', { className: 'method-text' }, h('h2', { id: nameId, className: 'method-name' }, method.name), h('p', { className: 'muted' }, method.details)),
    h('span', { className: `badge ${method.on ? 'badge-on' : 'badge-off'}` }, method.on ? 'On' : 'Off'),
    method.action,
  );
}

/** Each app and key on its own line: kind, name, when added and last used, with Rename and Remove. */
function authenticatorList(app: App, status: MfaStatus): HTMLElement | string {
  if (status.authenticators.length === 0) return '';
  const headingId = uniqueId('authenticators');
  return h(
    'section',
    { className: 'authenticators', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId }, 'Your authenticators'),
    h(
      'ul',
      { className: 'authenticator-list', attrs: { 'aria-labelledby': headingId } },
      ...status.authenticators.map((authenticator) => {
        const nameId = uniqueId('authenticator');
        const rename = button('Rename', () => app.router.go('rename', { authenticator }), { variant: 'link' });
        const remove = button('Remove', () => app.router.go('step-up', { action: 'remove', authenticator, status }), { variant: 'link' });
        for (const action of [rename, remove]) action.setAttribute('aria-describedby', nameId);
        return h(
          'li',
          { className: 'authenticator' },
          h(
            'div',
            { className: 'authenticator-text' },
            h('p', { className: 'authenticator-kind' }, kindLabel(authenticator)),
            h('h3', { id: nameId, className: 'authenticator-name' }, authenticator.name),
            h(
              'p',
              { className: 'muted' },
              `Added ${dateAndTime(authenticator.createdAt)} · ${authenticator.lastUsedAt ? `last used ${dateAndTime(authenticator.lastUsedAt)}` : 'not used yet'}`,
            ),
          ),
          h('div', { className: 'authenticator-actions' }, rename, remove),
        );
      }),
    ),
  );
}

function kindLabel(authenticator: Authenticator): string {
  if (authenticator.kind === 'totp') return 'Authenticator app';
  if (authenticator.kind === 'email') return `Email codes · ${authenticator.address ?? ''}`;
  return authenticator.backedUp ? 'Passkey (synced)' : 'Security key';
}

function count(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? '' : 's'}`;
}

function recoveryCodesSection(app: App, status: MfaStatus): HTMLElement {
  const section = h('section', { className: 'recovery', attrs: { 'aria-labelledby': 'recovery-heading' } }, h('h2', { id: 'recovery-heading' }, 'Recovery codes'));
  if (!status.mfaEnabled) {
    section.append(h('p', { className: 'muted' }, 'You get recovery codes when you turn on a two-factor method. They let you sign in if you lose your phone or key.'));
    return section;
  }
  const remaining = status.recoveryCodes.remaining;
  section.append(h('p', { className: 'remaining' }, `Recovery codes remaining: ${remaining}`));
  if (remaining <= LOW_RECOVERY_CODES) {
    section.append(
      h(
        'p',
        { className: 'warning' },
        h('strong', {}, 'Warning: '),
        remaining === 0
          ? 'you have no recovery codes left. Regenerate them so you can still sign in if you lose your phone.'
          : `only ${remaining} left. Regenerate them so you can still sign in if you lose your phone.`,
      ),
    );
  }
  section.append(
    h('div', { className: 'actions' }, button('Regenerate recovery codes', () => app.router.go('step-up', { action: 'regenerate', status }))),
  );
  return section;
}
