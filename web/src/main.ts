import { createMfaClient } from '../../client/index.js';
import type { App } from './app.js';
import { loadConfig } from './config.js';
import { createFirstFactor } from './first-factor.js';
import { describeError } from './messages.js';
import { Router, type Screens } from './router.js';
import { showAddSecurityKey } from './screens/add-security-key.js';
import { showProfile } from './screens/profile.js';
import { showRecoveryCodes } from './screens/recovery-codes.js';
import { showRename } from './screens/rename.js';
import { showSecondStep } from './screens/second-step.js';
import { showSetUp } from './screens/set-up.js';
import { showSetUpEmail } from './screens/set-up-email.js';
import { showStepUp } from './screens/step-up.js';
import { continueAfterFirstFactor, showSignIn } from './screens/sign-in.js';
import { Session } from './session.js';
import { Shell } from './shell.js';

/** The one place that knows which function draws which screen. */
const SCREENS: Screens<App> = {
  'sign-in': showSignIn,
  'second-step': showSecondStep,
  profile: showProfile,
  'set-up': showSetUp,
  'add-security-key': showAddSecurityKey,
  'set-up-email': showSetUpEmail,
  'recovery-codes': showRecoveryCodes,
  'step-up': showStepUp,
  rename: showRename,
};

/** A form never stays busy longer than this: the user is told to try again instead. */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Boots the client: configuration, the one API client (sending the session's token), and
 * either the sign-in screen or, when this load is the identity provider's redirect back,
 * the rest of that sign-in.
 */
async function main(): Promise<void> {
  const shell = new Shell(document);
  let app: App;
  try {
    const config = await loadConfig(window.location);
    const session = new Session();
    const client = createMfaClient({ baseUrl: config.apiBaseUrl, getToken: () => session.token, timeoutMs: REQUEST_TIMEOUT_MS });
    const router = new Router(SCREENS, () => app);
    app = { config, firstFactor: createFirstFactor(config.identityProvider, client), client, session, shell, router };
  } catch (error) {
    shell.show({ title: 'This page could not start', body: [] });
    shell.showError(error instanceof Error ? error.message : String(error));
    return;
  }
  try {
    const resumed = await app.firstFactor.resume();
    if (resumed) await continueAfterFirstFactor(app, resumed);
    else app.router.go('sign-in');
  } catch (error) {
    app.session.signOut();
    app.router.go('sign-in', { error: error instanceof Error && error.name === 'FirstFactorError' ? error.message : describeError(error) });
  }
}

void main();
