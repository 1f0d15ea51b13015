import type { Proof } from '../../ports/mfa-store.js';
import type { Evaluation } from '../evaluation.js';
import { findRecoveryCodeHash } from './recovery-codes.js';

/**
 * Checks a recovery code against the account's unused ones, then against the set's used ones
 * (`spentHashes`): a match there is a right code already spent (a double click, a retry), no
 * guess. `kdfCache` holds this one input's derivations, so a request that re-reads the set
 * after a conflict, or checks the used ones of the same set (same salt), pays the KDF once.
 */
export async function proveRecoveryCode(
  storedHashes: readonly string[],
  input: string,
  kdfCache: Map<string, Promise<Buffer>>,
  spentHashes: readonly string[] = [],
): Promise<Evaluation<Extract<Proof, { kind: 'recovery_code' }>>> {
  const hash = await findRecoveryCodeHash(input, storedHashes, kdfCache);
  if (hash !== null) return { proof: { kind: 'recovery_code', hash } };
  if (spentHashes.length > 0 && (await findRecoveryCodeHash(input, spentHashes, kdfCache)) !== null) return { refused: 'spent' };
  return { refused: 'wrong' };
}
