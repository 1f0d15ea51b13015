import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { AUDIT_METRICS, PowertoolsAuditLog } from '../../functions/adapters/powertools-audit-log.js';
import type { AuditEvent } from '../../functions/ports/audit-log.js';

/** The CloudWatch metrics (EMF) the audit log emits with its lines, which the stack's alarms watch. */
function metricsOf(events: AuditEvent[]): Record<string, unknown> {
  const metrics = new Metrics({ namespace: 'ServerlessMfa', serviceName: 'serverless-mfa' });
  const log = new PowertoolsAuditLog(new Logger({ serviceName: 'serverless-mfa', logLevel: 'SILENT' }), metrics);
  for (const event of events) log.record(event, { requestId: 'r-1', sourceIp: '198.51.100.7' });
  if (!metrics.hasStoredMetrics()) return {};
  const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } };
  return Object.fromEntries(emf._aws.CloudWatchMetrics[0]!.Metrics.map(({ Name }) => [Name, emf[Name]]));
}

describe('audit metrics', () => {
  it('counts a counter regression (a suspected cloned key) as SuspectedKeyClones', () => {
    const regression: AuditEvent = { event: 'mfa.webauthn.counter_regression', userId: 'u-1', outcome: 'refused', method: 'webauthn', authenticatorId: 'k-1' };
    expect(metricsOf([regression])).toEqual({ [AUDIT_METRICS.suspectedKeyClones]: 1 });
  });

  it('counts nothing of the kind for other key events', () => {
    const others: AuditEvent[] = [
      { event: 'mfa.verify.succeeded', userId: 'u-1', outcome: 'success', method: 'webauthn' },
      { event: 'mfa.webauthn.backup_eligibility_changed', userId: 'u-1', outcome: 'success', method: 'webauthn' },
    ];
    expect(metricsOf(others)).not.toHaveProperty(AUDIT_METRICS.suspectedKeyClones);
  });
});
