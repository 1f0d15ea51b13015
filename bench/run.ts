/**
 * `npm run bench`: starts DynamoDB Local, measures AWS calls per operation, verify/confirm
 * latency against the storage floor and throughput (local stack, in a child process on Node 24,
 * what Lambda runs), cold starts of the Lambda bundles against SDK-only floors on Node 24 and,
 * for comparison, on this machine's Node, and the cost per million verifications.
 * Prints a table, writes bench/results/latest.json and appends a dated row to docs/benchmarks.md.
 *
 *   npm run bench                 full run (a few minutes on two shared cores)
 *   npm run bench -- --quick      fewer iterations: a smoke test of the harness, not figures
 *   npm run bench -- --profile    also writes .cpuprofile files of the verify path to bench/results/profiles/
 */
import { fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_AWS_ENV, startDynamoDbLocal } from '../local/dynamodb-local.js';
import { buildColdStartBundles, LAMBDA_NODE, machineNode, measureColdStarts, nodeRuntime } from './cold-start.js';
import { costByMethod, costPerMillionVerifications } from './cost.js';
import type { LatencyResults } from './latency/index.js';
import { appendResultsRow, buildResults, printSummary, writeResults } from './report.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const log = (line: string) => process.stderr.write(`${line}\n`);

// The functions' audit lines would bury the table: this process only counts calls and builds bundles.
// Lambda runs Node 22+; on Node 20 the SDK's support notice is noise.
Object.assign(process.env, LOCAL_AWS_ENV, {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

function runLatencyChild(dynamoDbEndpoint: string, profileDir: string | undefined): Promise<LatencyResults> {
  return new Promise((resolveRun, reject) => {
    const child = fork(join(BENCH_DIR, 'latency', 'child.ts'), [JSON.stringify({ dynamoDbEndpoint, quick, profileDir })], {
      // Lambda's Node (24), whatever Node runs this script.
      execPath: LAMBDA_NODE,
      execArgv: ['--import', 'tsx'],
      // stdout is where the handlers write their audit lines, as in Lambda: kept, but discarded.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        ...process.env,
        POWERTOOLS_SERVICE_NAME: 'serverless-mfa',
        POWERTOOLS_METRICS_NAMESPACE: 'ServerlessMfa',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_DISABLED: 'false',
      },
    });
    let settled = false;
    child.on('message', (message: { ok: boolean; results?: LatencyResults; error?: string }) => {
      settled = true;
      if (message.ok) resolveRun(message.results!);
      else reject(new Error(`Latency benchmark failed:\n${message.error}`));
    });
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`Latency benchmark exited with ${code} before reporting.`));
    });
  });
}

const started = Date.now();
const loadBefore = loadavg();
log(`serverless-mfa bench${quick ? ' (quick)' : ''}: ${cpus().length} cores, load ${loadBefore.map((value) => value.toFixed(1)).join(' ')}`);
log('starting DynamoDB Local (in memory)');
const dynamo = await startDynamoDbLocal();
try {
  log('AWS calls per operation (real AWS adapters, KMS answered in-process)');
  const { measureAwsCalls } = await import('../harness/aws-calls.js');
  const awsCalls = await measureAwsCalls({ dynamoDbEndpoint: dynamo.endpoint });

  const profileDir = profile ? join(BENCH_DIR, 'results', 'profiles') : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  log('latency and throughput (local stack in a child process)');
  const latency = await runLatencyChild(dynamo.endpoint, profileDir);

  log('cold starts');
  const bundles = await buildColdStartBundles(join(BENCH_DIR, '.build', 'cold-start'));
  const lambdaNode = nodeRuntime(LAMBDA_NODE);
  const coldStarts = await measureColdStarts(bundles, {
    node: lambdaNode,
    rounds: 3,
    runsPerRound: quick ? 1 : 10,
    sourceMapProbe: 'verifyMfa',
    profileDir,
    profileRoutes: ['verifyMfa', 'getOpenIdConfiguration', 'getJwks'],
    log,
  });
  // For comparison, this machine's Node (20 here), with fewer runs.
  const thisNode = nodeRuntime(machineNode());
  const coldStartsOnThisNode =
    thisNode.version === lambdaNode.version ? undefined : await measureColdStarts(bundles, { node: thisNode, rounds: 3, runsPerRound: quick ? 1 : 5, log });

  const cost = costPerMillionVerifications({
    calls: awsCalls['verifyMfa (TOTP)'],
    measuredComputeMs: latency.lambdaVerify.computeMs,
    itemBytes: latency.item.bytesWithKmsCiphertext,
  });
  // By method: a recovery code's own work is its request over the same storage floor (mostly its KDF evaluation).
  const recoveryComputeMs = Math.max(0, latency.recoveryVerify.requestMs.medianMs - latency.recoveryVerify.floorMs.medianMs);
  const costs = costByMethod(
    {
      totp: { scenario: 'verifyMfa (TOTP)', calls: awsCalls['verifyMfa (TOTP)'], measuredComputeMs: latency.lambdaVerify.computeMs },
      recoveryCode: { scenario: 'verifyMfa (recovery code)', calls: awsCalls['verifyMfa (recovery code)'], measuredComputeMs: recoveryComputeMs },
      ...(latency.webauthnVerify
        ? {
            // A key sign-in is two requests: the challenge, then the verification.
            webauthn: {
              scenario: 'startWebAuthnChallenge + verifyMfa (security key)',
              calls: [...awsCalls.startWebAuthnChallenge, ...awsCalls['verifyMfa (security key)']],
              measuredComputeMs: Math.max(0, latency.webauthnVerify.requestMs.medianMs - latency.webauthnVerify.floorMs.medianMs),
              requests: 2,
            },
          }
        : {}),
    },
    latency.item.bytesWithKmsCiphertext,
  );
  const results = buildResults({ quick, awsCalls, latency, coldStarts, coldStartsOnThisNode, cost, costs, loadBefore, loadAfter: loadavg(), seconds: (Date.now() - started) / 1000 });
  const file = await writeResults(results);
  const doc = await appendResultsRow(results);
  printSummary(results);
  log(`\nwrote ${file}${doc ? ` and a row in ${doc}` : ''} in ${Math.round((Date.now() - started) / 1000)} s`);
} finally {
  await dynamo.stop();
}
