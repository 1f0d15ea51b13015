/*
 * What the public functions (discovery document, key set; functions/http/public-handler.ts)
 * read, without zod: config.ts validates everything else with zod schemas built at import,
 * which a public function's bundle must not carry.
 */

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
  const issuer = env.MFA_ISSUER;
  if (issuer === undefined || !URL.canParse(issuer.trim())) invalid.push('MFA_ISSUER');
  if (invalid.length > 0) throw new ConfigurationError(`Invalid or missing configuration: ${invalid.join(', ')}.`);
  if (knownAdapters === 'aws') {
    if (needs.signingKey && !env.MFA_SIGNING_KEY_ID) throw new ConfigurationError('Missing configuration: MFA_SIGNING_KEY_ID.');
  } else if (env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigurationError('MFA_ADAPTERS=local is refused inside AWS Lambda: configure the KMS keys.');
  }
  return { adapters: knownAdapters, signingKeyId: env.MFA_SIGNING_KEY_ID, dataDir: env.MFA_DATA_DIR ?? '.data', issuer: issuer!.replace(/\/+$/, '') };
}
