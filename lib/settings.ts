import type { Node } from 'constructs';

/**
 * Everything an operator can choose at deploy time. Each field is a CDK context parameter of
 * the same name (`cdk deploy -c name=value` or `context` in cdk.json); stack props override
 * context. docs/deploying.md lists them with their defaults: keep the two in step.
 */
export interface ServerlessMfaSettings {
  /** Issuer (`iss`) of the first-factor tokens. Unset: the stack creates a Cognito user pool. */
  firstFactorIssuerUrl: string | undefined;
  /** Accepted `aud` (or Cognito `client_id`) values of first-factor tokens; required with an issuer. */
  firstFactorAudience: string[];
  /**
   * Default user pool only: redirect URLs of the apps that sign users in through the pool's
   * hosted sign-in page (OIDC authorization code + PKCE). Empty: no hosted sign-in; apps sign
   * in with the Cognito API (SRP).
   */
  userPoolCallbackUrls: string[];
  /** `aud` of the MFA assertions this service signs: the application that verifies them. */
  assertionAudience: string;
  /** Name shown in authenticator apps. */
  totpIssuerName: string;
  /** Lifetime of an MFA assertion, 30 to 300 seconds; unset leaves the service default (300). */
  assertionTtlSeconds: number | undefined;
  /** Browser origins allowed to call the API; empty means no CORS (server-to-server or same origin). */
  corsAllowedOrigins: string[];
  /** Stage-wide steady-state request rate (requests per second). */
  throttleRateLimit: number;
  /** Stage-wide burst capacity (requests). */
  throttleBurstLimit: number;
  /** Retention of the function and access log groups, in days (a CloudWatch Logs retention value). */
  logRetentionDays: number;
  /** Powertools log level of the functions. */
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Create a CloudTrail trail; false relies on an organisation trail configured as docs/auditing.md says. */
  createTrail: boolean;
  /** Days after which trail log files are deleted from the trail bucket. */
  trailLogExpirationDays: number;
  /** Address subscribed to the alarm topic; unset leaves the topic without subscribers. */
  alarmEmail: string | undefined;
  /** Lockouts (sum over 5 minutes) that raise the lockout-spike alarm. */
  lockoutAlarmThreshold: number;
  /** Failed code checks (sum over 5 minutes) that raise the failed-verification alarm. */
  failedCodeChecksAlarmThreshold: number;
  /** Host the web client (S3 + CloudFront) in this stack. Reserved: not built yet. */
  webHosting: boolean;
}

export const DEFAULT_SETTINGS: ServerlessMfaSettings = {
  firstFactorIssuerUrl: undefined,
  firstFactorAudience: [],
  userPoolCallbackUrls: [],
  assertionAudience: 'serverless-mfa-app',
  totpIssuerName: 'serverless-mfa',
  assertionTtlSeconds: undefined,
  corsAllowedOrigins: [],
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  logRetentionDays: 365,
  logLevel: 'INFO',
  createTrail: true,
  trailLogExpirationDays: 400,
  alarmEmail: undefined,
  lockoutAlarmThreshold: 10,
  failedCodeChecksAlarmThreshold: 100,
  webHosting: false,
};

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/**
 * Reads the settings from CDK context, then applies `overrides` (stack props) and validates the
 * result, so a bad value fails `cdk synth` with the parameter's name instead of a broken deploy.
 * Context values given on the command line arrive as strings: `-c createTrail=false` is false,
 * `-c corsAllowedOrigins=https://a.example,https://b.example` is a list.
 */
export function resolveSettings(node: Node, overrides: Partial<ServerlessMfaSettings> = {}): ServerlessMfaSettings {
  const read = <K extends keyof ServerlessMfaSettings>(name: K, parse: (value: unknown, name: string) => ServerlessMfaSettings[K]) => {
    if (name in overrides) return overrides[name] as ServerlessMfaSettings[K];
    const value: unknown = node.tryGetContext(name);
    return value === undefined || value === null || value === '' ? DEFAULT_SETTINGS[name] : parse(value, name);
  };
  const settings: ServerlessMfaSettings = {
    firstFactorIssuerUrl: read('firstFactorIssuerUrl', text),
    firstFactorAudience: read('firstFactorAudience', list),
    userPoolCallbackUrls: read('userPoolCallbackUrls', list),
    assertionAudience: read('assertionAudience', text),
    totpIssuerName: read('totpIssuerName', text),
    assertionTtlSeconds: read('assertionTtlSeconds', integer),
    corsAllowedOrigins: read('corsAllowedOrigins', list),
    throttleRateLimit: read('throttleRateLimit', integer),
    throttleBurstLimit: read('throttleBurstLimit', integer),
    logRetentionDays: read('logRetentionDays', integer),
    logLevel: read('logLevel', (value, name) => oneOf(LOG_LEVELS, text(value, name).toUpperCase(), name)),
    createTrail: read('createTrail', boolean),
    trailLogExpirationDays: read('trailLogExpirationDays', integer),
    alarmEmail: read('alarmEmail', text),
    lockoutAlarmThreshold: read('lockoutAlarmThreshold', integer),
    failedCodeChecksAlarmThreshold: read('failedCodeChecksAlarmThreshold', integer),
    webHosting: read('webHosting', boolean),
  };
  validate(settings);
  return settings;
}

function validate(s: ServerlessMfaSettings): void {
  const problems: string[] = [];
  if (s.firstFactorIssuerUrl !== undefined && s.firstFactorAudience.length === 0) {
    problems.push('firstFactorAudience is required when firstFactorIssuerUrl is set (the client IDs your IdP puts in `aud`).');
  }
  if (s.firstFactorIssuerUrl === undefined && s.firstFactorAudience.length > 0) {
    problems.push('firstFactorAudience needs firstFactorIssuerUrl: the default user pool sets its own audience.');
  }
  if (s.firstFactorIssuerUrl !== undefined && !/^https:\/\/[^\s/]+(\/[^\s]*)?$/.test(s.firstFactorIssuerUrl)) {
    problems.push('firstFactorIssuerUrl must be an https URL.');
  }
  if (s.firstFactorIssuerUrl !== undefined && s.userPoolCallbackUrls.length > 0) {
    problems.push('userPoolCallbackUrls configures the default user pool, which is not created when firstFactorIssuerUrl is set.');
  }
  for (const url of s.userPoolCallbackUrls) {
    if (!/^(https:\/\/[^\s/]+|http:\/\/localhost(:\d+)?)(\/\S*)?$/.test(url)) problems.push(`userPoolCallbackUrls: "${url}" must be an https URL (or http://localhost).`);
  }
  for (const origin of s.corsAllowedOrigins) {
    if (!/^https?:\/\/[^/\s*]+$/.test(origin)) problems.push(`corsAllowedOrigins: "${origin}" is not an origin (scheme://host[:port], no path, no wildcard).`);
  }
  if (s.assertionTtlSeconds !== undefined && (s.assertionTtlSeconds < 30 || s.assertionTtlSeconds > 300)) {
    problems.push('assertionTtlSeconds must be between 30 and 300.');
  }
  if (s.totpIssuerName.length > 64) problems.push('totpIssuerName must be at most 64 characters.');
  if (s.throttleRateLimit < 1 || s.throttleBurstLimit < 1) problems.push('throttleRateLimit and throttleBurstLimit must be positive.');
  if (!LOG_RETENTION_DAYS.includes(s.logRetentionDays)) {
    problems.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}.`);
  }
  if (s.trailLogExpirationDays < 91) problems.push('trailLogExpirationDays must be at least 91 (files move to Glacier Instant Retrieval after 90 days).');
  if (s.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(s.alarmEmail)) problems.push('alarmEmail is not an email address.');
  if (s.lockoutAlarmThreshold < 1 || s.failedCodeChecksAlarmThreshold < 1) problems.push('Alarm thresholds must be positive.');
  if (problems.length > 0) throw new SettingsError(`Invalid deployment settings:\n- ${problems.join('\n- ')}`);
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new SettingsError(`${name} must be a non-empty string.`);
  return value.trim();
}

function list(value: unknown, name: string): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!items || !items.every((item) => typeof item === 'string')) throw new SettingsError(`${name} must be a list or a comma-separated string.`);
  return items.map((item: string) => item.trim()).filter((item) => item.length > 0);
}

function integer(value: unknown, name: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) throw new SettingsError(`${name} must be a whole number.`);
  return number;
}

function boolean(value: unknown, name: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new SettingsError(`${name} must be true or false.`);
}

function oneOf<const T extends readonly string[]>(allowed: T, value: string, name: string): T[number] {
  if (!allowed.includes(value)) throw new SettingsError(`${name} must be one of ${allowed.join(', ')}.`);
  return value as T[number];
}
