/**
 * Deployment settings, read from `/config.json` next to index.html when it is there. Static
 * hosting writes that file at deploy time (API URL, identity provider), so one build serves
 * every environment. Without it: the API on this page's origin and the local dev tokens.
 */
export interface WebClientConfig {
  /** Origin (and optional base path) of the MFA API, without a trailing slash. */
  apiBaseUrl: string;
  identityProvider: IdentityProviderConfig;
}

/** `dev`: POST /dev/token on the API, which only the local stack serves. */
export type IdentityProviderConfig = { type: 'dev' };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export async function loadConfig(origin: string, fetchConfig: typeof fetch = (input, init) => fetch(input, init)): Promise<WebClientConfig> {
  const defaults: WebClientConfig = { apiBaseUrl: origin, identityProvider: { type: 'dev' } };
  const response = await fetchConfig('/config.json', { headers: { Accept: 'application/json' }, cache: 'no-cache' });
  if (response.status === 404) return defaults;
  if (!response.ok) throw new ConfigError(`config.json could not be loaded (HTTP ${response.status}).`);
  return parseConfig(await response.json(), defaults);
}

export function parseConfig(raw: unknown, defaults: WebClientConfig): WebClientConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config.json must hold a JSON object.');
  const { apiBaseUrl, identityProvider } = raw as Record<string, unknown>;
  let baseUrl = defaults.apiBaseUrl;
  if (apiBaseUrl !== undefined) {
    if (typeof apiBaseUrl !== 'string' || !/^https?:\/\//.test(apiBaseUrl)) throw new ConfigError('config.json: apiBaseUrl must be an http(s) URL.');
    baseUrl = apiBaseUrl.replace(/\/+$/, '');
  }
  let provider = defaults.identityProvider;
  if (identityProvider !== undefined) {
    const type = (identityProvider as { type?: unknown } | null)?.type;
    if (type !== 'dev') throw new ConfigError(`config.json: identityProvider.type ${JSON.stringify(type)} is not supported by this client.`);
    provider = { type };
  }
  return { apiBaseUrl: baseUrl, identityProvider: provider };
}
