import type { Authenticator, MfaStatus } from '../../client/index.js';
import type { App } from './app.js';
import { button, h, timeOfDay, uniqueId } from './dom.js';
import { confirmCodesSaved, unconfirmedCodesOf } from './unsaved-codes-guard.js';

/** The sign-in whose recovery-code notice the user put away (a later sign-in with a code shows it again). */
let dismissedFor: object | undefined;

/**
 * What the profile says above everything else, when it applies: recovery codes left on screen
 * without being confirmed as saved (offering new ones, with a proof), and, after a sign-in with a
 * recovery code, the way to replace a lost phone or key, with each authenticator and its "Remove".
 */
export function profileNotices(app: App, status: MfaStatus, redraw: () => void): HTMLElement[] {
  return [unconfirmedCodesNotice(app, status, redraw), recoverySignInNotice(app, status, redraw)].filter((notice): notice is HTMLElement => notice !== undefined);
}

function unconfirmedCodesNotice(app: App, status: MfaStatus, redraw: () => void): HTMLElement | undefined {
  const username = app.session.username;
  const shownAt = username ? unconfirmedCodesOf(username) : undefined;
  if (!username || !shownAt) return undefined;
  // With MFA off the codes are deleted: nothing is left to lose.
  if (!status.mfaEnabled) {
    confirmCodesSaved(username);
    return undefined;
  }
  const headingId = uniqueId('notice');
  return h(
    'section',
    { className: 'notice notice-warning', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId }, 'Your recovery codes were not confirmed as saved'),
    h(
      'p',
      {},
      `The recovery codes shown at ${timeOfDay(new Date(shownAt))} were left before "I have saved these codes" was ticked. `,
      'If you did not save them, make new ones now: you confirm it is you, and the old codes stop working.',
    ),
    h(
      'div',
      { className: 'actions' },
      button('Regenerate recovery codes', () => app.router.go('step-up', { action: 'regenerate', status }), { variant: 'primary' }),
      button('I did save them', () => {
        confirmCodesSaved(username);
        redraw();
      }, { variant: 'link' }),
    ),
  );
}

function recoverySignInNotice(app: App, status: MfaStatus, redraw: () => void): HTMLElement | undefined {
  const assertion = app.session.assertion;
  if (assertion?.method !== 'recovery_code' || dismissedFor === assertion || status.authenticators.length === 0) return undefined;
  return h(
    'section',
    { className: 'notice notice-info', attrs: { 'aria-label': 'You signed in with a recovery code' } },
    h('p', {}, h('strong', {}, 'You signed in with a recovery code.'), ' If you lost your phone or security key, remove it and add a new one.'),
    h(
      'ul',
      { className: 'notice-list', attrs: { 'aria-label': 'Authenticators you can remove' } },
      ...status.authenticators.map((authenticator) => {
        const nameId = uniqueId('lost');
        const remove = button('Remove', () => app.router.go('step-up', { action: 'remove', authenticator, status }), { variant: 'link' });
        remove.setAttribute('aria-describedby', nameId);
        return h(
          'li',
          {},
          h('span', { id: nameId, className: 'notice-name' }, h('strong', {}, authenticator.name), h('span', { className: 'muted' }, ` · ${kindOf(authenticator)}`)),
          remove,
        );
      }),
    ),
    h(
      'div',
      { className: 'actions' },
      button('Dismiss', () => {
        dismissedFor = assertion;
        redraw();
      }, { variant: 'link' }),
    ),
  );
}

function kindOf(authenticator: Authenticator): string {
  return authenticator.kind === 'totp' ? 'Authenticator app' : 'Security key';
}
