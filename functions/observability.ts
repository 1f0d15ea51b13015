import { Logger } from '@aws-lambda-powertools/logger';

const SERVICE_NAME = 'serverless-mfa';
const METRICS_NAMESPACE = 'ServerlessMfa';

/** Created once per container and shared by every module, as Powertools recommends. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/** Counts an audit metric (a count of 1) for the current invocation; `publishAuditMetrics` writes them after it. */
export type CountMetric = (name: string) => void;

const counted: string[] = [];
let metrics: import('@aws-lambda-powertools/metrics').Metrics | undefined;

export const countMetric: CountMetric = (name) => {
  counted.push(name);
};

/**
 * Writes the audit metrics the invocation counted (failures, lockouts) through Powertools
 * Metrics (CloudWatch EMF on stdout), after each invocation that counted any. Most count none (a
 * success records no metric), so Metrics is loaded and created on the first invocation that
 * does, not at cold start.
 */
export async function publishAuditMetrics(): Promise<void> {
  if (counted.length === 0) return;
  const { Metrics, MetricUnit } = await import('@aws-lambda-powertools/metrics');
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  for (const name of counted.splice(0)) metrics.addMetric(name, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
