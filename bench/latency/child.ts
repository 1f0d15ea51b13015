/**
 * The latency benchmark in its own process, started by bench/run.ts with stdout discarded: the
 * handlers write their audit lines there as in Lambda, where they are part of the work. Results
 * go back over IPC; progress goes to stderr.
 */
import { measureLatency, type LatencyOptions } from './index.js';

const { dynamoDbEndpoint, quick, profileDir } = JSON.parse(process.argv[2] ?? '{}') as { dynamoDbEndpoint: string; quick?: boolean; profileDir?: string };
const log = (line: string) => process.stderr.write(`  ${line}\n`);

const options: LatencyOptions = quick
  ? {
      dynamoDbEndpoint,
      rounds: 3,
      verifyPairs: 20,
      warmup: 10,
      confirmSamples: 2,
      recoverySamples: 2,
      concurrency: [1, 8, 32],
      blocksPerConcurrency: 1,
      opsPerBlock: (concurrency) => Math.max(20, concurrency * 3),
      handlerPairs: 40,
      profileDir,
      log,
    }
  : {
      dynamoDbEndpoint,
      // Three rounds of each latency figure: the figure is their median, the spread is reported.
      rounds: 3,
      verifyPairs: 150,
      warmup: 60,
      confirmSamples: 8,
      recoverySamples: 10,
      concurrency: [1, 8, 32],
      // Short blocks, many of them: verify and floor blocks then see nearly the same machine load.
      blocksPerConcurrency: 4,
      opsPerBlock: (concurrency) => Math.max(40, concurrency * 5),
      handlerPairs: 300,
      profileDir,
      log,
    };

try {
  const results = await measureLatency(options);
  process.send!({ ok: true, results }, () => process.exit(0));
} catch (error) {
  process.send!({ ok: false, error: (error as Error).stack ?? String(error) }, () => process.exit(1));
}
