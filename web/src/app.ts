import type { MfaClient } from '../../client/index.js';
import type { WebClientConfig } from './config.js';
import type { Field } from './dom.js';
import type { FirstFactor } from './first-factor.js';
import { describeError, isSessionExpired } from './messages.js';
import { dropNameDrafts } from './name-drafts.js';
import { forgetProofKind } from './proof-choice.js';
import type { Router } from './router.js';
import type { Session } from './session.js';
import type { Shell } from './shell.js';
import { mayLeave } from './unsaved-codes-guard.js';

/** What every screen works with: the one API client, the session, the page frame, the router. */
export interface App {
  config: WebClientConfig;
  firstFactor: FirstFactor;
  client: MfaClient;
  session: Session;
  shell: Shell;
  router: Router<App>;
}

export function signOut(app: App, note?: string): void {
  app.session.signOut();
  forgetProofKind();
  dropNameDrafts();
  app.shell.setAccount(undefined, () => {});
  app.router.go('sign-in', { note });
}

/**
 * Who is in the header: "Signing in as" until the second step is passed (MFA on, no assertion
 * yet), then "Signed in as". Its "Sign out" asks first while recovery codes are on screen unsaved.
 */
export function showAccount(app: App, stage: 'signing-in' | 'signed-in'): void {
  const { username } = app.session;
  if (username) app.shell.setAccount(username, () => mayLeave() && signOut(app), stage);
}

/** Errors no screen has a better answer for: an expired session signs out, the rest is said plainly. */
export function reportError(app: App, error: unknown): void {
  if (isSessionExpired(error)) {
    signOut(app, 'Your session has expired. Sign in again.');
    return;
  }
  app.shell.showError(describeError(error));
}

/**
 * A field's value refused: the words beside the field (and, heard only, in the alert), the focus
 * back in it; `select` selects what was typed, so that typing again replaces a wrong code.
 */
export function refuseInField(app: App, field: Field, message: string, options: { select?: boolean } = {}): void {
  field.setError(message);
  app.shell.showError(message, { shownInline: true });
  field.input.focus();
  if (options.select) field.input.select();
}

/**
 * Handles a form's submit with `task`, one at a time: the native submit is always prevented
 * (even for a second Enter while the first request is out, which is then ignored), and the
 * form is aria-busy while the request runs.
 */
export function onSubmit(form: HTMLFormElement, task: () => Promise<void>): void {
  let running = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (running) return;
    running = true;
    form.setAttribute('aria-busy', 'true');
    void task().finally(() => {
      running = false;
      form.removeAttribute('aria-busy');
    });
  });
}
