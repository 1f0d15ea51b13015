/**
 * `npm run bench:timeline`: where one TOTP verification's time goes, step by step, on the local
 * stack as `npm run bench` measures it (Node 24, the same client, stand-in, handlers and DynamoDB
 * Local; each verification beside a storage floor and an HTTP hop, in rotating order).
 *
 * Nothing in the service is changed: the measuring process wraps a few prototype methods and
 * records when each starts and returns: `client` (the bench's HTTP request, from where the bench
 * starts its clock), `attempt` (the attempt engine's run, from the handler's service call to the
 * committed proof), `count` and `commit` (the store's two writes), `DynamoDB` (their SDK calls),
 * `open` and `sign` (the local stand-ins for kms:Decrypt and kms:Sign), `audit` (the audit line).
 * It prints the median of each gap between two marks, the medians of the whole verification as
 * the bench times it, and the storage floor and hop beside it. Each wrapper costs a few
 * microseconds.
 *
 * `--repeat` also runs the open and the sign a second time, right after the first (the results
 * are discarded): what the same step costs when it runs again at once, against its first run
 * after a wait for DynamoDB.
 *
 * The handlers write their audit lines to stdout, as in Lambda: the measuring runs in a child
 * process whose stdout is discarded, and the table goes to stderr.
 */
import { fork } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LOCAL_AWS_ENV, startDynamoDbLocal } from '../local/dynamodb-local.js';
import { median } from './stats.js';

/** One point of a verification's timeline: a wrapped method starting or returning. */
interface Mark {
  name: string;
  at: number;
}

/** A gap of a verification's timeline: what happens between two consecutive marks. */
interface TimelineRow {
  from: string;
  to: string;
  medianMs: number;
}

/**
 * The median of each gap between consecutive marks, over the verifications that made the most
 * common sequence of marks (on the success path, all of them: `kept`); any other is left out
 * and counted in `leftOut`, rather than mixed into the gaps of another sequence.
 */
function timelineRows(timelines: readonly Mark[][]): { rows: TimelineRow[]; kept: readonly Mark[][]; leftOut: number } {
  const shapeOf = (timeline: readonly Mark[]) => timeline.map((entry) => entry.name).join('\n');
  const shapes = new Map<string, number>();
  for (const timeline of timelines) shapes.set(shapeOf(timeline), (shapes.get(shapeOf(timeline)) ?? 0) + 1);
  const shape = [...shapes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const same = timelines.filter((timeline) => shapeOf(timeline) === shape);
  const first = same[0] ?? [];
  const rows = first.slice(1).map((entry, i) => ({
    from: first[i]!.name,
    to: entry.name,
    medianMs: median(same.map((timeline) => timeline[i + 1]!.at - timeline[i]!.at)),
  }));
  return { rows, kept: same, leftOut: timelines.length - same.length };
}

const SAMPLES = 400;
const WARMUP = 60;
/** Lambda's Node (the node24 devDependency); not imported from cold-start.ts, which would load esbuild and the CDK into the measuring process. */
const LAMBDA_NODE = fileURLToPath(new URL('../node_modules/node24/bin/node', import.meta.url));

if (process.env.VERIFY_TIMELINE_CHILD) {
  await measure(process.env.VERIFY_TIMELINE_CHILD, process.argv.includes('--repeat'));
} else {
  // DynamoDB Local belongs to this process, so that it stops even when the measuring child is killed.
  // Its readiness check uses the SDK: on Node 20 the SDK's support notice is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dynamo = await startDynamoDbLocal();
  try {
    const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
      execPath: LAMBDA_NODE,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        ...process.env,
        ...LOCAL_AWS_ENV,
        VERIFY_TIMELINE_CHILD: dynamo.endpoint,
        POWERTOOLS_SERVICE_NAME: 'serverless-mfa',
        POWERTOOLS_METRICS_NAMESPACE: 'ServerlessMfa',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_DISABLED: 'false',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    process.exitCode = await new Promise<number>((resolveExit) => {
      child.on('error', (error) => {
        process.stderr.write(`bench:timeline: could not run ${LAMBDA_NODE} (${error.message}); npm ci installs it (the node24 devDependency)\n`);
        resolveExit(1);
      });
      child.on('exit', (code, signal) => {
        if (signal) process.stderr.write(`bench:timeline: the measuring process was stopped by ${signal}\n`);
        resolveExit(code ?? 128 + (signal ? constants.signals[signal] : 0));
      });
    });
  } finally {
    await dynamo.stop();
  }
}

async function measure(dynamoDbEndpoint: string, repeat: boolean): Promise<void> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDbMfaStore } = await import('../functions/adapters/aws/dynamodb-mfa-store.js');
  const { LocalSecretSealer } = await import('../functions/adapters/local/local-secret-sealer.js');
  const { LocalAssertionSigner } = await import('../functions/adapters/local/local-assertion-signer.js');
  const { PowertoolsAuditLog } = await import('../functions/adapters/powertools-audit-log.js');
  const { AttemptEngine } = await import('../functions/service/attempts.js');
  const { HttpClient } = await import('./latency/load.js');
  const { openLatencyBench } = await import('./latency/context.js');

  let marks: Mark[] | null = null;
  const mark = (name: string) => marks?.push({ name, at: performance.now() });
  /** Marks `<name>` and `<name> returned` around an async prototype method; `again` runs it a second time, marked `<name> again`. */
  const wrap = (prototype: object, method: string, name: string, again = false) => {
    const target = prototype as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = target[method]!;
    target[method] = async function (this: unknown, ...args: unknown[]) {
      mark(name);
      const result = await original.apply(this, args);
      mark(`${name} returned`);
      if (again) {
        await original.apply(this, args);
        mark(`${name} again`);
      }
      return result;
    };
  };
  // The bench's client: its request starts where the bench's own timing of a verification starts (after the code is computed).
  wrap(HttpClient.prototype, 'send', 'client');
  wrap(AttemptEngine.prototype, 'run', 'attempt');
  wrap(DynamoDBClient.prototype, 'send', 'DynamoDB');
  wrap(DynamoDbMfaStore.prototype, 'countQuietAttempt', 'count');
  wrap(DynamoDbMfaStore.prototype, 'commitProof', 'commit');
  wrap(LocalSecretSealer.prototype, 'open', 'open', repeat);
  wrap(LocalAssertionSigner.prototype, 'sign', 'sign', repeat);
  const record = PowertoolsAuditLog.prototype.record;
  PowertoolsAuditLog.prototype.record = function (...args) {
    mark('audit');
    record.apply(this, args);
    mark('audit returned');
  };

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const bench = await openLatencyBench({
    dynamoDbEndpoint,
    rounds: 1,
    verifyPairs: 0,
    warmup: 0,
    confirmSamples: 0,
    recoverySamples: 0,
    concurrency: [1],
    blocksPerConcurrency: 0,
    opsPerBlock: () => 0,
    handlerPairs: 0,
  });
  try {
    log(
      `verify timeline on Node ${process.version}: ${WARMUP} warm-up rounds, then ${SAMPLES} verifications, each beside a storage floor and an HTTP hop in rotating order${repeat ? '; open and sign run twice' : ''}`,
    );
    const timelines: Mark[][] = [];
    const samples = { verify: [] as number[], floor: [] as number[], hop: [] as number[] };
    const kinds = ['verify', 'floor', 'hop'] as const;
    const operation = {
      verify: async () => {
        marks = [];
        try {
          return await bench.verifyOnce();
        } finally {
          timelines.push(marks);
          marks = null;
        }
      },
      floor: bench.floorOnce,
      hop: bench.httpHopOnce,
    };
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(i + k) % kinds.length]!;
        const ms = await operation[kind]();
        if (i >= WARMUP) samples[kind].push(ms);
      }
    }
    const { rows, kept, leftOut } = timelineRows(timelines.slice(WARMUP));
    if (leftOut > 0) log(`  (${leftOut} verifications took another path and are left out)`);
    const width = Math.max(...rows.map((row) => row.from.length + row.to.length + 4));
    for (const row of rows) log(`  ${`${row.from} -> ${row.to}`.padEnd(width)} ${row.medianMs.toFixed(3)} ms`);
    const outsideStorage = kept.map((timeline) => {
      let storageMs = 0;
      for (let i = 1; i < timeline.length; i++) if (timeline[i]!.name === 'DynamoDB returned') storageMs += timeline[i]!.at - timeline[i - 1]!.at;
      return timeline.at(-1)!.at - timeline[0]!.at - storageMs;
    });
    log(`  sum of the gaps' medians ${rows.reduce((sum, row) => sum + row.medianMs, 0).toFixed(2)} ms; per verification, median time outside its DynamoDB calls ${median(outsideStorage).toFixed(2)} ms`);
    log(
      `  as the bench times them (medians): verification ${median(samples.verify).toFixed(2)} ms, storage floor ${median(samples.floor).toFixed(2)} ms (ratio ${(median(samples.verify) / median(samples.floor)).toFixed(3)}), HTTP hop ${median(samples.hop).toFixed(2)} ms`,
    );
  } finally {
    await bench.close();
  }
}
