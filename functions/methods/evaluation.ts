/**
 * What checking one proof against the stored state found: a proof to consume in the write,
 * or a refusal. `spent` is a right code already used (a double click, a client's retry): no
 * guess, so its counted attempt is given back. `counter_regression` is a key whose signature
 * counter went backwards: a possible clone, audited as such.
 */
export type Evaluation<P> = { proof: P } | { refused: 'wrong' | 'spent' | 'counter_regression' };
