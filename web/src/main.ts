import { createMfaClient } from '../../client/index.js';
import type { App } from './app.js';
import { loadConfig } from './config.js';
import { showSignIn } from './screens/sign-in.js';
import { Session } from './session.js';
import { Shell } from './shell.js';

/** A form never stays busy longer than this: the user is told to try again instead. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Boots the client: configuration, the one API client (with the session's token), the first screen. */
async function main(): Promise<void> {
  const shell = new Shell(document);
  try {
    const config = await loadConfig(location.origin);
    const session = new Session();
    const client = createMfaClient({ baseUrl: config.apiBaseUrl, getToken: () => session.token, timeoutMs: REQUEST_TIMEOUT_MS });
    const app: App = { config, client, session, shell };
    showSignIn(app);
  } catch (error) {
    shell.show({ title: 'This page could not start', body: [] });
    shell.showError(error instanceof Error ? error.message : String(error));
  }
}

void main();
