import type { TotpAuthenticator } from '../../domain/mfa-record.js';
import type { Proof } from '../../ports/mfa-store.js';
import { spentKeyOf, type Evaluation } from '../evaluation.js';
import { matchTotpStep, stepAt, TOTP_DRIFT_WINDOW } from './totp.js';

/**
 * The digest an app keeps of the code it last accepted (with its step), so that a copy of that
 * code is recognised as spent without opening the app's secret (a KMS Decrypt per app in AWS).
 * A spent code proves nothing: the store accepts only steps newer than the app's last. Spaces
 * are left out, as when the code is matched: the same code sent with spaces is the same copy.
 */
export function spentCodeDigest(userId: string, step: number, code: string): string {
  return spentKeyOf('totp', userId, String(step), code.replace(/\s/g, ''));
}

/**
 * Checks a code against each of the user's apps, the most recently used first. A code is good
 * for an app when it matches within the drift window (RFC 6238 5.2) for a step newer than that
 * app's last accepted one: replay protection is per app, and the store's conditional write
 * enforces the same rule on the state it writes. A copy of an app's last accepted code, while
 * its step is still in the window, is recognised by its digest before any secret is opened.
 */
export async function proveTotpCode(
  userId: string,
  apps: readonly TotpAuthenticator[],
  code: string,
  nowMs: number,
  openSecret: (sealed: Uint8Array) => Promise<Uint8Array>,
): Promise<Evaluation<Extract<Proof, { kind: 'totp' }>>> {
  const oldestInWindow = stepAt(nowMs) - TOTP_DRIFT_WINDOW;
  for (const app of apps) {
    if (app.lastCodeDigest !== undefined && app.lastStep >= oldestInWindow && app.lastCodeDigest === spentCodeDigest(userId, app.lastStep, code)) {
      return { refused: 'spent', spentKey: app.lastCodeDigest };
    }
  }
  const ordered = [...apps].sort((a, b) => (b.lastUsedAt ?? b.createdAt) - (a.lastUsedAt ?? a.createdAt));
  let spentKey: string | undefined;
  for (const app of ordered) {
    const step = matchTotpStep(await openSecret(app.sealedSecret), code, nowMs);
    if (step === null) continue;
    if (step <= app.lastStep) {
      spentKey ??= spentCodeDigest(userId, step, code);
      continue;
    }
    return { proof: { kind: 'totp', authenticatorId: app.id, sealedSecret: app.sealedSecret, step, codeDigest: spentCodeDigest(userId, step, code) } };
  }
  if (spentKey !== undefined) return { refused: 'spent', spentKey };
  // Checked against every app: as many chances to hit as apps (the failure window counts each).
  return ordered.length > 1 ? { refused: 'wrong', checks: ordered.length } : { refused: 'wrong' };
}

/** Checks the code of the app the session is setting up against its pending secret. */
export async function provePendingTotpCode(
  sessionId: string,
  sealedSecret: Uint8Array,
  code: string,
  nowMs: number,
  openSecret: (sealed: Uint8Array) => Promise<Uint8Array>,
): Promise<Evaluation<Extract<Proof, { kind: 'pending_totp' }>>> {
  const step = matchTotpStep(await openSecret(sealedSecret), code, nowMs);
  return step === null ? { refused: 'wrong' } : { proof: { kind: 'pending_totp', sessionId, sealedSecret, step } };
}
