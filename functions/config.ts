// The namespace import lets esbuild drop what is unused (all of zod's locales: about 350 KB per bundle).
import * as z from 'zod';
import type { RouteAccess } from './http/routes.js';
import { ServiceSettingSchemas } from './settings-schema.js';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

const Environment = z.object({
  MFA_ADAPTERS: z.enum(['aws', 'local']).default('aws'),
  MFA_TABLE_NAME: z.string().min(1).optional(),
  MFA_TOTP_KEY_ID: z.string().min(1).optional(),
  MFA_SIGNING_KEY_ID: z.string().min(1).optional(),
  MFA_DATA_DIR: z.string().min(1).default('.data'),
  DYNAMODB_ENDPOINT: z.url().optional(),
  MFA_ISSUER: z.url(),
  // The same schemas the CDK app validates the deployment settings with (lib/settings.ts).
  MFA_ASSERTION_AUDIENCE: ServiceSettingSchemas.assertionAudience,
  MFA_TOTP_ISSUER_NAME: ServiceSettingSchemas.totpIssuerName.default('serverless-mfa'),
  MFA_ASSERTION_TTL_SECONDS: ServiceSettingSchemas.assertionTtlSeconds.default(300),
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
  assertionAudience: string;
  totpIssuerName: string;
  assertionTtlSeconds: number;
}

/**
 * Reads and validates configuration for a function with the given access. Called at cold
 * start: a function missing what it needs refuses to start. Inside Lambda the local
 * adapters are refused outright, so a missing KMS key can never fall back to key files.
 */
export function loadConfig(access: RouteAccess, env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Environment.safeParse(env);
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
    assertionAudience: e.MFA_ASSERTION_AUDIENCE,
    totpIssuerName: e.MFA_TOTP_ISSUER_NAME,
    assertionTtlSeconds: e.MFA_ASSERTION_TTL_SECONDS,
  };
}
