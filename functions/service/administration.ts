import type { ChangeEvent } from '../domain/change-events.js';
import { ContentionError, OperatorNotAllowedError, UserNotFoundError } from '../domain/errors.js';
import { isLocked } from '../domain/lockout.js';
import { authenticatorsOf, type MfaRecord } from '../domain/mfa-record.js';
import type { AuditContext, AuditEventName } from '../ports/audit-log.js';
import { iso, type MfaServiceDeps } from './context.js';
import { isNamedPrincipal } from './operator-principals.js';
import { forgottenEvents } from './remembered-devices.js';
import { statusOf, type MfaStatus } from './views.js';

/** Optimistic rounds of a reset before it gives up under contention (each round re-reads). */
const MAX_ROUNDS = 16;

/** Who is acting on a user's MFA: an operator, named by the IAM principal that signed the call. */
export interface Operator {
  /** The caller's IAM principal ARN, as API Gateway's IAM authorizer verified it. */
  principal: string;
  audit: Omit<AuditContext, 'principal'>;
}

declare const admitted: unique symbol;

/** An operator the deployment names: only `Administration.admit` makes one, and every action needs one. */
export type AdmittedOperator = Operator & { readonly [admitted]: true };

/** A user's MFA state as support staff see it: the user's own view plus the lockout. */
export interface AdminMfaStatus extends MfaStatus {
  userId: string;
  lock: {
    locked: boolean;
    /** Consecutive failed code checks. */
    failures: number;
    /** Until when code checks are refused (null when no lock stands). */
    lockedUntil: string | null;
  };
}

/**
 * What support staff may do to a user's MFA (IAM-authorised, never with a user's token): look,
 * reset everything so the user enrolls afresh (every factor lost), or lift a lock. Every call is
 * audited with the operator's principal and reason; reset and unlock record their change event
 * in the same conditional write.
 */
export class Administration {
  constructor(private readonly deps: Pick<MfaServiceDeps, 'store' | 'audit' | 'clock' | 'settings'>) {}

  /**
   * Lets through only a principal the deployment names (`adminPrincipalArns` and the support
   * role; an assumed role by its role). Anyone else, though IAM let them invoke the route, is
   * refused and audited (`mfa.admin.refused`, with their principal and the user they asked for
   * when the path names one validly).
   */
  admit(operator: Operator, userId: string | undefined): AdmittedOperator {
    if (isNamedPrincipal(operator.principal, this.deps.settings.adminPrincipalArns)) return operator as AdmittedOperator;
    this.audit(operator, 'mfa.admin.refused', userId ?? '', 'refused');
    throw new OperatorNotAllowedError();
  }

  async status(operator: AdmittedOperator, userId: string): Promise<AdminMfaStatus> {
    const record = await this.deps.store.get(userId);
    if (!record) {
      this.audit(operator, 'mfa.admin.status', userId, 'refused');
      throw new UserNotFoundError();
    }
    this.audit(operator, 'mfa.admin.status', userId, 'success');
    return adminStatusOf(record, this.deps.clock.now());
  }

  /**
   * Removes every authenticator, recovery code, pending setup and challenge and remembered
   * browser, and clears the lock. The item is read first so that each forgotten browser gets its
   * event in the reset's own write, and each key's uniqueness record goes in the same transaction
   * (the write holds only while the authenticators are still those read); the answer is the
   * state that write left.
   */
  async reset(operator: AdmittedOperator, userId: string, reason: string): Promise<AdminMfaStatus> {
    const { store, clock } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      const record = await store.get(userId);
      if (!record) {
        this.audit(operator, 'mfa.admin.reset', userId, 'refused', reason);
        throw new UserNotFoundError();
      }
      const forgotten = (record.devices ?? []).map((device) => ({ id: device.id, reason: 'admin_reset' as const }));
      const events: ChangeEvent[] = [{ event: 'admin.reset', requestId: operator.audit.requestId, sourceIp: operator.audit.sourceIp }, ...forgottenEvents(operator, forgotten)];
      const found = {
        authenticatorIds: record.legacy ? [] : record.authenticators.map((a) => a.id),
        credentialIds: authenticatorsOf(record, 'webauthn').map((key) => key.credentialId),
      };
      if ((await store.resetMfa(userId, now, events, found, record.devices?.length ?? 0)) === 'conflict') continue;
      this.audit(operator, 'mfa.admin.reset', userId, 'success', reason);
      for (const { id } of forgotten) {
        this.deps.audit.record({ event: 'mfa.device.forgotten', userId, outcome: 'success', deviceId: id, reason: 'admin_reset' }, { ...operator.audit, principal: operator.principal });
      }
      return adminStatusOf(afterReset(record), now);
    }
    throw new ContentionError();
  }

  /** Clears the lock and the attempt counters; the user's factors stay as they are. */
  unlock(operator: AdmittedOperator, userId: string, reason: string): Promise<AdminMfaStatus> {
    return this.act(operator, userId, reason, 'mfa.admin.unlock', 'admin.unlock', (now, events) => this.deps.store.clearLock(userId, now, events));
  }

  private async act(
    operator: AdmittedOperator,
    userId: string,
    reason: string,
    auditEvent: AuditEventName,
    changeEvent: ChangeEvent['event'],
    write: (now: number, events: ChangeEvent[]) => Promise<'ok' | 'conflict'>,
  ): Promise<AdminMfaStatus> {
    const now = this.deps.clock.now();
    if ((await write(now, [{ event: changeEvent, requestId: operator.audit.requestId, sourceIp: operator.audit.sourceIp }])) === 'conflict') {
      this.audit(operator, auditEvent, userId, 'refused', reason);
      throw new UserNotFoundError();
    }
    this.audit(operator, auditEvent, userId, 'success', reason);
    const record = await this.deps.store.get(userId);
    if (!record) throw new UserNotFoundError();
    return adminStatusOf(record, now);
  }

  private audit(operator: Operator, event: AuditEventName, userId: string, outcome: 'success' | 'refused', reason?: string): void {
    this.deps.audit.record({ event, userId, outcome, ...(reason !== undefined ? { reason } : {}) }, { ...operator.audit, principal: operator.principal });
  }
}

export function adminStatusOf(record: MfaRecord, now: number): AdminMfaStatus {
  const locked = isLocked(record, now);
  return {
    userId: record.userId,
    ...statusOf(record, now),
    lock: { locked, failures: record.failures, lockedUntil: locked ? iso(record.lockedUntil) : null },
  };
}

/** What a reset leaves of `record`: no factor, code, pending setup, remembered browser or lock. */
function afterReset(record: MfaRecord): MfaRecord {
  return {
    ...record,
    authenticators: [],
    recoveryCodeHashes: [],
    spentRecoveryCodeHashes: [],
    spentRecoveryCodeDigests: undefined,
    pendingEnrollments: undefined,
    registrations: undefined,
    webauthnChallengeKey: undefined,
    spentChallenges: undefined,
    emailCodes: undefined,
    emailLastCodeDigest: undefined,
    devices: [],
    deviceChallenges: [],
    failures: 0,
    lockedUntil: undefined,
    legacy: false,
  };
}
