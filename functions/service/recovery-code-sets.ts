import type { RandomSource } from '../domain/random.js';
import { generateRecoveryCodes, hashRecoveryCodes } from '../methods/recovery-codes/recovery-codes.js';

/** Generates and hashes a recovery-code set at most once per request, however many rounds it takes. */
export function recoveryCodeSetOnce(random: RandomSource): () => Promise<{ codes: string[]; hashes: string[] }> {
  let set: Promise<{ codes: string[]; hashes: string[] }> | undefined;
  return () => {
    set ??= (async () => {
      const codes = generateRecoveryCodes(random);
      return { codes, hashes: await hashRecoveryCodes(codes, random) };
    })();
    return set;
  };
}

export const newAuthenticatorId = (random: RandomSource): string => Buffer.from(random.bytes(12)).toString('base64url');
