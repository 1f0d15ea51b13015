import type { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_METRICS, PowertoolsAuditLog } from '../../functions/adapters/powertools-audit-log.js';
import { countMetric, publishAuditMetrics } from '../../functions/observability.js';

const context = { requestId: 'req-1', sourceIp: '198.51.100.7' };
const silentLogger = { info: () => {} } as unknown as Logger;

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('audit metrics', () => {
  it('count a failed check and a lockout, and nothing for a success', () => {
    const counted: string[] = [];
    const audit = new PowertoolsAuditLog(silentLogger, (name) => counted.push(name));
    audit.record({ event: 'mfa.verify.succeeded', userId: 'u', outcome: 'success', method: 'totp' }, context);
    expect(counted).toEqual([]);
    audit.record({ event: 'mfa.verify.failed', userId: 'u', outcome: 'failure', method: 'totp', failures: 5 }, context);
    audit.record({ event: 'mfa.lockout.started', userId: 'u', outcome: 'failure', lockedUntil: '2026-12-03T10:00:00.000Z' }, context);
    expect(counted).toEqual([AUDIT_METRICS.failedCodeChecks, AUDIT_METRICS.failedCodeChecks, AUDIT_METRICS.lockouts]);
  });

  it('count a counter regression (a suspected cloned key) as SuspectedKeyClones, and nothing for other key events', () => {
    const counted: string[] = [];
    const audit = new PowertoolsAuditLog(silentLogger, (name) => counted.push(name));
    audit.record({ event: 'mfa.verify.succeeded', userId: 'u', outcome: 'success', method: 'webauthn' }, context);
    audit.record({ event: 'mfa.webauthn.backup_eligibility_changed', userId: 'u', outcome: 'success', method: 'webauthn' }, context);
    expect(counted).toEqual([]);
    audit.record({ event: 'mfa.webauthn.counter_regression', userId: 'u', outcome: 'refused', method: 'webauthn', authenticatorId: 'k-1' }, context);
    expect(counted).toEqual([AUDIT_METRICS.suspectedKeyClones]);
  });

  it('are written as one CloudWatch EMF line after the invocation that counted them, and not again', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    countMetric(AUDIT_METRICS.failedCodeChecks);
    countMetric(AUDIT_METRICS.failedCodeChecks);
    countMetric(AUDIT_METRICS.lockouts);
    await publishAuditMetrics();
    const lines = written.join('').trim().split('\n').filter((line) => line.includes('_aws'));
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> } };
    expect(emf._aws.CloudWatchMetrics[0]!.Namespace).toBe('ServerlessMfa');
    expect(emf._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name).sort()).toEqual([AUDIT_METRICS.failedCodeChecks, AUDIT_METRICS.lockouts]);
    expect(emf[AUDIT_METRICS.failedCodeChecks]).toEqual([1, 1]);
    expect(emf[AUDIT_METRICS.lockouts]).toBe(1);
    written.length = 0;
    await publishAuditMetrics();
    expect(written.filter((line) => line.includes('_aws'))).toEqual([]);
  });
});
