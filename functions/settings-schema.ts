// zod/mini: the functions validate these at cold start, and zod's full API would cost every one of them ~10 ms more
// (docs/benchmarks.md). Built of the same checks zod's methods add (`.trim()` is `z.trim()`...), with the same messages.
import * as z from 'zod/mini';

/**
 * The service settings an operator chooses at deploy time and the functions read at cold start,
 * each validated by one schema: the CDK app checks them at synth (lib/settings.ts), the functions
 * check the environment variables the stack derives from them (functions/config.ts). Both sides
 * read values that may arrive as text (`-c name=value`, environment variables), so numbers are
 * coerced and lists may be comma-separated.
 */

/** zod's `preprocess`: `fn` runs on the input before `schema` validates it. */
function preprocess<T extends z.ZodMiniType>(fn: (value: unknown) => unknown, schema: T) {
  return z.pipe(z.transform(fn), schema);
}

/** A list given as an array or as comma-separated text (`a, b`); blanks are dropped. */
export function commaSeparated<T extends z.ZodMiniType>(item: T) {
  return preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part.length > 0)
        : value,
    z.array(item, { error: 'must be a list or a comma-separated string' }),
  );
}

const isLocalHost = (host: string) => host === 'localhost' || host === '127.0.0.1';

/** A browser origin: `https://host[:port]` (plain http only for localhost), no path, no wildcard. */
export const Origin = z.string().check(
  z.trim(),
  z.refine((value) => {
    const match = /^(https?):\/\/([a-z0-9.-]+)(:\d{1,5})?$/i.exec(value);
    return match !== null && (match[1] === 'https' || isLocalHost(match[2]!.toLowerCase()));
  }, 'is not an origin (https://host[:port], no path, no wildcard; http only for localhost)'),
);

/**
 * An IAM principal that may call the operator routes: a user or role ARN (any path), or one
 * session of a role (an assumed-role ARN). The handlers compare an assumed-role caller by its
 * role (functions/service/operator-principals.ts).
 */
export const PrincipalArn = z.string().check(
  z.trim(),
  z.regex(
    /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,64}|sts::\d{12}:assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64})$/,
    'is not an IAM user, role or assumed-role ARN (arn:aws:iam::123456789012:role/Name)',
  ),
);

/** A JSON object given as text (environment variables, `-c name='{...}'`) or as an object; blank text is `{}`. */
function jsonObject<T extends z.ZodMiniType>(schema: T) {
  return preprocess((value) => {
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return {};
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }, schema);
}

/** true/false given as a boolean or as text (`-c emailCodes=true`, environment variables). */
const flag = preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean({ error: 'must be true or false' }));

export const ServiceSettingSchemas = {
  /**
   * `aud` of the MFA assertions this service signs, by the first-factor audience (client id) the
   * user signed in with; an audience not named here is used as is.
   */
  assertionAudienceMap: jsonObject(
    z.record(z.string().check(z.minLength(1, 'must map non-empty audiences')), z.string().check(z.minLength(1, 'must map to non-empty audiences')), {
      error: 'must be a JSON object of non-empty strings',
    }),
  ),
  /** Name shown in authenticator apps. */
  totpIssuerName: z.string().check(z.trim(), z.minLength(1, 'must be a non-empty string'), z.maxLength(64, 'must be at most 64 characters')),
  /** Lifetime of an MFA assertion in seconds. */
  assertionTtlSeconds: z.coerce
    .number({ error: 'must be a whole number' })
    .check(z.int('must be a whole number'), z.gte(30, 'must be between 30 and 300'), z.lte(300, 'must be between 30 and 300')),
  /** Days a remembered browser stays remembered (fixed when remembered, never sliding); 0 turns remembering off. */
  rememberDeviceDays: z.coerce
    .number({ error: 'must be a whole number' })
    .check(z.int('must be a whole number'), z.gte(0, 'must be between 0 and 90'), z.lte(90, 'must be between 0 and 90')),
  /** WebAuthn relying party id: a registrable domain (no scheme, port or path). */
  webAuthnRpId: z
    .string()
    .check(z.trim(), z.toLowerCase(), z.regex(/^(localhost|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/, 'must be a domain name (no scheme, port or path)')),
  /** Origins WebAuthn ceremonies may come from (the pages that call navigator.credentials). */
  webAuthnOrigins: commaSeparated(Origin).check(z.refine((origins) => origins.length > 0, 'must name at least one origin')),
  /** Offer codes by email as a method (needs `emailFrom`). */
  emailCodes: flag,
  /** The verified SES identity mail comes from: `no-reply@example.com`. */
  emailFrom: z
    .string()
    .check(z.trim(), z.maxLength(254), z.regex(/^[^@\s"<>]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'is not an email address (name@domain)')),
  /** The SES configuration set every mail is sent through (delivery, bounce and complaint events). */
  emailConfigurationSet: z.string().check(z.trim(), z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _')),
  /** Mail the user on every change of their MFA (needs `emailFrom`). */
  securityNotifications: flag,
  /** Named in security notices: where a user who did not make the change gets help. */
  supportUrl: z.string().check(z.trim(), z.regex(/^https:\/\/[^\s/]+(\/\S*)?$/, 'must be an https URL')),
  /** The principals the operator (`/admin`) routes admit; everyone else is refused (403 `forbidden`). */
  adminPrincipalArns: commaSeparated(PrincipalArn),
} as const;

/** The environment variable each service setting reaches the functions through. */
export const SERVICE_SETTING_ENV = {
  assertionAudienceMap: 'MFA_ASSERTION_AUDIENCE_MAP',
  totpIssuerName: 'MFA_TOTP_ISSUER_NAME',
  assertionTtlSeconds: 'MFA_ASSERTION_TTL_SECONDS',
  rememberDeviceDays: 'MFA_REMEMBER_DEVICE_DAYS',
  webAuthnRpId: 'MFA_WEBAUTHN_RP_ID',
  webAuthnOrigins: 'MFA_WEBAUTHN_ORIGINS',
  emailCodes: 'MFA_EMAIL_CODES',
  emailFrom: 'MFA_EMAIL_FROM',
  emailConfigurationSet: 'MFA_EMAIL_CONFIGURATION_SET',
  securityNotifications: 'MFA_SECURITY_NOTIFICATIONS',
  supportUrl: 'MFA_SUPPORT_URL',
  adminPrincipalArns: 'MFA_ADMIN_PRINCIPAL_ARNS',
} as const satisfies Record<keyof typeof ServiceSettingSchemas, string>;

export type ServiceSettings = { [K in keyof typeof ServiceSettingSchemas]: z.output<(typeof ServiceSettingSchemas)[K]> };

/** The environment variables for the given settings (unset ones are left out: the functions apply their defaults). */
export function serviceEnvironment(settings: { [K in keyof ServiceSettings]?: ServiceSettings[K] | undefined }): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings) as [keyof ServiceSettings, ServiceSettings[keyof ServiceSettings] | undefined][]) {
    if (value === undefined) continue;
    environment[SERVICE_SETTING_ENV[name]] = Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return environment;
}
