import type { MfaClient } from '../../client/index.js';
import type { IdentityProviderConfig, OidcIdentityProviderConfig } from './config.js';

/** The outcome of the first factor: a JWT the API's authorizer accepts, and whom it names. */
export interface FirstFactorResult {
  token: string;
  username: string;
}

/**
 * How the user proves the first factor. Locally, the dev issuer hands out a token for any
 * username. In the cloud, the user is sent to the identity provider and comes back with a code.
 */
export interface FirstFactor {
  /** Shown under the Username field. */
  hint: string;
  /** A token now, or 'redirected' when the browser is on its way to the identity provider. */
  signIn(username: string): Promise<FirstFactorResult | 'redirected'>;
  /** When this page load is the identity provider's redirect back: finishes the sign-in. */
  resume(): Promise<FirstFactorResult | undefined>;
}

export class FirstFactorError extends Error {
  override readonly name = 'FirstFactorError';
}

export function createFirstFactor(config: IdentityProviderConfig, client: MfaClient, browser: BrowserContext = defaultBrowser()): FirstFactor {
  if (config.type === 'oidc') return oidcFirstFactor(config, browser);
  return {
    hint: 'Local development: any name signs you in, no password.',
    // A username that is an address signs in with it as the token's verified `email` (as a real provider would).
    signIn: async (username) => ({ token: (await client.createDevToken({ sub: username, ...(username.includes('@') ? { email: username } : {}) })).token, username }),
    resume: async () => undefined,
  };
}

/** What the OIDC flow touches outside itself, so tests can run it without a real redirect. */
export interface BrowserContext {
  location: { href: string; assign(url: string): void };
  history: { replaceState(data: unknown, unused: string, url: string): void };
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  fetch: typeof fetch;
  crypto: Crypto;
}

function defaultBrowser(): BrowserContext {
  return {
    location: window.location,
    history: window.history,
    storage: window.sessionStorage,
    fetch: (input, init) => window.fetch(input, init),
    crypto: window.crypto,
  };
}

/** Kept across the redirect only: single-use, removed as soon as the provider answers. */
const PENDING_KEY = 'serverless-mfa.oidc-pending';

interface PendingSignIn {
  state: string;
  codeVerifier: string;
  username: string;
}

interface DiscoveryDocument {
  authorization_endpoint: string;
  token_endpoint: string;
}

/**
 * OpenID Connect authorization code flow with PKCE (RFC 7636), as a public client: the
 * username goes along as `login_hint`, `state` ties the answer to this tab, and the code is
 * only redeemable with the verifier that never left it.
 */
function oidcFirstFactor(config: OidcIdentityProviderConfig, browser: BrowserContext): FirstFactor {
  const discover = async (): Promise<DiscoveryDocument> => {
    const response = await browser.fetch(`${config.issuer}/.well-known/openid-configuration`, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new FirstFactorError(`The identity provider could not be reached (HTTP ${response.status}).`);
    const document = (await response.json()) as Partial<DiscoveryDocument>;
    if (typeof document.authorization_endpoint !== 'string' || typeof document.token_endpoint !== 'string') {
      throw new FirstFactorError('The identity provider does not offer the authorization code flow.');
    }
    return { authorization_endpoint: document.authorization_endpoint, token_endpoint: document.token_endpoint };
  };

  return {
    hint: `You continue at ${new URL(config.issuer).host} to enter your password.`,

    async signIn(username) {
      const { authorization_endpoint } = await discover();
      const pending: PendingSignIn = { state: randomToken(browser.crypto), codeVerifier: randomToken(browser.crypto, 32), username };
      browser.storage.setItem(PENDING_KEY, JSON.stringify(pending));
      const url = new URL(authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: config.clientId,
        redirect_uri: config.redirectUri,
        scope: config.scope,
        state: pending.state,
        code_challenge: await codeChallenge(browser.crypto, pending.codeVerifier),
        code_challenge_method: 'S256',
        ...(username ? { login_hint: username } : {}),
      }).toString();
      browser.location.assign(url.href);
      return 'redirected';
    },

    async resume() {
      const url = new URL(browser.location.href);
      const code = url.searchParams.get('code');
      const error = url.searchParams.get('error');
      if (!code && !error) return undefined;
      const saved = browser.storage.getItem(PENDING_KEY);
      browser.storage.removeItem(PENDING_KEY);
      // The code and state must not stay in the address bar or the history.
      browser.history.replaceState(null, '', `${url.pathname}`);
      if (error) throw new FirstFactorError(url.searchParams.get('error_description') || `The identity provider refused the sign-in (${error}).`);
      const pending = saved ? (JSON.parse(saved) as PendingSignIn) : undefined;
      if (!pending || pending.state !== url.searchParams.get('state')) {
        throw new FirstFactorError('This sign-in answer does not belong to this tab. Sign in again.');
      }
      const { token_endpoint } = await discover();
      const response = await browser.fetch(token_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: code!,
          redirect_uri: config.redirectUri,
          client_id: config.clientId,
          code_verifier: pending.codeVerifier,
        }).toString(),
      });
      const tokens = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      const token = tokens[config.token];
      if (!response.ok || typeof token !== 'string') throw new FirstFactorError('The identity provider did not complete the sign-in. Sign in again.');
      return { token, username: displayName(token) ?? pending.username };
    },
  };
}

/** Who the token names, for the page header only: the API reads the verified claims itself. */
function displayName(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const name = payload.email ?? payload.preferred_username ?? payload['cognito:username'] ?? payload.username ?? payload.sub;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

function randomToken(crypto: Crypto, bytes = 16): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function codeChallenge(crypto: Crypto, verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
