/*
 * What the public functions (discovery document, key set; functions/http/public-handler.ts)
 * read: the few variables they use, by config.ts's rules, without reading the service settings
 * their bundles need not carry.
 */

import { SettingRefused, url } from './setting-rules.js';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** What the public functions use (a subset of config.ts's Config): the issuer, and the signing key for the key set. */
export interface PublicConfig {
  adapters: 'aws' | 'local';
  signingKeyId: string | undefined;
  dataDir: string;
  issuer: string;
}

/**
 * loadConfig's rules for the variables the public functions use: MFA_ISSUER must be a URL,
 * MFA_SIGNING_KEY_ID is required when `signingKey` is (with the AWS adapters), the local
 * adapters are refused inside Lambda. Same errors as loadConfig; test/unit/config.test.ts
 * holds the two to the same answers.
 */
export function loadPublicConfig(env: NodeJS.ProcessEnv, needs: { signingKey: boolean }): PublicConfig {
  const invalid: string[] = [];
  const adapters = env.MFA_ADAPTERS ?? 'aws';
  if (adapters !== 'aws' && adapters !== 'local') invalid.push('MFA_ADAPTERS');
  const knownAdapters = adapters === 'local' ? 'local' : 'aws';
  if (env.MFA_SIGNING_KEY_ID === '') invalid.push('MFA_SIGNING_KEY_ID');
  if (env.MFA_DATA_DIR === '') invalid.push('MFA_DATA_DIR');
  const issuer = issuerOf(env.MFA_ISSUER);
  if (issuer === undefined) invalid.push('MFA_ISSUER');
  if (invalid.length > 0) throw new ConfigurationError(`Invalid or missing configuration: ${invalid.join(', ')}.`);
  if (knownAdapters === 'aws') {
    if (needs.signingKey && !env.MFA_SIGNING_KEY_ID) throw new ConfigurationError('Missing configuration: MFA_SIGNING_KEY_ID.');
  } else if (env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigurationError('MFA_ADAPTERS=local is refused inside AWS Lambda: configure the KMS keys.');
  }
  return { adapters: knownAdapters, signingKeyId: env.MFA_SIGNING_KEY_ID, dataDir: env.MFA_DATA_DIR ?? '.data', issuer: issuer!.replace(/\/+$/, '') };
}

/** MFA_ISSUER by loadConfig's rule (`url`), or undefined when unset or refused. */
function issuerOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return url(value);
  } catch (error) {
    if (error instanceof SettingRefused) return undefined;
    throw error;
  }
}
