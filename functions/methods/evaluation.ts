import { createHash } from 'node:crypto';

/**
 * What checking one proof against the stored state found: a proof to consume in the write,
 * or a refusal. `spent` is a right code already used (a double click, a client's retry): no
 * guess, so its counted attempt is given back; `spentKey` is a short digest naming that spent
 * proof (never the proof itself), to publish its replay at most once a minute per session.
 * `counter_regression` is a key (named) whose signature counter went backwards: a possible
 * clone, signalled as such. A wrong code checked against several apps' secrets says how many:
 * each was a chance to hit, and the failure window counts each.
 */
export type Evaluation<P> =
  | { proof: P }
  /** `checks`: how many secrets a wrong code was checked against (one per app), when more than one. */
  | { refused: 'wrong'; checks?: number }
  | { refused: 'counter_regression'; authenticatorId: string }
  | { refused: 'spent'; spentKey: string };

/** A short, one-way name for a spent proof (22 base64url characters of SHA-256 over its parts). */
export function spentKeyOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url').slice(0, 22);
}
