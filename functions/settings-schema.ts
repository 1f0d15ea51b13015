/**
 * The service settings an operator chooses at deploy time and the functions read at cold start,
 * each stated once as a rule: the CDK app applies it at synth (lib/settings.ts wraps each rule as
 * a zod schema), the functions apply it to the environment variables the stack derives from the
 * settings (functions/config.ts). Both sides read values that may arrive as text (`-c name=value`,
 * environment variables), so numbers are read from text and lists may be comma-separated.
 *
 * Plain functions, no validation library: they run at every cold start, and building zod
 * schemas there cost each function about 15 ms (docs/benchmarks.md).
 */

/** A value a rule refuses: `message` says what is wrong, `path` points into a list or map (index or key). */
export class SettingRefused extends Error {
  override readonly name = 'SettingRefused';
  constructor(
    message: string,
    readonly path: readonly (string | number)[] = [],
  ) {
    super(message);
  }
}

/** One setting's rule: the value as it arrives (text, or a value from the CDK app's props) in, the setting out; refuses with SettingRefused. */
export type SettingRule<T> = (value: unknown) => T;

/** What a rule gives when it accepts. */
export type RuleOutput<R> = R extends SettingRule<infer T> ? T : never;

const refuse = (message: string, path: readonly (string | number)[] = []): never => {
  throw new SettingRefused(message, path);
};

/** A check of text (already trimmed): the text kept (possibly changed), or a refusal. */
type TextCheck = (text: string) => string;

/** Text, trimmed, then passed through each check in order. */
export function trimmedText(...checks: TextCheck[]): SettingRule<string> {
  return (value) => (typeof value === 'string' ? checks.reduce((text, check) => check(text), value.trim()) : refuse('must be text'));
}

export const matching =
  (pattern: RegExp, message: string): TextCheck =>
  (text) =>
    pattern.test(text) ? text : refuse(message);

export const lengthBetween =
  (min: number, max: number, message: string): TextCheck =>
  (text) =>
    text.length >= min && text.length <= max ? text : refuse(message);

export const lowerCase: TextCheck = (text) => text.toLowerCase();

/** Text as given (not trimmed), not empty: names of resources (a table, a key ARN, a folder). */
export const nonEmptyText: SettingRule<string> = (value) => (typeof value === 'string' && value.length > 0 ? value : refuse('must be non-empty text'));

/** A URL (`new URL` parses it), trimmed, with no blank inside (the URL parser would drop a tab or newline the value still holds). */
export const url: SettingRule<string> = trimmedText((text) => (/^\S+$/.test(text) && URL.canParse(text) ? text : refuse('is not a URL')));

/** One of the given words, as written. */
export function oneOf<const T extends string>(...words: T[]): SettingRule<T> {
  return (value) => ((words as unknown[]).includes(value) ? (value as T) : refuse(`must be one of ${words.join(', ')}`));
}

/** A whole number between `min` and `max`, given as a number or as decimal text. */
export function wholeNumber(min: number, max: number, range = `must be between ${min} and ${max}`): SettingRule<number> {
  return (value) => {
    const number = typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number)) return refuse('must be a whole number');
    return number >= min && number <= max ? number : refuse(range);
  };
}

/** true/false given as a boolean or as text (`-c emailCodes=true`, environment variables). */
export const flag: SettingRule<boolean> = (value) =>
  value === true || value === 'true' ? true : value === false || value === 'false' ? false : refuse('must be true or false');

/**
 * A list given as an array or as comma-separated text (`a, b`; blanks are dropped), each item
 * passing `item`. An item of an array may not hold a comma: lists reach the functions as
 * comma-separated text (serviceEnvironment), where it would read as two items.
 */
export function commaSeparated<T>(item: SettingRule<T>): SettingRule<T[]> {
  return (value) => {
    const list =
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part.length > 0)
        : value;
    if (!Array.isArray(list)) return refuse('must be a list or a comma-separated string');
    return list.map((entry, index) => {
      try {
        if (typeof entry === 'string' && entry.includes(',')) refuse('must not contain a comma (lists are passed on as comma-separated text)');
        return item(entry);
      } catch (error) {
        throw error instanceof SettingRefused ? new SettingRefused(error.message, [index, ...error.path]) : error;
      }
    });
  };
}

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
