import { authenticatorsOf, type MfaRecord } from '../../domain/mfa-record.js';
import type { Proof } from '../../ports/mfa-store.js';
import type { Evaluation } from '../evaluation.js';
import { emailCodeMatches, type EmailCodePurpose } from './email-codes.js';

/**
 * Checks a code against the one pending for this session (a code sent to another session, a
 * password holder's, proves nothing here). `prove`: the user's email method; `enroll`: the
 * method being added. The store's write consumes exactly this code (its hash), unexpired: each
 * code works once. A code used or expired is simply not there: wrong.
 */
export async function proveEmailCode(
  record: MfaRecord,
  binding: { userId: string; sessionId: string },
  input: string,
  purpose: EmailCodePurpose,
  nowMs: number,
  openKey: (sealed: Uint8Array) => Promise<Uint8Array>,
): Promise<Evaluation<Extract<Proof, { kind: 'email' | 'pending_email' }>>> {
  const pending = record.emailCodes?.[binding.sessionId];
  if (!pending || pending.purpose !== purpose || pending.expiresAt <= nowMs) return { refused: 'wrong' };
  const method = authenticatorsOf(record, 'email')[0];
  if (purpose === 'prove' && !method) return { refused: 'wrong' };
  if (!emailCodeMatches(await openKey(pending.sealedKey), input, binding, pending.hash)) return { refused: 'wrong' };
  return purpose === 'prove'
    ? { proof: { kind: 'email', authenticatorId: method!.id, sessionId: binding.sessionId, hash: pending.hash } }
    : { proof: { kind: 'pending_email', sessionId: binding.sessionId, hash: pending.hash, address: pending.address, proved: pending.proved } };
}
