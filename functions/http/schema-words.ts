import type { z } from 'zod';

/**
 * What a schema check found wrong with a body, in words a developer reads at once: "body.name
 * must not be empty.", "Send exactly one of code, recoveryCode, webauthn or emailCode." Never a
 * validator's internal issue name, and never what was sent (paths and the schema's own limits only).
 *
 * Zod asks this module's error map for the words of every issue a schema does not word itself;
 * those come back as fragments ("must not be empty") that get the field's path in front once
 * the path is known. A schema that words an issue itself (`{ error: '...' }`) wins: at the body's
 * root its words are a whole sentence, at a field they follow the field's path too.
 */
const FRAGMENT = '\u0000';

type RawIssue = z.core.$ZodRawIssue;

/** The per-parse error map: a fragment for every issue the schema leaves unworded. */
export function issueFragment(issue: RawIssue): string {
  return FRAGMENT + fragmentOf(issue);
}

/** The sentences of a failed check, at most `limit` of them. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], limit = 5): string {
  const sentences = issues.slice(0, limit).map((issue) => {
    const where = issue.path.length === 0 ? undefined : `body.${issue.path.map(String).join('.')}`;
    if (issue.message.startsWith(FRAGMENT)) return `${where ?? 'The body'} ${issue.message.slice(FRAGMENT.length)}.`;
    return where ? `${where} ${issue.message}.` : `${issue.message}.`;
  });
  return [...new Set(sentences)].join(' ');
}

function fragmentOf(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${TYPE_NOUNS[issue.expected] ?? issue.expected}`;
    case 'too_big':
      return `must be at most ${issue.maximum}${unitOf(issue.origin)}`;
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return 'must not be empty';
      return `must be at least ${issue.minimum}${unitOf(issue.origin)}`;
    case 'invalid_format':
      return FORMAT_WORDS[issue.format] ?? 'has characters or a form that is not accepted';
    case 'invalid_value':
      return `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? 'has a field that is not accepted' : 'has fields that are not accepted';
    case 'invalid_union':
      return 'does not match any accepted form';
    default:
      return 'is not valid';
  }
}

const TYPE_NOUNS: Partial<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'an array',
};

const FORMAT_WORDS: Partial<Record<string, string>> = {
  regex: 'has characters or a form that is not accepted',
  datetime: 'must be an ISO 8601 date and time',
  url: 'must be a URL',
  starts_with: 'does not start as it must',
};

function unitOf(origin: string): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array' || origin === 'set') return ' items';
  return '';
}
