import { randomBytes } from 'node:crypto';

/** A source of cryptographically secure random bytes. Injected so that tests can be deterministic. */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

export const cryptoRandom: RandomSource = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
};
