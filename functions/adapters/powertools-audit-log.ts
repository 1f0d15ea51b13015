import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AuditContext, AuditEvent, AuditLog } from '../ports/audit-log.js';

/** Metric names the alarms watch. */
export const AUDIT_METRICS = { failedCodeChecks: 'FailedCodeChecks', lockouts: 'Lockouts', proofCeilingReached: 'ProofCeilingReached' } as const;

/**
 * Audit events as structured Powertools log lines (`"audit": true`, one per event) plus
 * CloudWatch metrics for failures, lockouts and the proof ceiling reached. Only the AuditEvent fields are written.
 */
export class PowertoolsAuditLog implements AuditLog {
  constructor(
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
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
      ...(event.reason ? { reason: event.reason } : {}),
      ...(context.principal ? { principal: context.principal } : {}),
      ...(context.sessionId ? { sessionId: context.sessionId } : {}),
    });
    if (event.outcome === 'failure') this.metrics?.addMetric(AUDIT_METRICS.failedCodeChecks, MetricUnit.Count, 1);
    if (event.event === 'mfa.lockout.started') this.metrics?.addMetric(AUDIT_METRICS.lockouts, MetricUnit.Count, 1);
    if (event.event === 'mfa.proof_ceiling.reached') this.metrics?.addMetric(AUDIT_METRICS.proofCeilingReached, MetricUnit.Count, 1);
  }
}
