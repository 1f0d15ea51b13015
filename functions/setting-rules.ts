/**
 * The building blocks of the settings rules (functions/settings-schema.ts) and of the functions'
 * own configuration (functions/config.ts, functions/public-config.ts): plain functions, no
 * validation library, since they run at every cold start. A rule takes a value as it arrives
 * (text from an environment variable or `-c name=value`, or a value from the CDK app's props) and
 * gives the setting, or refuses with SettingRefused.
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

export const refuse = (message: string, path: readonly (string | number)[] = []): never => {
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

/** `environmentReader`'s fallback for a variable that must be set: unset, it is named as missing. */
export const REQUIRED: unique symbol = Symbol('required');

/**
 * Reads environment variables by their rules (functions/config.ts, functions/public-config.ts):
 * an unset variable gives its fallback; the name of every variable set and refused, or required
 * and unset, is kept in `invalid`, in reading order, and nothing else is said of its value.
 */
export function environmentReader(env: NodeJS.ProcessEnv) {
  const invalid: string[] = [];
  // A required variable reads as T: while it is unset or refused, `invalid` names it and the caller throws before using it.
  function read<T, F = undefined>(name: string, rule: SettingRule<T>, fallback?: F): T | Exclude<F, typeof REQUIRED> {
    const value = env[name];
    if (value === undefined) {
      if (fallback === REQUIRED) invalid.push(name);
      return fallback as Exclude<F, typeof REQUIRED>;
    }
    try {
      return rule(value);
    } catch (error) {
      if (!(error instanceof SettingRefused)) throw error;
      invalid.push(name);
      return undefined as Exclude<F, typeof REQUIRED>;
    }
  }
  return { read, invalid };
}
