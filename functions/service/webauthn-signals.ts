import type { Proof, MfaStore } from '../ports/mfa-store.js';
import { audit, type Actor, type MfaServiceDeps } from './context.js';

/**
 * What a key's assertion tells beyond its proof: a signature counter that went backwards (a
 * possible cloned key) and a backup-eligibility flag that differs from the one registered.
 */

/**
 * A counter regression: the audit line (its metric feeds the stack's alarm) and the change event
 * `authenticator.clone_suspected`, recorded by a write of its own (the refused proof changes nothing).
 */
export async function signalSuspectedClone(
  deps: Pick<MfaServiceDeps, 'audit'>,
  store: MfaStore,
  actor: Actor,
  authenticatorId: string,
  operation: string,
  now: number,
): Promise<void> {
  audit(deps, actor, 'mfa.webauthn.counter_regression', 'refused', { method: 'webauthn', operation, authenticatorId });
  await store.recordEvents(actor.userId, now, [{ event: 'authenticator.clone_suspected', requestId: actor.audit.requestId, method: 'webauthn', authenticatorId }]);
}

/**
 * A committed key proof whose assertion's BE flag differs from the registered one. The key keeps
 * its registered eligibility (its `amr` stays `hwk` or `swk`); the change is accepted (platforms
 * have flipped BE) and audited.
 */
export function auditBackupEligibilityChange(deps: Pick<MfaServiceDeps, 'audit'>, actor: Actor, proof: Proof, operation: string): void {
  if (proof.kind !== 'webauthn') return;
  const { backupEligible, assertedBackupEligible } = proof as Proof & { backupEligible?: boolean; assertedBackupEligible?: boolean };
  if (assertedBackupEligible === undefined || assertedBackupEligible === backupEligible) return;
  audit(deps, actor, 'mfa.webauthn.backup_eligibility_changed', 'success', { method: 'webauthn', operation, authenticatorId: proof.authenticatorId });
}
