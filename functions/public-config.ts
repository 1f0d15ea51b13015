/*
 * What the public functions (discovery document, key set; functions/http/public-handler.ts)
 * read: the few variables they use, by config.ts's rules, without reading the service settings
 * their bundles need not carry.
 */

import { environmentReader, nonEmptyText, oneOf, REQUIRED, url } from './setting-rules.js';

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
  // The same reader and rules as loadConfig's, in the same order, for the four variables used here.
  const { read, invalid } = environmentReader(env);
  const adapters = read('MFA_ADAPTERS', oneOf('aws', 'local'), 'aws' as const);
  const signingKeyId = read('MFA_SIGNING_KEY_ID', nonEmptyText);
  const dataDir = read('MFA_DATA_DIR', nonEmptyText, '.data');
  const issuer = read('MFA_ISSUER', url, REQUIRED);
  if (invalid.length > 0) throw new ConfigurationError(`Invalid or missing configuration: ${invalid.join(', ')}.`);
  if (adapters === 'aws') {
    if (needs.signingKey && !signingKeyId) throw new ConfigurationError('Missing configuration: MFA_SIGNING_KEY_ID.');
  } else if (env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigurationError('MFA_ADAPTERS=local is refused inside AWS Lambda: configure the KMS keys.');
  }
  return { adapters, signingKeyId, dataDir, issuer: issuer.replace(/\/+$/, '') };
}
