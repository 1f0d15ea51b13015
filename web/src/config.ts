/**
 * Deployment settings, read from `/config.json` next to index.html when it is there. Static
 * hosting writes that file at deploy time (API URL, identity provider), so one build serves
 * every environment. Without it: the API on this page's origin and the local dev tokens.
 */
export interface WebClientConfig {
  /** Origin (and optional base path) of the MFA API, without a trailing slash. */
  apiBaseUrl: string;
  identityProvider: IdentityProviderConfig;
  /** The deployment offers codes by email (the stack's `emailCodes`; the local server says so when it runs MailDev). */
  emailCodes: boolean;
  /** The service's `rememberDeviceDays`: how long "Remember this browser" lasts; 0 hides it. Default 30. */
  rememberDeviceDays: number;
}

export type IdentityProviderConfig = DevIdentityProviderConfig | OidcIdentityProviderConfig;

/** POST /dev/token on the API, which only the local stack serves. */
export interface DevIdentityProviderConfig {
  type: 'dev';
}

/** Any OpenID Connect provider (Cognito, Auth0, Okta...): authorization code flow with PKCE. */
export interface OidcIdentityProviderConfig {
  type: 'oidc';
  /** `iss` of its tokens; discovery is read from `{issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** The public client registered for this web client (no secret). */
  clientId: string;
  scope: string;
  /** Which token the API's JWT authorizer accepts: its `aud` (or Cognito `client_id`) must match. */
  token: 'id_token' | 'access_token';
  /** Registered at the provider; the page itself by default. */
  redirectUri: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export async function loadConfig(location: { origin: string }, fetchConfig: typeof fetch = (input, init) => fetch(input, init)): Promise<WebClientConfig> {
  const response = await fetchConfig('/config.json', { headers: { Accept: 'application/json' }, cache: 'no-cache' });
  if (response.status === 404) return parseConfig({}, location);
  if (!response.ok) throw new ConfigError(`config.json could not be loaded (HTTP ${response.status}).`);
  let raw: unknown;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError('config.json is not valid JSON.');
  }
  return parseConfig(raw, location);
}

export function parseConfig(raw: unknown, location: { origin: string }): WebClientConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('config.json must hold a JSON object.');
  const { apiBaseUrl, identityProvider, emailCodes, rememberDeviceDays } = raw as Record<string, unknown>;
  if (emailCodes !== undefined && typeof emailCodes !== 'boolean') throw new ConfigError('config.json: emailCodes must be true or false.');
  if (rememberDeviceDays !== undefined && !(Number.isInteger(rememberDeviceDays) && (rememberDeviceDays as number) >= 0 && (rememberDeviceDays as number) <= 90)) {
    throw new ConfigError('config.json: rememberDeviceDays must be a whole number from 0 to 90.');
  }
  const provider: IdentityProviderConfig = identityProvider === undefined ? { type: 'dev' } : parseIdentityProvider(identityProvider, location);
  return {
    apiBaseUrl: apiBaseUrl === undefined ? location.origin : webUrl(apiBaseUrl, 'apiBaseUrl').replace(/\/+$/, ''),
    identityProvider: provider,
    emailCodes: emailCodes ?? false,
    rememberDeviceDays: (rememberDeviceDays as number | undefined) ?? 30,
  };
}

function parseIdentityProvider(raw: unknown, location: { origin: string }): IdentityProviderConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config.json: identityProvider must be an object.');
  const settings = raw as Record<string, unknown>;
  if (settings.type === 'dev') return { type: 'dev' };
  if (settings.type !== 'oidc') throw new ConfigError(`config.json: identityProvider.type must be "dev" or "oidc", not ${JSON.stringify(settings.type)}.`);
  if (typeof settings.clientId !== 'string' || settings.clientId === '') throw new ConfigError('config.json: identityProvider.clientId is required.');
  const token = settings.token ?? 'id_token';
  if (token !== 'id_token' && token !== 'access_token') throw new ConfigError('config.json: identityProvider.token must be "id_token" or "access_token".');
  const scope = settings.scope ?? 'openid email';
  if (typeof scope !== 'string' || !scope.split(' ').includes('openid')) throw new ConfigError('config.json: identityProvider.scope must include "openid".');
  return {
    type: 'oidc',
    issuer: webUrl(settings.issuer, 'identityProvider.issuer').replace(/\/+$/, ''),
    clientId: settings.clientId,
    scope,
    token,
    redirectUri: settings.redirectUri === undefined ? `${location.origin}/` : webUrl(settings.redirectUri, 'identityProvider.redirectUri'),
  };
}

/** An https URL; plain http only for this machine (the local stack and its tests). */
function webUrl(value: unknown, name: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigError(`config.json: ${name} must be a URL.`);
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) throw new ConfigError(`config.json: ${name} must be an https URL.`);
  return url.href;
}
