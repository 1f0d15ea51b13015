// The namespace import lets esbuild drop what is unused (all of zod's locales: about 350 KB per bundle).
import * as z from 'zod';
import type { RouteAccess } from './http/routes.js';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text;
  } catch {
    return false;
  }
}

/**
 * Built on first use, not at import: the public functions (functions/http/public-handler.ts)
 * import this module for loadPublicConfig and ConfigurationError only, and with no top-level
 * zod call esbuild leaves zod out of their bundles.
 */
let environment: ReturnType<typeof buildEnvironment> | undefined;
const buildEnvironment = () =>
  z.object({
    MFA_ADAPTERS: z.enum(['aws', 'local']).default('aws'),
    MFA_TABLE_NAME: z.string().min(1).optional(),
    MFA_TOTP_KEY_ID: z.string().min(1).optional(),
    MFA_SIGNING_KEY_ID: z.string().min(1).optional(),
    MFA_DATA_DIR: z.string().min(1).default('.data'),
    DYNAMODB_ENDPOINT: z.url().optional(),
    MFA_ISSUER: z.url(),
    /** JSON object: first-factor audience -> assertion audience; audiences not named keep their name. */
    MFA_ASSERTION_AUDIENCE_MAP: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined || text.trim() === '') return {};
        try {
          return z.record(z.string().min(1), z.string().min(1)).parse(JSON.parse(text));
        } catch {
          ctx.addIssue({ code: 'custom', message: 'MFA_ASSERTION_AUDIENCE_MAP must be a JSON object of non-empty strings.' });
          return z.NEVER;
        }
      }),
    MFA_WEBAUTHN_RP_ID: z.string().min(1).max(253).regex(/^[a-z0-9.-]+$/).optional(),
    MFA_WEBAUTHN_ORIGINS: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined) return undefined;
        const origins = text.split(',').map((origin) => origin.trim()).filter(Boolean);
        if (origins.length === 0 || !origins.every(isOrigin)) {
          ctx.addIssue({ code: 'custom', message: 'MFA_WEBAUTHN_ORIGINS must be comma-separated origins (scheme://host[:port]).' });
          return z.NEVER;
        }
        return origins;
      }),
    PORT: z.coerce.number().int().min(1).max(65535).optional(),
    MFA_TOTP_ISSUER_NAME: z.string().min(1).max(64).default('serverless-mfa'),
    MFA_ASSERTION_TTL_SECONDS: z.coerce.number().int().min(30).max(300).default(300),
    AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
  });


export interface Config {
  adapters: 'aws' | 'local';
  tableName: string | undefined;
  totpKeyId: string | undefined;
  signingKeyId: string | undefined;
  dataDir: string;
  dynamoDbEndpoint: string | undefined;
  issuer: string;
  audienceMap: Record<string, string>;
  totpIssuerName: string;
  /** The WebAuthn relying party: configured, never taken from a request. */
  webauthnRpId: string;
  webauthnOrigins: string[];
  assertionTtlSeconds: number;
}

/**
 * Reads and validates configuration for a function with the given access. Called at cold
 * start: a function missing what it needs refuses to start. Inside Lambda the local
 * adapters are refused outright, so a missing KMS key can never fall back to key files.
 */
export function loadConfig(access: RouteAccess, env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = (environment ??= buildEnvironment()).safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
    throw new ConfigurationError(`Invalid or missing configuration: ${names.join(', ')}.`);
  }
  const e = parsed.data;
  const missing: string[] = [];
  if (access.table.length > 0 && !e.MFA_TABLE_NAME) missing.push('MFA_TABLE_NAME');
  if (e.MFA_ADAPTERS === 'aws') {
    if (access.secretKey.length > 0 && !e.MFA_TOTP_KEY_ID) missing.push('MFA_TOTP_KEY_ID');
    if (access.signingKey.length > 0 && !e.MFA_SIGNING_KEY_ID) missing.push('MFA_SIGNING_KEY_ID');
    if (access.table.length > 0 && !e.MFA_WEBAUTHN_RP_ID) missing.push('MFA_WEBAUTHN_RP_ID');
    if (access.table.length > 0 && !e.MFA_WEBAUTHN_ORIGINS) missing.push('MFA_WEBAUTHN_ORIGINS');
  } else if (e.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigurationError('MFA_ADAPTERS=local is refused inside AWS Lambda: configure the KMS keys.');
  }
  if (missing.length > 0) throw new ConfigurationError(`Missing configuration: ${missing.join(', ')}.`);
  return {
    adapters: e.MFA_ADAPTERS,
    tableName: e.MFA_TABLE_NAME,
    totpKeyId: e.MFA_TOTP_KEY_ID,
    signingKeyId: e.MFA_SIGNING_KEY_ID,
    dataDir: e.MFA_DATA_DIR,
    dynamoDbEndpoint: e.DYNAMODB_ENDPOINT,
    issuer: e.MFA_ISSUER.replace(/\/+$/, ''),
    audienceMap: e.MFA_ASSERTION_AUDIENCE_MAP,
    totpIssuerName: e.MFA_TOTP_ISSUER_NAME,
    // Locally a browser on http://localhost is a secure context; 127.0.0.1 is not.
    webauthnRpId: e.MFA_WEBAUTHN_RP_ID ?? 'localhost',
    webauthnOrigins: e.MFA_WEBAUTHN_ORIGINS ?? [`http://localhost:${e.PORT ?? 3000}`],
    assertionTtlSeconds: e.MFA_ASSERTION_TTL_SECONDS,
  };
}

/** What the public functions (discovery document, key set) read: the issuer, and the signing key for the key set. */
export type PublicConfig = Pick<Config, 'adapters' | 'signingKeyId' | 'dataDir' | 'issuer'>;

/**
 * loadConfig's rules for the variables the public functions use, without zod: MFA_ISSUER must be
 * a URL, MFA_SIGNING_KEY_ID is required when `signingKey` is (with the AWS adapters), the local
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
