/** Milliseconds since the Unix epoch. Injected so that time-based rules are testable. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
