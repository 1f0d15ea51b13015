/**
 * What checking one proof against the stored state found: a proof to consume in the write,
 * or a refusal. `spent` is a right code already used (a double click, a client's retry): no
 * guess, so its counted attempt is given back. `counter_regression` is a key (named) whose
 * signature counter went backwards: a possible clone, signalled as such.
 */
export type Evaluation<P> = { proof: P } | { refused: 'wrong' | 'spent' } | { refused: 'counter_regression'; authenticatorId: string };
