import type { ChangeEvent } from '../domain/change-events.js';
import { AuthenticatorNotFoundError } from '../domain/errors.js';
import { authenticatorsOf, type MfaRecord } from '../domain/mfa-record.js';
import { requireMfaEnabled, type AttemptEngine } from './attempts.js';
import { audit, type Actor, type MfaServiceDeps, type SecondFactor, originOf } from './context.js';
import { recoveryCodeSetOnce } from './recovery-code-sets.js';
import type { Proof } from '../ports/mfa-store.js';
import { methodOfProof, recoveryCodeUsedEvents } from './verification.js';
import { forgottenEvents } from './remembered-devices.js';
import { authenticatorView, type AuthenticatorView } from './views.js';

export interface AuthenticatorsLeft {
  mfaEnabled: boolean;
  authenticators: AuthenticatorView[];
}

/** Naming and removing authenticators, turning apps off, and replacing the recovery codes. */
export class AuthenticatorManagement {
  constructor(
    private readonly deps: MfaServiceDeps,
    private readonly attempts: AttemptEngine,
  ) {}

  /** A name grants nothing, so renaming needs no step-up. The name it already has changes nothing: no write, no event, no notice. */
  async rename(actor: Actor, authenticatorId: string, name: string): Promise<AuthenticatorView> {
    const { store, clock } = this.deps;
    const now = clock.now();
    let record = await store.get(actor.userId);
    const authenticator = record?.authenticators.find((a) => a.id === authenticatorId);
    if (!record || !authenticator) throw new AuthenticatorNotFoundError();
    if (authenticator.name === name) return authenticatorView(authenticator);
    if (record.legacy) {
      await store.migrateLegacy(record, now);
      record = { ...record, legacy: false };
    }
    const events: ChangeEvent[] = [{ event: 'authenticator.renamed', ...originOf(actor), method: authenticator.kind, authenticatorId }];
    if ((await store.renameAuthenticator(actor.userId, authenticatorId, name, now, events)) === 'conflict') throw new AuthenticatorNotFoundError();
    audit(this.deps, actor, 'mfa.authenticator.renamed', 'success', { method: authenticator.kind, authenticatorId });
    return authenticatorView({ ...authenticator, name });
  }

  /** Removes one authenticator with a proof; the last one takes MFA and the recovery codes with it. */
  async remove(actor: Actor, authenticatorId: string, factor: SecondFactor): Promise<AuthenticatorsLeft> {
    const { record, proof } = await this.attempts.run(actor, factor, {
      operation: 'remove',
      requires: 'mfa-enabled',
      precondition: (found) => {
        if (!found?.authenticators.some((a) => a.id === authenticatorId)) throw new AuthenticatorNotFoundError();
      },
      commit: async (found, proof, now, store) => ({
        result: await store.commitProof(
          actor.userId,
          proof,
          {
            kind: 'remove_authenticators',
            ids: [authenticatorId],
            authenticatorCount: found.authenticators.length,
            credentialIds: credentialIdsOf(found, [authenticatorId]),
            deviceCount: found.devices?.length ?? 0,
          },
          now,
          removalEvents(actor, found, proof, [authenticatorId]),
        ),
      }),
    });
    const removed = record.authenticators.find((a) => a.id === authenticatorId)!;
    audit(this.deps, actor, 'mfa.authenticator.removed', 'success', { method: removed.kind, authenticatorId });
    const left = record.authenticators.filter((a) => a.id !== authenticatorId);
    if (left.length === 0) audit(this.deps, actor, 'mfa.disabled', 'success', { method: methodOfProof(proof) });
    this.auditForgotten(actor, record, [authenticatorId]);
    return { mfaEnabled: left.length > 0, authenticators: left.map(authenticatorView) };
  }

  /** Removes every app (version 1's "disable"); the recovery codes go only when nothing else remains. */
  async disableTotp(actor: Actor, factor: SecondFactor): Promise<{ mfaEnabled: boolean }> {
    const { record, proof } = await this.attempts.run(actor, factor, {
      operation: 'disable',
      requires: 'mfa-enabled',
      precondition: requireMfaEnabled,
      commit: async (found, proof, now, store) => {
        const ids = authenticatorsOf(found, 'totp').map((app) => app.id);
        const effect =
          ids.length > 0
            ? ({ kind: 'remove_authenticators', ids, authenticatorCount: found.authenticators.length, credentialIds: [], deviceCount: found.devices?.length ?? 0 } as const)
            : ({ kind: 'none' } as const);
        return { result: await store.commitProof(actor.userId, proof, effect, now, removalEvents(actor, found, proof, ids)) };
      },
    });
    const left = record.authenticators.filter((a) => a.kind !== 'totp');
    this.auditForgotten(actor, record, authenticatorsOf(record, 'totp').map((app) => app.id));
    audit(this.deps, actor, 'mfa.totp.disabled', 'success', { method: methodOfProof(proof) });
    return { mfaEnabled: left.length > 0 };
  }

  async regenerateRecoveryCodes(actor: Actor, factor: SecondFactor): Promise<{ recoveryCodes: string[] }> {
    const newRecoveryCodeSet = recoveryCodeSetOnce(this.deps.random);
    const { proof, value: codes } = await this.attempts.run<string[]>(actor, factor, {
      operation: 'regenerate',
      requires: 'mfa-enabled',
      precondition: requireMfaEnabled,
      commit: async (found, proof, now, store) => {
        // Generated only once the proof is known to be good: wrong codes cost no KDF work.
        const { codes, hashes } = await newRecoveryCodeSet();
        // The code spent is one of the old set: "used" counts what was left of it, "regenerated" the new set.
        const events: ChangeEvent[] = [
          ...recoveryCodeUsedEvents(actor, proof, found.recoveryCodeHashes.length - 1),
          { event: 'recovery_codes.regenerated', ...originOf(actor), method: methodOfProof(proof), recoveryCodesRemaining: hashes.length },
        ];
        const result = await store.commitProof(actor.userId, proof, { kind: 'replace_recovery_codes', hashes }, now, events);
        return { result, value: codes };
      },
    });
    audit(this.deps, actor, 'mfa.recovery_codes.regenerated', 'success', { method: methodOfProof(proof) });
    return { recoveryCodes: codes! };
  }

  private auditForgotten(actor: Actor, record: MfaRecord, removed: readonly string[]): void {
    for (const event of devicesForgottenByRemoval(actor, record, removed)) audit(this.deps, actor, 'mfa.device.forgotten', 'success', { deviceId: event.deviceId, reason: event.reason });
  }
}

/** The credential ids of the keys among `ids`: their uniqueness records go in the same write. */
export function credentialIdsOf(record: MfaRecord, ids: readonly string[]): string[] {
  return authenticatorsOf(record, 'webauthn')
    .filter((key) => ids.includes(key.id))
    .map((key) => key.credentialId);
}

/**
 * The events of removing `ids` from `record` with `proof`: the recovery code it spent, one per
 * authenticator, and MFA disabled when none remain (the recovery codes go with it).
 */
function removalEvents(actor: Actor, record: MfaRecord, proof: Proof, ids: readonly string[]): ChangeEvent[] {
  const origin = originOf(actor);
  const removesAll = ids.length > 0 && ids.length === record.authenticators.length;
  const events: ChangeEvent[] = recoveryCodeUsedEvents(actor, proof, removesAll ? 0 : record.recoveryCodeHashes.length - 1);
  events.push(...ids.map((id): ChangeEvent => ({
    event: 'authenticator.removed',
    ...origin,
    method: record.authenticators.find((a) => a.id === id)?.kind,
    authenticatorId: id,
  })));
  if (removesAll) events.push({ event: 'mfa.disabled', ...origin });
  events.push(...devicesForgottenByRemoval(actor, record, ids));
  return events;
}

/** Removing any factor forgets every remembered browser: why, per browser (MFA off when none remains). */
function devicesForgottenByRemoval(actor: Actor, record: MfaRecord, ids: readonly string[]): ChangeEvent[] {
  if (ids.length === 0) return [];
  const reason = ids.length === record.authenticators.length ? 'mfa_disabled' : 'authenticator_removed';
  return forgottenEvents(actor, (record.devices ?? []).map((device) => ({ id: device.id, reason })));
}

