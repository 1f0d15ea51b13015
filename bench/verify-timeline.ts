/**
 * `npm run bench:timeline`: where one TOTP verification's time goes, step by step, on the local
 * stack as `npm run bench` measures it (Node 24, the same client, stand-in, handlers and DynamoDB
 * Local; verifications interleaved with the storage floor and the HTTP hop).
 *
 * Nothing in the service is changed: this process wraps the prototype methods a verification
 * passes through and records when each starts and returns: `count` and `commit` (the store's two
 * writes), `DynamoDB` (their SDK calls), `open` and `sign` (the local stand-ins for kms:Decrypt
 * and kms:Sign), `audit` (the audit line). It prints the median of each gap between two marks.
 * The wrappers cost a few microseconds per mark, so the total is a little above the bench's.
 *
 * `--repeat` also runs the open and the sign a second time, right after the first (the results
 * are discarded): the second run shows what the same step costs once its code and data are in
 * the caches, against the first run straight after a wait for DynamoDB.
 *
 * The handlers write their audit lines to stdout, as in Lambda: the measuring runs in a child
 * process whose stdout is discarded, and the table goes to stderr.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOCAL_AWS_ENV } from '../local/dynamodb-local.js';
import { LAMBDA_NODE } from './cold-start.js';
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
 * common sequence of marks (on the success path, all of them); any other is left out and
 * counted in `leftOut`, rather than mixed into the gaps of another sequence.
 */
function timelineRows(timelines: readonly Mark[][]): { rows: TimelineRow[]; leftOut: number } {
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
  return { rows, leftOut: timelines.length - same.length };
}

const SAMPLES = 400;
const WARMUP = 60;

if (process.env.VERIFY_TIMELINE_CHILD) {
  await measure(process.argv.includes('--repeat'));
} else {
  const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
    execPath: LAMBDA_NODE,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      ...LOCAL_AWS_ENV,
      VERIFY_TIMELINE_CHILD: '1',
      POWERTOOLS_SERVICE_NAME: 'serverless-mfa',
      POWERTOOLS_METRICS_NAMESPACE: 'ServerlessMfa',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  process.exitCode = code ?? 1;
}

async function measure(repeat: boolean): Promise<void> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDbMfaStore } = await import('../functions/adapters/aws/dynamodb-mfa-store.js');
  const { LocalSecretSealer } = await import('../functions/adapters/local/local-secret-sealer.js');
  const { LocalAssertionSigner } = await import('../functions/adapters/local/local-assertion-signer.js');
  const { PowertoolsAuditLog } = await import('../functions/adapters/powertools-audit-log.js');
  const { startDynamoDbLocal } = await import('../local/dynamodb-local.js');
  const { openLatencyBench } = await import('./latency/context.js');

  let marks: Mark[] | null = null;
  const mark = (name: string) => marks?.push({ name, at: performance.now() });
  /** Marks `<name>` and `<name> returned` around a prototype method; `again` runs it a second time, marked `<name> again`. */
  const wrap = (prototype: object, method: string, name: string, again = false) => {
    const target = prototype as Record<string, (...args: unknown[]) => unknown>;
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
  const dynamo = await startDynamoDbLocal();
  try {
    const bench = await openLatencyBench({
      dynamoDbEndpoint: dynamo.endpoint,
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
      log(`verify timeline on Node ${process.version}: ${WARMUP} warm-up rounds, then ${SAMPLES} verifications, each beside a storage floor and an HTTP hop${repeat ? '; open and sign run twice' : ''}`);
      for (let i = 0; i < WARMUP; i++) {
        await bench.verifyOnce();
        await bench.floorOnce();
        await bench.httpHopOnce();
      }
      const timelines: Mark[][] = [];
      const floors: number[] = [];
      const hops: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        marks = [{ name: 'client sends', at: performance.now() }];
        await bench.verifyOnce();
        mark('client has the answer');
        timelines.push(marks);
        marks = null;
        floors.push(await bench.floorOnce());
        hops.push(await bench.httpHopOnce());
      }
      const { rows, leftOut } = timelineRows(timelines);
      if (leftOut > 0) log(`  (${leftOut} verifications took another path and are left out)`);
      const width = Math.max(...rows.map((row) => row.from.length + row.to.length + 4));
      for (const row of rows) log(`  ${`${row.from} -> ${row.to}`.padEnd(width)} ${row.medianMs.toFixed(3)} ms`);
      const totals = timelines.map((timeline) => timeline.at(-1)!.at - timeline[0]!.at);
      log(`  verification ${median(totals).toFixed(2)} ms (median), storage floor ${median(floors).toFixed(2)} ms, HTTP hop ${median(hops).toFixed(2)} ms`);
    } finally {
      await bench.close();
    }
  } finally {
    await dynamo.stop();
  }
}
