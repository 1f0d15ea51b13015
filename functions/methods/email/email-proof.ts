import { authenticatorsOf, type MfaRecord } from '../../domain/mfa-record.js';
import type { Proof } from '../../ports/mfa-store.js';
import { spentKeyOf, type Evaluation } from '../evaluation.js';
import { emailCodeMatches, normalizeEmailCode, type EmailCodePurpose } from './email-codes.js';

/**
 * The name a consumed email code is kept under (the record's `emailLastCodeDigest`): bound to the
 * user and the session it was sent to, so that a copy of it (a double click, a client's retry) is
 * recognised as spent, not counted as a guess. It names a used code, which proves nothing.
 */
export function spentEmailCodeDigest(binding: { userId: string; sessionId: string }, code: string): string {
  return spentKeyOf('email', binding.userId, binding.sessionId, code);
}

/**
 * Checks a code against the one pending for this session (a code sent to another session, a
 * password holder's, proves nothing here). `prove`: the user's email method; `enroll`: the
 * method being added. The store's write consumes exactly this code (its hash), unexpired: each
 * code works once. A copy of the code this session last used is spent (its attempt is given
 * back); any other code, expired or not sent to this session, is wrong.
 */
export async function proveEmailCode(
  record: MfaRecord,
  binding: { userId: string; sessionId: string },
  input: string,
  purpose: EmailCodePurpose,
  nowMs: number,
  openKey: (sealed: Uint8Array) => Promise<Uint8Array>,
): Promise<Evaluation<Extract<Proof, { kind: 'email' | 'pending_email' }>>> {
  const code = normalizeEmailCode(input);
  if (code === null) return { refused: 'wrong' };
  const codeDigest = spentEmailCodeDigest(binding, code);
  const refused = (): Evaluation<never> => (record.emailLastCodeDigest === codeDigest ? { refused: 'spent', spentKey: codeDigest } : { refused: 'wrong' });
  const pending = record.emailCodes?.[binding.sessionId];
  if (!pending || pending.purpose !== purpose || pending.expiresAt <= nowMs) return refused();
  const method = authenticatorsOf(record, 'email')[0];
  if (purpose === 'prove' && !method) return { refused: 'wrong' };
  if (!emailCodeMatches(await openKey(pending.sealedKey), code, binding, pending.hash)) return refused();
  return purpose === 'prove'
    ? { proof: { kind: 'email', authenticatorId: method!.id, sessionId: binding.sessionId, hash: pending.hash, codeDigest } }
    : { proof: { kind: 'pending_email', sessionId: binding.sessionId, hash: pending.hash, address: pending.address, proved: pending.proved, codeDigest } };
}
