import { Token } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import * as z from 'zod';
import { commaSeparated, flag, matching, SettingRefused, trimmedText, wholeNumber, type SettingRule } from '../functions/setting-rules.js';
import { FirstFactorAudience, Origin, PrincipalArn, ServiceSettingRules } from '../functions/settings-schema.js';

/**
 * Everything an operator can choose at deploy time, as one zod schema. Each field is a CDK
 * context parameter of the same name (`cdk deploy -c name=value` or `context` in cdk.json) and,
 * except the first-factor ones, a prop of the ServerlessMfa construct. The fields the functions
 * also read (assertion, TOTP, WebAuthn, mail and operator settings) use the rules of
 * functions/settings-schema.ts, which functions/config.ts reads their environment with.
 * docs/deploying.md lists them with their defaults: keep the two in step.
 */

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** A rule of functions/settings-schema.ts as a zod schema: what the rule refuses is an issue with its words and path. */
function ruled<T>(rule: SettingRule<T>) {
  return z.unknown().transform((value, context): T => {
    try {
      return rule(value);
    } catch (error) {
      if (!(error instanceof SettingRefused)) throw error;
      context.addIssue({ code: 'custom', message: error.message, path: [...error.path] });
      return z.NEVER;
    }
  });
}

/** A value CloudFormation resolves at deploy time (a construct's attribute) passes as is; a literal must pass `rule`. */
function literalOr(rule: SettingRule<string>): SettingRule<string> {
  return (value) => (typeof value === 'string' && Token.isUnresolved(value) ? value : rule(value));
}

// Numbers and booleans by the functions' rules too (decimal digits; true/false), whether the functions read them or not.
const positive = ruled(wholeNumber(1, Number.MAX_SAFE_INTEGER, 'must be positive'));
const logRetentionDays = ruled((value) => {
  const days = wholeNumber(-Infinity, Infinity)(value);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) throw new SettingRefused(`must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  return days;
});
const httpsUrl = z.string().trim().regex(/^https:\/\/[^\s/]+(\/\S*)?$/, 'must be an https URL');
const callbackUrl = trimmedText(matching(/^(https:\/\/[^\s/]+|http:\/\/localhost(:\d+)?)(\/\S*)?$/, 'must be an https URL (or http://localhost)'));

/** Who may assume the support role: `none`, an account id, or a role ARN (`*` may stand for an SSO role's generated suffix). */
const SupportRoleTrust = z
  .string()
  .trim()
  .regex(/^(none|\d{12}|arn:aws[a-z-]*:iam::\d{12}:role\/[\x21-\x7e]{1,512})$/, "must be 'none', an account id (12 digits) or a role ARN (arn:aws:iam::123456789012:role/...)");

/**
 * The settings of the service itself: props of the ServerlessMfa construct.
 * @internal (this repository only: not in the package's declarations)
 */
export const MFA_OPTION_SCHEMAS = {
  /** `aud` of MFA assertions by first-factor audience; unlisted audiences are used as is. */
  assertionAudienceMap: ruled(ServiceSettingRules.assertionAudienceMap).default({}),
  totpIssuerName: ruled(ServiceSettingRules.totpIssuerName).default('serverless-mfa'),
  /** Unset leaves the service default (300). */
  assertionTtlSeconds: ruled(ServiceSettingRules.assertionTtlSeconds).optional(),
  /** Days a remembered browser stays remembered (0 turns "remember this browser" off; at most 90). */
  rememberDeviceDays: ruled(ServiceSettingRules.rememberDeviceDays).default(30),
  /** Unset: the web hosting's domain when `webHosting`, else no WebAuthn relying party. */
  webAuthnRpId: ruled(literalOr(ServiceSettingRules.webAuthnRpId)).optional(),
  /** Empty: `https://<webAuthnRpId>` (the web hosting's origin by default). */
  webAuthnOrigins: ruled(commaSeparated(literalOr(Origin))).default([]),
  /** Browser origins allowed to call the API; empty means no CORS (server-to-server or same origin). */
  corsAllowedOrigins: ruled(commaSeparated(literalOr(Origin))).default([]),
  throttleRateLimit: positive.default(50),
  throttleBurstLimit: positive.default(100),
  logRetentionDays: logRetentionDays.default(365),
  logLevel: z
    .preprocess((value) => (typeof value === 'string' ? value.trim().toUpperCase() : value), z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('INFO'),
  /** false relies on an organisation trail configured as docs/auditing.md says. */
  createTrail: ruled(flag).default(true),
  trailLogExpirationDays: ruled(wholeNumber(91, Number.MAX_SAFE_INTEGER, 'must be at least 91 (files move to Glacier Instant Retrieval after 90 days)')).default(400),
  /** Subscribed to the alarm topic; unset leaves the topic without subscribers. */
  alarmEmail: ruled(literalOr(trimmedText(matching(/^[^@\s]+@[^@\s]+$/, 'is not an email address')))).optional(),
  lockoutAlarmThreshold: positive.default(10),
  failedCodeChecksAlarmThreshold: positive.default(100),
  /**
   * Who may assume the support role that calls the operator (`/admin`) routes: unset, this
   * account; an account id; an SSO permission set's role ARN; `none`, no support role.
   */
  supportRoleTrust: SupportRoleTrust.optional(),
  /** Who else the operator routes admit (IAM user, role or assumed-role ARNs); they need the invoke policy too. */
  adminPrincipalArns: ruled(commaSeparated(literalOr(PrincipalArn))).default([]),
  /** Host the reference web client (S3 + CloudFront) next to the API (the stand-alone stack's cdk.json turns it on). */
  webHosting: ruled(flag).default(false),
  /** Offer codes by email as a method: off by default (it needs a verified SES identity, `emailFrom`). */
  emailCodes: ruled(ServiceSettingRules.emailCodes).default(false),
  /** The verified SES identity's address mail comes from; the functions may send from it only. Unset: no mail at all. */
  emailFrom: ruled(ServiceSettingRules.emailFrom).optional(),
  /** The SES identity `emailFrom` is verified as (its domain, or the address itself). Unset: the domain of `emailFrom`. */
  emailIdentity: z.string().trim().min(1).max(320).optional(),
  /** An SES configuration set of yours for every mail; unset: the stack creates one. */
  emailConfigurationSet: ruled(ServiceSettingRules.emailConfigurationSet).optional(),
  /** Mail the user on every change of their MFA. Unset: on whenever `emailFrom` is set. */
  securityNotifications: ruled(ServiceSettingRules.securityNotifications).optional(),
  /** Named in security notices for a user who did not make the change. */
  supportUrl: ruled(ServiceSettingRules.supportUrl).optional(),
} as const;

/** The first factor as context parameters: the stand-alone stack's own choice between an issuer and a user pool. */
const FIRST_FACTOR_SCHEMAS = {
  /** Unset: the stack creates a Cognito user pool. */
  firstFactorIssuerUrl: httpsUrl.optional(),
  /** Accepted `aud` (or Cognito `client_id`) values; required with an issuer. */
  firstFactorAudience: ruled(commaSeparated(FirstFactorAudience)).default([]),
  /** Default user pool only: redirect URLs of apps using its hosted sign-in (code + PKCE). */
  userPoolCallbackUrls: ruled(commaSeparated(callbackUrl)).default([]),
} as const;

/** Mail needs the address it comes from. */
function requireEmailFrom(s: { emailFrom?: string | undefined; emailCodes: boolean; securityNotifications?: boolean | undefined }, context: z.RefinementCtx): void {
  if (s.emailFrom !== undefined) return;
  if (s.emailCodes) context.addIssue({ code: 'custom', path: ['emailCodes'], message: 'needs emailFrom (a verified SES identity to send codes from)' });
  if (s.securityNotifications === true) {
    context.addIssue({ code: 'custom', path: ['securityNotifications'], message: 'needs emailFrom (a verified SES identity to send notices from)' });
  }
}

/** @internal */
export const MfaOptionsSchema = z.object(MFA_OPTION_SCHEMAS).strict().superRefine(requireEmailFrom);
export type MfaOptions = z.output<typeof MfaOptionsSchema>;

/** @internal */
export const DeploymentSettingsSchema = z
  .object({ ...FIRST_FACTOR_SCHEMAS, ...MFA_OPTION_SCHEMAS })
  .strict()
  .superRefine((s, context) => {
    requireEmailFrom(s, context);
    const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (s.firstFactorIssuerUrl !== undefined && s.firstFactorAudience.length === 0) {
      problem('firstFactorAudience', 'is required when firstFactorIssuerUrl is set (the client IDs your IdP puts in `aud`)');
    }
    if (s.firstFactorIssuerUrl === undefined && s.firstFactorAudience.length > 0) {
      problem('firstFactorAudience', 'needs firstFactorIssuerUrl: the default user pool sets its own audience');
    }
    if (s.firstFactorIssuerUrl !== undefined && s.userPoolCallbackUrls.length > 0) {
      problem('userPoolCallbackUrls', 'configures the default user pool, which is not created when firstFactorIssuerUrl is set');
    }
  });

export type ServerlessMfaSettings = z.output<typeof DeploymentSettingsSchema>;

/** @internal */
export const SETTING_NAMES = Object.keys(DeploymentSettingsSchema.shape) as (keyof ServerlessMfaSettings)[];

/** @internal Parses with a schema of this file, turning zod's issues into one SettingsError naming each parameter. */
export function parseSettings<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown setting ${issue.keys.join(', ')}`;
    return `${issue.path.join('.')} ${issue.message}`;
  });
  throw new SettingsError(`Invalid deployment settings:\n- ${problems.join('\n- ')}`);
}

/** @internal */
export const DEFAULT_SETTINGS: ServerlessMfaSettings = parseSettings(DeploymentSettingsSchema, {});

/**
 * @internal
 * Reads the settings from CDK context, then applies `overrides` (stack props) and validates the
 * result, so a bad value fails `cdk synth` with the parameter's name instead of a broken deploy.
 * Context values given on the command line arrive as strings: `-c createTrail=false` is false,
 * `-c corsAllowedOrigins=https://a.example,https://b.example` is a list. An empty string is unset.
 */
export function resolveSettings(node: Node, overrides: Partial<ServerlessMfaSettings> = {}): ServerlessMfaSettings {
  const raw: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const value: unknown = name in overrides ? overrides[name] : node.tryGetContext(name);
    if (value !== undefined && value !== null && value !== '') raw[name] = value;
  }
  return parseSettings(DeploymentSettingsSchema, raw);
}
