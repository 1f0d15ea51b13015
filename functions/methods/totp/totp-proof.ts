import type { TotpAuthenticator } from '../../domain/mfa-record.js';
import type { Proof } from '../../ports/mfa-store.js';
import type { Evaluation } from '../evaluation.js';
import { matchTotpStep } from './totp.js';

/**
 * Checks a code against each of the user's apps, the most recently used first. A code is good
 * for an app when it matches within the drift window (RFC 6238 5.2) for a step newer than that
 * app's last accepted one: replay protection is per app, and the store's conditional write
 * enforces the same rule on the state it writes.
 */
export async function proveTotpCode(
  apps: readonly TotpAuthenticator[],
  code: string,
  nowMs: number,
  openSecret: (sealed: Uint8Array) => Promise<Uint8Array>,
): Promise<Evaluation<Extract<Proof, { kind: 'totp' }>>> {
  const ordered = [...apps].sort((a, b) => (b.lastUsedAt ?? b.createdAt) - (a.lastUsedAt ?? a.createdAt));
  let spent = false;
  for (const app of ordered) {
    const step = matchTotpStep(await openSecret(app.sealedSecret), code, nowMs);
    if (step === null) continue;
    if (step <= app.lastStep) {
      spent = true;
      continue;
    }
    return { proof: { kind: 'totp', authenticatorId: app.id, sealedSecret: app.sealedSecret, step } };
  }
  return { refused: spent ? 'spent' : 'wrong' };
}

/** Checks the code of the app being set up against its pending secret. */
export async function provePendingTotpCode(
  sealedSecret: Uint8Array,
  code: string,
  nowMs: number,
  openSecret: (sealed: Uint8Array) => Promise<Uint8Array>,
): Promise<Evaluation<Extract<Proof, { kind: 'pending_totp' }>>> {
  const step = matchTotpStep(await openSecret(sealedSecret), code, nowMs);
  return step === null ? { refused: 'wrong' } : { proof: { kind: 'pending_totp', sealedSecret, step } };
}
