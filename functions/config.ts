// No validation library here: this runs at every cold start (functions/setting-rules.ts says why).
import type { RouteAccess, RouteDefinition } from './http/routes.js';
import { ConfigurationError } from './public-config.js';
import { commaSeparated, environmentReader, nonEmptyText, oneOf, REQUIRED, url, wholeNumber } from './setting-rules.js';
import { FirstFactorAudience, ServiceSettingRules } from './settings-schema.js';

// Defined beside the public functions' lighter reader (functions/public-config.ts); one class for both.
export { ConfigurationError };

export interface Config {
  adapters: 'aws' | 'local';
  tableName: string | undefined;
  totpKeyId: string | undefined;
  signingKeyId: string | undefined;
  dataDir: string;
  dynamoDbEndpoint: string | undefined;
  issuer: string;
  /** The first-factor audiences the authorizer accepts (none locally unless configured: every token is then refused). */
  firstFactorAudiences: string[];
  audienceMap: Record<string, string>;
  totpIssuerName: string;
  /** The WebAuthn relying party: configured, never taken from a request. */
  webauthnRpId: string;
  webauthnOrigins: string[];
  assertionTtlSeconds: number;
  /** Codes by email are offered; the routes that send them have `mail` access and `emailFrom`. */
  emailCodes: boolean;
  emailFrom: string | undefined;
  emailConfigurationSet: string | undefined;
  smtpUrl: string | undefined;
  /** Days a remembered browser stays remembered; 0: remembering is off. */
  rememberDeviceDays: number;
  /** Who the operator routes admit (users, roles, assumed roles); empty: nobody. */
  adminPrincipalArns: string[];
}

/**
 * Reads and validates configuration for a function with the given access (and authorization:
 * an operator route needs the principals it admits). Called at cold start: a function missing
 * what it needs refuses to start. Inside Lambda the local adapters are refused outright, so a
 * missing KMS key can never fall back to key files.
 */
export function loadConfig(access: RouteAccess, env: NodeJS.ProcessEnv = process.env, auth: RouteDefinition['auth'] = 'public'): Config {
  const e = readEnvironment(env);
  const missing: string[] = [];
  if (access.table.length > 0 && !e.MFA_TABLE_NAME) missing.push('MFA_TABLE_NAME');
  if (e.MFA_ADAPTERS === 'aws') {
    if (access.secretKey.length > 0 && !e.MFA_TOTP_KEY_ID) missing.push('MFA_TOTP_KEY_ID');
    if (access.signingKey.length > 0 && !e.MFA_SIGNING_KEY_ID) missing.push('MFA_SIGNING_KEY_ID');
    if (access.table.length > 0 && !e.MFA_WEBAUTHN_RP_ID) missing.push('MFA_WEBAUTHN_RP_ID');
    if (access.table.length > 0 && !e.MFA_WEBAUTHN_ORIGINS) missing.push('MFA_WEBAUTHN_ORIGINS');
    // A function that sends codes refuses to start without the address it sends from (fail closed).
    if (access.mail.length > 0 && e.MFA_EMAIL_CODES && !e.MFA_EMAIL_FROM) missing.push('MFA_EMAIL_FROM');
    if (auth === 'first-factor' && !e.MFA_FIRST_FACTOR_AUDIENCES?.length) missing.push('MFA_FIRST_FACTOR_AUDIENCES');
    if (auth === 'iam' && e.MFA_ADMIN_PRINCIPAL_ARNS === undefined) missing.push('MFA_ADMIN_PRINCIPAL_ARNS');
  } else if (e.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigurationError('MFA_ADAPTERS=local is refused inside AWS Lambda: configure the KMS keys.');
  } else if (access.mail.length > 0 && e.MFA_EMAIL_CODES && !e.MFA_SMTP_URL) {
    missing.push('MFA_SMTP_URL');
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
    firstFactorAudiences: e.MFA_FIRST_FACTOR_AUDIENCES ?? [],
    audienceMap: e.MFA_ASSERTION_AUDIENCE_MAP,
    totpIssuerName: e.MFA_TOTP_ISSUER_NAME,
    // Locally a browser on http://localhost is a secure context; 127.0.0.1 is not.
    webauthnRpId: e.MFA_WEBAUTHN_RP_ID ?? 'localhost',
    webauthnOrigins: e.MFA_WEBAUTHN_ORIGINS ?? [`http://localhost:${e.PORT ?? 3000}`],
    assertionTtlSeconds: e.MFA_ASSERTION_TTL_SECONDS,
    emailCodes: e.MFA_EMAIL_CODES,
    emailFrom: e.MFA_EMAIL_FROM ?? (e.MFA_ADAPTERS === 'local' ? 'no-reply@localhost.localdomain' : undefined),
    emailConfigurationSet: e.MFA_EMAIL_CONFIGURATION_SET,
    smtpUrl: e.MFA_SMTP_URL,
    rememberDeviceDays: e.MFA_REMEMBER_DEVICE_DAYS,
    // Unset (possible only with the local adapters) names nobody: the operator routes refuse every caller.
    adminPrincipalArns: e.MFA_ADMIN_PRINCIPAL_ARNS ?? [],
  };
}

/**
 * Each variable a function may read, by its rule; the service settings by the rules the CDK app
 * validates the deployment settings with (functions/settings-schema.ts, lib/settings.ts): the
 * stack cannot accept what a function refuses. Unset variables take their defaults; every
 * variable that is set and refused is named, in this order, and nothing else is said of it.
 */
function readEnvironment(env: NodeJS.ProcessEnv) {
  const { read, invalid } = environmentReader(env);
  const setting = ServiceSettingRules;
  const e = {
    MFA_ADAPTERS: read('MFA_ADAPTERS', oneOf('aws', 'local'), 'aws' as const),
    MFA_TABLE_NAME: read('MFA_TABLE_NAME', nonEmptyText),
    MFA_TOTP_KEY_ID: read('MFA_TOTP_KEY_ID', nonEmptyText),
    MFA_SIGNING_KEY_ID: read('MFA_SIGNING_KEY_ID', nonEmptyText),
    MFA_DATA_DIR: read('MFA_DATA_DIR', nonEmptyText, '.data'),
    DYNAMODB_ENDPOINT: read('DYNAMODB_ENDPOINT', url),
    MFA_ISSUER: read('MFA_ISSUER', url, REQUIRED),
    /**
     * The `aud` (or, without one, `client_id`) values the API's JWT authorizer accepts, as the
     * stack configures it: the assertion's audience is the one of these a token carries.
     */
    MFA_FIRST_FACTOR_AUDIENCES: read('MFA_FIRST_FACTOR_AUDIENCES', commaSeparated(FirstFactorAudience)),
    /** JSON object: first-factor audience -> assertion audience; audiences not named keep their name. */
    MFA_ASSERTION_AUDIENCE_MAP: read('MFA_ASSERTION_AUDIENCE_MAP', setting.assertionAudienceMap, {}),
    MFA_WEBAUTHN_RP_ID: read('MFA_WEBAUTHN_RP_ID', setting.webAuthnRpId),
    MFA_WEBAUTHN_ORIGINS: read('MFA_WEBAUTHN_ORIGINS', setting.webAuthnOrigins),
    /** Comma-separated; empty names nobody. Required by the operator routes in AWS. */
    MFA_ADMIN_PRINCIPAL_ARNS: read('MFA_ADMIN_PRINCIPAL_ARNS', setting.adminPrincipalArns),
    PORT: read('PORT', wholeNumber(1, 65535)),
    MFA_TOTP_ISSUER_NAME: read('MFA_TOTP_ISSUER_NAME', setting.totpIssuerName, 'serverless-mfa'),
    MFA_ASSERTION_TTL_SECONDS: read('MFA_ASSERTION_TTL_SECONDS', setting.assertionTtlSeconds, 300),
    MFA_REMEMBER_DEVICE_DAYS: read('MFA_REMEMBER_DEVICE_DAYS', setting.rememberDeviceDays, 30),
    MFA_EMAIL_CODES: read('MFA_EMAIL_CODES', setting.emailCodes, false),
    MFA_EMAIL_FROM: read('MFA_EMAIL_FROM', setting.emailFrom),
    MFA_EMAIL_CONFIGURATION_SET: read('MFA_EMAIL_CONFIGURATION_SET', setting.emailConfigurationSet),
    /** Local only: the SMTP server mail goes to (MailDev, which `npm start` starts). */
    MFA_SMTP_URL: read('MFA_SMTP_URL', url),
    AWS_LAMBDA_FUNCTION_NAME: env.AWS_LAMBDA_FUNCTION_NAME,
  };
  if (invalid.length > 0) throw new ConfigurationError(`Invalid or missing configuration: ${invalid.join(', ')}.`);
  return e;
}
