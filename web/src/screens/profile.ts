import type { MfaStatus } from '../../../client/index.js';
import { reportError, type App } from '../app.js';
import { button, dateAndTime, h, uniqueId } from '../dom.js';
import type { Routes } from '../router.js';

/** At or below this many unused recovery codes the profile asks the user to regenerate. */
export const LOW_RECOVERY_CODES = 3;

/** Screen 3: the two-factor methods and recovery codes, as Defguard's "My Profile" lists them. */
export function showProfile(app: App, options: Routes['profile']): void {
  const content = h('div', { className: 'profile' }, h('p', { className: 'muted' }, 'Loading…'));
  app.shell.show({ title: 'Two-factor methods', body: [content] });
  if (options.note) app.shell.showStatus(options.note);

  const render = (status: MfaStatus) => {
    // MFA switched on elsewhere since sign-in: this session has only one factor.
    if (status.mfaEnabled && !app.session.assertion) return app.router.go('second-step');
    content.replaceChildren(methodList(app, status), recoveryCodesSection(app, status));
  };

  if (options.status) render(options.status);
  else app.client.getMfaStatus().then(render, (error: unknown) => reportError(app, error));
}

function methodList(app: App, status: MfaStatus): HTMLElement {
  const { totp } = status.methods;
  const nameId = uniqueId('method');
  const action = totp.enabled
    ? button('Disable', () => app.router.go('confirm-with-code', { action: 'disable' }), { variant: 'danger' })
    : button('Enable', () => app.router.go('set-up'), { variant: 'primary' });
  action.setAttribute('aria-describedby', nameId);
  const details = totp.enabled
    ? [totp.enrolledAt ? `Turned on ${dateAndTime(totp.enrolledAt)}` : null, totp.lastUsedAt ? `last used ${dateAndTime(totp.lastUsedAt)}` : null]
        .filter(Boolean)
        .join(' · ')
    : 'Codes from an authenticator app such as Google Authenticator or Bitwarden.';
  return h(
    'ul',
    { className: 'methods', attrs: { 'aria-label': 'Two-factor methods' } },
    h(
      'li',
      { className: 'method' },
      h('div', { className: 'method-text' }, h('h2', { id: nameId, className: 'method-name' }, 'One time password'), h('p', { className: 'muted' }, details)),
      h('span', { className: `badge ${totp.enabled ? 'badge-on' : 'badge-off'}` }, totp.enabled ? 'On' : 'Off'),
      action,
    ),
  );
}

function recoveryCodesSection(app: App, status: MfaStatus): HTMLElement {
  const section = h('section', { className: 'recovery', attrs: { 'aria-labelledby': 'recovery-heading' } }, h('h2', { id: 'recovery-heading' }, 'Recovery codes'));
  if (!status.mfaEnabled) {
    section.append(h('p', { className: 'muted' }, 'You get recovery codes when you turn on a two-factor method. They let you sign in if you lose your phone.'));
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
    h(
      'div',
      { className: 'actions' },
      button('Regenerate recovery codes', () => app.router.go('confirm-with-code', { action: 'regenerate' })),
    ),
  );
  return section;
}
