import type { Logger } from '@aws-lambda-powertools/logger';
import type { CountMetric } from '../observability.js';
import type { AuditContext, AuditEvent, AuditLog } from '../ports/audit-log.js';

/** Metric names the alarms watch. */
export const AUDIT_METRICS = {
  failedCodeChecks: 'FailedCodeChecks',
  lockouts: 'Lockouts',
  proofCeilingReached: 'ProofCeilingReached',
  suspectedKeyClones: 'SuspectedKeyClones',
} as const;

/**
 * Audit events as structured Powertools log lines (`"audit": true`, one per event) plus
 * CloudWatch metrics for failures, lockouts, the proof ceiling reached and suspected cloned keys
 * (counted here, written by Powertools Metrics after the invocation: functions/observability.ts).
 * Only the AuditEvent fields are written.
 */
export class PowertoolsAuditLog implements AuditLog {
  constructor(
    private readonly logger: Logger,
    private readonly countMetric?: CountMetric,
  ) {}

  record(event: AuditEvent, context: AuditContext): void {
    this.logger.info(event.event, {
      audit: true,
      event: event.event,
      userId: event.userId,
      outcome: event.outcome,
      requestId: context.requestId,
      sourceIp: context.sourceIp,
      ...(event.method ? { method: event.method } : {}),
      ...(event.operation ? { operation: event.operation } : {}),
      ...(event.failures !== undefined ? { failures: event.failures } : {}),
      ...(event.lockedUntil ? { lockedUntil: event.lockedUntil } : {}),
      ...(event.authenticatorId ? { authenticatorId: event.authenticatorId } : {}),
      ...(event.deviceId ? { deviceId: event.deviceId } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
      ...(context.principal ? { principal: context.principal } : {}),
      ...(context.sessionId ? { sessionId: context.sessionId } : {}),
    });
    if (event.outcome === 'failure') this.countMetric?.(AUDIT_METRICS.failedCodeChecks);
    if (event.event === 'mfa.lockout.started') this.countMetric?.(AUDIT_METRICS.lockouts);
    if (event.event === 'mfa.proof_ceiling.reached') this.countMetric?.(AUDIT_METRICS.proofCeilingReached);
    if (event.event === 'mfa.webauthn.counter_regression') this.countMetric?.(AUDIT_METRICS.suspectedKeyClones);
  }
}
