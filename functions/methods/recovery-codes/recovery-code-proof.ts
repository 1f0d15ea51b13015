import type { Proof } from '../../ports/mfa-store.js';
import type { Evaluation } from '../evaluation.js';
import { findRecoveryCodeHash } from './recovery-codes.js';

/**
 * Checks a recovery code against the account's unused ones. `kdfCache` holds this one input's
 * derivations, so a request that re-reads the set after a conflict pays the KDF once.
 */
export async function proveRecoveryCode(
  storedHashes: readonly string[],
  input: string,
  kdfCache: Map<string, Promise<Buffer>>,
): Promise<Evaluation<Extract<Proof, { kind: 'recovery_code' }>>> {
  const hash = await findRecoveryCodeHash(input, storedHashes, kdfCache);
  return hash === null ? { refused: 'wrong' } : { proof: { kind: 'recovery_code', hash } };
}
