/**
 * The latency benchmark: the verify path through the local stack against the storage work it
 * needs, always interleaved in one run. Each phase measures one figure; they share the stack,
 * its clock, the seeded users and the floors (context.ts), and run in this order.
 */
import { openLatencyBench, type LatencyOptions, type LatencyPhase, type LatencyResults } from './context.js';
import { confirmPhase } from './phases/confirm.js';
import { lambdaVerifyPhase } from './phases/lambda-verify.js';
import { recoveryVerifyPhase } from './phases/recovery-verify.js';
import { throughputPhase } from './phases/throughput.js';
import { verifyPhase } from './phases/verify.js';
import { webauthnVerifyPhase } from './phases/webauthn-verify.js';

export type { LatencyOptions, LatencyPhase, LatencyResults, ThroughputFigure } from './context.js';

/**
 * The phases of one latency run. A new sign-in method adds its phase here (a WebAuthn
 * verification, say, returning its own key of LatencyResults) and its figure in bench/report.ts.
 */
export const LATENCY_PHASES: readonly LatencyPhase[] = [verifyPhase, webauthnVerifyPhase, confirmPhase, recoveryVerifyPhase, throughputPhase, lambdaVerifyPhase];

export async function measureLatency(options: LatencyOptions, phases: readonly LatencyPhase[] = LATENCY_PHASES): Promise<LatencyResults> {
  const bench = await openLatencyBench(options);
  try {
    const results: Partial<LatencyResults> = { node: process.version };
    for (const phase of phases) Object.assign(results, await phase.run(bench));
    return results as LatencyResults;
  } finally {
    await bench.close();
  }
}
