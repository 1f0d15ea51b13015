import type { Proof } from '../../ports/mfa-store.js';
import { spentKeyOf, type Evaluation } from '../evaluation.js';
import { findRecoveryCodeHash, normalizeRecoveryCode } from './recovery-codes.js';

/**
 * The fast digest a spent recovery code is kept under, beside its KDF hash: a copy of a used code
 * is then recognised without running the KDF (16 MiB of scrypt). A fast digest is safe here: the
 * code has 80 bits, and it is spent (it proves nothing any more). Null for what is no recovery code.
 */
export function spentRecoveryCodeDigest(userId: string, input: string): string | null {
  const normalized = normalizeRecoveryCode(input);
  return normalized === null ? null : spentKeyOf('recovery-code', userId, normalized);
}

/**
 * Checks a recovery code: first against the digests of the set's used codes (`spent.digests`,
 * no KDF), then against the account's unused ones, then against the used ones kept only as KDF
 * hashes (`spent.hashes`, spent before digests were kept): a match among the used ones is a right
 * code already spent (a double click, a retry), no guess. `kdfCache` holds this one input's
 * derivations, so a request that re-reads the set after a conflict, or checks the used ones of the
 * same set (same salt), pays the KDF once.
 */
export async function proveRecoveryCode(
  userId: string,
  storedHashes: readonly string[],
  input: string,
  kdfCache: Map<string, Promise<Buffer>>,
  spent: { hashes?: readonly string[] | undefined; digests?: readonly string[] | undefined } = {},
): Promise<Evaluation<Extract<Proof, { kind: 'recovery_code' }>>> {
  const digest = spentRecoveryCodeDigest(userId, input);
  if (digest === null) return { refused: 'wrong' };
  if (spent.digests?.includes(digest)) return { refused: 'spent', spentKey: digest };
  const hash = await findRecoveryCodeHash(input, storedHashes, kdfCache);
  if (hash !== null) return { proof: { kind: 'recovery_code', hash, digest } };
  if (spent.hashes?.length && (await findRecoveryCodeHash(input, spent.hashes, kdfCache)) !== null) return { refused: 'spent', spentKey: digest };
  return { refused: 'wrong' };
}
