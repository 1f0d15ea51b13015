import { commaSeparated, flag, lengthBetween, lowerCase, matching, refuse, trimmedText, wholeNumber, type RuleOutput, type SettingRule } from './setting-rules.js';

/**
 * The service settings an operator chooses at deploy time and the functions read at cold start,
 * each stated once as a rule (built of functions/setting-rules.ts): the CDK app applies it at
 * synth (lib/settings.ts wraps each rule as a zod schema), the functions apply it to the
 * environment variables the stack derives from the settings (functions/config.ts). Both sides read values that may arrive as text (`-c name=value`,
 * environment variables), so numbers are read from text and lists may be comma-separated.
 *
 * Plain functions, no validation library: they run at every cold start, and building zod
 * schemas there cost each function about 15 ms (docs/benchmarks.md).
 */

/** A JSON object of non-empty strings, given as text (blank text is `{}`) or as an object. */
function mapOfNonEmptyText(messages: { shape: string; key: string; value: string }): SettingRule<Record<string, string>> {
  return (value) => {
    let object = value;
    if (typeof value === 'string') {
      try {
        object = value.trim() === '' ? {} : (JSON.parse(value) as unknown);
      } catch {
        return refuse(messages.shape);
      }
    }
    if (typeof object !== 'object' || object === null || Array.isArray(object)) return refuse(messages.shape);
    const map: Record<string, string> = {};
    for (const [key, entry] of Object.entries(object)) {
      if (typeof entry !== 'string') refuse(messages.shape, [key]);
      if (key.length === 0) refuse(messages.key, [key]);
      if ((entry as string).length === 0) refuse(messages.value, [key]);
      map[key] = entry as string;
    }
    return map;
  };
}

const isLocalHost = (host: string) => host === 'localhost' || host === '127.0.0.1';

/** A browser origin: `https://host[:port]` (plain http only for localhost), no path, no wildcard. */
export const Origin = trimmedText((text) => {
  const match = /^(https?):\/\/([a-z0-9.-]+)(:\d{1,5})?$/i.exec(text);
  return match !== null && (match[1] === 'https' || isLocalHost(match[2]!.toLowerCase()))
    ? text
    : refuse('is not an origin (https://host[:port], no path, no wildcard; http only for localhost)');
});

/**
 * An IAM principal that may call the operator routes: a user or role ARN (any path), or one
 * session of a role (an assumed-role ARN). The handlers compare an assumed-role caller by its
 * role (functions/service/operator-principals.ts).
 */
export const PrincipalArn = trimmedText(
  matching(
    /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,64}|sts::\d{12}:assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64})$/,
    'is not an IAM user, role or assumed-role ARN (arn:aws:iam::123456789012:role/Name)',
  ),
);

/** A first-factor audience (`aud` or `client_id`) the API's JWT authorizer accepts. */
export const FirstFactorAudience = trimmedText(lengthBetween(1, 256, 'must be 1-256 characters'));

const origins = commaSeparated(Origin);

export const ServiceSettingRules = {
  /**
   * `aud` of the MFA assertions this service signs, by the first-factor audience (client id) the
   * user signed in with; an audience not named here is used as is.
   */
  assertionAudienceMap: mapOfNonEmptyText({
    shape: 'must be a JSON object of non-empty strings',
    key: 'must map non-empty audiences',
    value: 'must map to non-empty audiences',
  }),
  /** Name shown in authenticator apps. */
  totpIssuerName: trimmedText(lengthBetween(1, Infinity, 'must be a non-empty string'), lengthBetween(0, 64, 'must be at most 64 characters')),
  /** Lifetime of an MFA assertion in seconds. */
  assertionTtlSeconds: wholeNumber(30, 300),
  /** Days a remembered browser stays remembered (fixed when remembered, never sliding); 0 turns remembering off. */
  rememberDeviceDays: wholeNumber(0, 90),
  /** WebAuthn relying party id: a registrable domain (no scheme, port or path). */
  webAuthnRpId: trimmedText(
    lowerCase,
    matching(/^(localhost|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/, 'must be a domain name (no scheme, port or path)'),
  ),
  /** Origins WebAuthn ceremonies may come from (the pages that call navigator.credentials). */
  webAuthnOrigins: (value: unknown) => {
    const list = origins(value);
    return list.length > 0 ? list : refuse('must name at least one origin');
  },
  /** Offer codes by email as a method (needs `emailFrom`). */
  emailCodes: flag,
  /** The verified SES identity mail comes from: `no-reply@example.com`. */
  emailFrom: trimmedText(
    lengthBetween(0, 254, 'must be at most 254 characters'),
    matching(/^[^@\s"<>]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'is not an email address (name@domain)'),
  ),
  /** The SES configuration set every mail is sent through (delivery, bounce and complaint events). */
  emailConfigurationSet: trimmedText(matching(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _')),
  /** Mail the user on every change of their MFA (needs `emailFrom`). */
  securityNotifications: flag,
  /** Named in security notices: where a user who did not make the change gets help. */
  supportUrl: trimmedText(matching(/^https:\/\/[^\s/]+(\/\S*)?$/, 'must be an https URL')),
  /** The principals the operator (`/admin`) routes admit; everyone else is refused (403 `forbidden`). */
  adminPrincipalArns: commaSeparated(PrincipalArn),
} as const satisfies Record<string, SettingRule<unknown>>;

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
} as const satisfies Record<keyof typeof ServiceSettingRules, string>;

export type ServiceSettings = { [K in keyof typeof ServiceSettingRules]: RuleOutput<(typeof ServiceSettingRules)[K]> };

/** The environment variables for the given settings (unset ones are left out: the functions apply their defaults). */
export function serviceEnvironment(settings: { [K in keyof ServiceSettings]?: ServiceSettings[K] | undefined }): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings) as [keyof ServiceSettings, ServiceSettings[keyof ServiceSettings] | undefined][]) {
    if (value === undefined) continue;
    environment[SERVICE_SETTING_ENV[name]] = Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return environment;
}
