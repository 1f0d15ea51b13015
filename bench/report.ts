import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MINIMUM_AWS_CALLS, type AwsCall, type ScenarioName } from '../harness/minimum-aws-calls.js';
import type { ColdStartResults } from './cold-start.js';
import type { CostFigure, MethodCost } from './cost.js';
import type { LatencyResults } from './latency/index.js';
import { ROUTES } from '../functions/http/routes.js';
import { round } from './stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_FILE = join(ROOT, 'bench', 'results', 'latest.json');
/** Quick runs are smoke tests of the harness: they never replace the latest figures. */
export const QUICK_RESULTS_FILE = join(ROOT, 'bench', 'results', 'quick.json');
export const DOC_FILE = join(ROOT, 'docs', 'benchmarks.md');
/** The results log is the last section of docs/benchmarks.md; rows are appended under this heading. */
const LOG_HEADING = '## Results log';

/**
 * Issue 13's targets. `coldStartRatio` holds for every function with AWS access against its
 * SDK-only floor on Node 24; `publicColdStartAgainstBareNode` for the public functions against a
 * bare Node process; `webauthnVerifyOverheadRatio` once the WebAuthn phase reports.
 */
export const TARGETS = { verifyOverheadRatio: 1.15, coldStartRatio: 1.2, publicColdStartAgainstBareNode: 1.2, webauthnVerifyOverheadRatio: 1.3 } as const;

function gitRevision(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'functions', 'local', 'lib/bundling.ts'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return 'unknown';
  }
}

export function buildResults(input: {
  quick: boolean;
  awsCalls: Record<ScenarioName, AwsCall[]>;
  latency: LatencyResults;
  coldStarts: ColdStartResults;
  /** The same cold starts on this machine's Node, when it is not Lambda's. */
  coldStartsOnThisNode?: ColdStartResults | undefined;
  cost: CostFigure;
  costs: Record<string, MethodCost>;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
}) {
  const { latency, coldStarts } = input;
  const at = (concurrency: number) => latency.throughput.find((figure) => figure.concurrency === concurrency);
  const c32 = at(32);
  const awsCallsPerOperation = Object.fromEntries(
    (Object.keys(MINIMUM_AWS_CALLS) as ScenarioName[]).map((name) => {
      const minimum: readonly AwsCall[] = MINIMUM_AWS_CALLS[name].calls;
      const measured = input.awsCalls[name] ?? [];
      const extra = [...measured];
      for (const call of minimum) {
        const index = extra.indexOf(call);
        if (index >= 0) extra.splice(index, 1);
      }
      return [name, { route: MINIMUM_AWS_CALLS[name].route, calls: measured, minimum, extra, atMinimum: extra.length === 0 && measured.length === minimum.length }];
    }),
  );
  const coldStartValues = Object.values(coldStarts.functions).map((figure) => figure.coldStartRatio);
  const withAwsAccess = ROUTES.filter((route) => [...route.access.table, ...route.access.secretKey, ...route.access.signingKey].length > 0).map((route) => route.id);
  const awsAccessColdStarts = withAwsAccess.map((id) => coldStarts.functions[id]?.coldStartRatio ?? Number.NaN);
  const publicAgainstBare = Object.fromEntries(
    Object.entries(coldStarts.functions).flatMap(([id, figure]) => (figure.againstBareNode ? [[id, { node: figure.node, ...figure.againstBareNode }]] : [])),
  );
  const publicAgainstBareValues = Object.values(publicAgainstBare).map((figure) => figure.value);
  // The public figure as issue 21 defines it: a public function without AWS access (the discovery document) against bare Node;
  // the key set, which calls KMS, against its KMS-client floor like every function with AWS access (its bare-Node ratio is reported beside).
  const publicWithoutAwsAccess = Object.entries(publicAgainstBare).flatMap(([id, figure]) => ((withAwsAccess as string[]).includes(id) ? [] : [figure.value]));
  const verifyConcurrency1 = latency.verify.ratio;
  const verifyConcurrency32 = c32?.overheadRatio ?? Number.NaN;

  return {
    generatedAt: new Date().toISOString(),
    revision: gitRevision(),
    quick: input.quick,
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadAverageBefore: input.loadBefore.map((v) => round(v, 2)), loadAverageAfter: input.loadAfter.map((v) => round(v, 2)) },
    durationSeconds: Math.round(input.seconds),
    targets: TARGETS,
    verifyOverheadRatio: {
      node: latency.node,
      value: verifyConcurrency1,
      concurrency1: verifyConcurrency1,
      concurrency32: verifyConcurrency32,
      concurrency1Runs: latency.verify.ratioRuns,
      concurrency32Runs: c32?.overheadRatioRuns,
      p95Ratio: latency.verify.p95Ratio,
      p99Ratio: latency.verify.p99Ratio,
      verifyMs: latency.verify.requestMs,
      floorMs: latency.verify.floorMs,
      floorCalls: latency.verify.floorCalls,
      againstGetItemPlusOneUpdateItem: latency.verify.againstOneWriteFloor,
      httpHopMs: latency.verify.httpHopMs,
      withoutHttpHop: latency.verify.withoutHttpHop,
      storageSplit: latency.verify.storageSplit,
      met: verifyConcurrency1 <= TARGETS.verifyOverheadRatio && verifyConcurrency32 <= TARGETS.verifyOverheadRatio,
    },
    ...(latency.webauthnVerify
      ? {
          webauthnVerifyOverheadRatio: {
            node: latency.node,
            value: latency.webauthnVerify.ratio,
            runs: latency.webauthnVerify.ratioRuns,
            p95Ratio: latency.webauthnVerify.p95Ratio,
            p99Ratio: latency.webauthnVerify.p99Ratio,
            verifyMs: latency.webauthnVerify.requestMs,
            floorMs: latency.webauthnVerify.floorMs,
            floorCalls: latency.webauthnVerify.floorCalls,
            floor: 'keyVerifyStorageFloor: the two writes of a key check on the item of a user with a key (bench/latency/floors.ts)',
            againstTotpFloor: latency.webauthnVerify.againstTotpFloor,
            totpFloorMs: latency.webauthnVerify.totpFloorMs,
            met: latency.webauthnVerify.ratio <= TARGETS.webauthnVerifyOverheadRatio,
          },
        }
      : {}),
    confirmOverheadRatio: {
      node: latency.node,
      value: latency.confirm.ratio,
      kdfShare: latency.confirm.kdfShare,
      p95Ratio: latency.confirm.p95Ratio,
      p99Ratio: latency.confirm.p99Ratio,
      confirmMs: latency.confirm.requestMs,
      floorMs: latency.confirm.floorMs,
      kdfMs: latency.confirm.kdfMs,
    },
    recoveryVerifyMs: { node: latency.node, ...latency.recoveryVerify.requestMs, kdfMs: latency.recoveryVerify.kdfMs, floorMs: latency.recoveryVerify.floorMs },
    throughput: Object.fromEntries(latency.throughput.map((figure) => [String(figure.concurrency), { node: latency.node, ...figure }])),
    coldStartRatio: coldStarts.functions,
    /** The public functions against a bare Node process (an empty module), on Lambda's Node. */
    coldStartAgainstBareNode: publicAgainstBare,
    ...(input.coldStartsOnThisNode ? { coldStartRatioComparison: input.coldStartsOnThisNode.functions } : {}),
    enableSourceMapsColdStartMs: coldStarts.enableSourceMaps,
    ...(coldStarts.profiles ? { coldStartProfiles: coldStarts.profiles } : {}),
    coldStartMax: round(Math.max(...coldStartValues), 3),
    coldStartMaxWithAwsAccess: round(Math.max(...awsAccessColdStarts), 3),
    coldStartMaxPublicAgainstBareNode: round(Math.max(...publicAgainstBareValues), 3),
    coldStartMet:
      awsAccessColdStarts.every((value) => value <= TARGETS.coldStartRatio) && publicWithoutAwsAccess.every((value) => value <= TARGETS.publicColdStartAgainstBareNode),
    awsCallsPerOperation,
    awsCallsAtMinimum: Object.values(awsCallsPerOperation).every((entry) => entry.atMinimum),
    lambdaVerifyMs: { node: latency.node, ...latency.lambdaVerify },
    costPerMillionVerifications: input.cost,
    costByMethod: input.costs,
  };
}

export type BenchResults = ReturnType<typeof buildResults>;

export async function writeResults(results: BenchResults): Promise<string> {
  const file = results.quick ? QUICK_RESULTS_FILE : RESULTS_FILE;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return relative(ROOT, file);
}

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** One line in the results log of docs/benchmarks.md. Quick runs are not figures and are not logged. */
export async function appendResultsRow(results: BenchResults): Promise<string | undefined> {
  if (results.quick) return undefined;
  let doc: string;
  try {
    doc = await readFile(DOC_FILE, 'utf8');
  } catch {
    return undefined;
  }
  const worstColdStart = Object.entries(results.coldStartRatio).sort((a, b) => b[1].coldStartRatio - a[1].coldStartRatio)[0];
  const throughput = ['1', '8', '32'].map((c) => fmt(results.throughput[c]?.verifyPerSecond ?? Number.NaN, 0)).join(' / ');
  const extraCalls = Object.entries(results.awsCallsPerOperation)
    .filter(([, entry]) => entry.extra.length > 0)
    .map(([name, entry]) => `${name}: +${entry.extra.join(', +')}`);
  const row = [
    results.generatedAt.slice(0, 16).replace('T', ' '),
    results.revision,
    `${fmt(results.verifyOverheadRatio.concurrency1)} / ${fmt(results.verifyOverheadRatio.concurrency32)}`,
    results.webauthnVerifyOverheadRatio ? fmt(results.webauthnVerifyOverheadRatio.value) : 'n/a',
    fmt(results.confirmOverheadRatio.value, 1),
    fmt(results.recoveryVerifyMs.medianMs, 0),
    throughput,
    worstColdStart ? `${fmt(worstColdStart[1].coldStartRatio)} (${worstColdStart[0]}, Node ${worstColdStart[1].node.replace(/^v(\d+).*/, '$1')})` : 'n/a',
    extraCalls.length === 0 ? 'none' : extraCalls.join('; '),
    `$${fmt(results.costPerMillionVerifications.totalUsd)}`,
    `${results.machine.loadAverageBefore[0]!.toFixed(1)} → ${results.machine.loadAverageAfter[0]!.toFixed(1)}`,
  ];
  const line = `| ${row.join(' | ')} |\n`;
  if (!doc.includes(LOG_HEADING)) {
    await appendFile(
      DOC_FILE,
      `\n${LOG_HEADING}\n\n| Date (UTC) | Revision | verifyOverheadRatio c1 / c32 | webauthnVerifyOverheadRatio | confirmOverheadRatio | recoveryVerifyMs | verify/s at c1 / c8 / c32 | worst coldStartRatio | AWS calls beyond minimum | $ per 1M verifications | load avg (1 min, start → end) |\n|---|---|---|---|---|---|---|---|---|---|---|\n`,
    );
  }
  await appendFile(DOC_FILE, line);
  return relative(ROOT, DOC_FILE);
}

export function printSummary(results: BenchResults): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  const v = results.verifyOverheadRatio;
  out();
  out(`serverless-mfa benchmarks  ${results.generatedAt}  ${results.revision}${results.quick ? '  (quick: not figures)' : ''}`);
  out(`machine: ${results.machine.cpus} x ${results.machine.cpuModel}, node ${results.machine.node}, load ${results.machine.loadAverageBefore.join(' ')} -> ${results.machine.loadAverageAfter.join(' ')}`);
  out();
  const runs = (figure: { rounds: number[]; spread: number } | undefined) => (figure ? `rounds ${figure.rounds.map((value) => fmt(value)).join(' ')}, spread ${fmt(figure.spread)}` : 'n/a');
  out(`Latency on Node ${v.node} (local HTTP server over DynamoDB Local; floor = the route's storage calls sent directly: ${v.floorCalls.join(' + ')})`);
  out(`  verifyOverheadRatio      ${fmt(v.concurrency1)} at c=1, ${fmt(v.concurrency32)} at c=32 (target <= ${results.targets.verifyOverheadRatio}: ${mark(v.met)}); p95 ${fmt(v.p95Ratio)}, p99 ${fmt(v.p99Ratio)}`);
  out(`    c=1: ${runs(v.concurrency1Runs)}; c=32: ${runs(v.concurrency32Runs)}`);
  out(`    the HTTP hop alone (discovery document, same client and stand-in): median ${fmt(v.httpHopMs.medianMs)} ms; verify without it over the floor: ${fmt(v.withoutHttpHop)}`);
  const split = v.storageSplit;
  if (split) out(`    inside DynamoDB calls / the rest: verify ${fmt(split.verify.storageMs)} / ${fmt(split.verify.restMs)} ms, floor ${fmt(split.floor.storageMs)} / ${fmt(split.floor.restMs)} ms`);
  if (v.floorCalls.length !== 2) out(`    over GetItem + one UpdateItem (the issue's floor): ${fmt(v.againstGetItemPlusOneUpdateItem)} at c=1`);
  out(`    verify  median ${fmt(v.verifyMs.medianMs)} ms  p95 ${fmt(v.verifyMs.p95Ms)}  p99 ${fmt(v.verifyMs.p99Ms)}   (n=${v.verifyMs.n})`);
  out(`    floor   median ${fmt(v.floorMs.medianMs)} ms  p95 ${fmt(v.floorMs.p95Ms)}  p99 ${fmt(v.floorMs.p99Ms)}`);
  const w = results.webauthnVerifyOverheadRatio;
  if (w) {
    out(`  webauthnVerifyOverheadRatio ${fmt(w.value)} over its own floor, the two writes of a key check (target <= ${results.targets.webauthnVerifyOverheadRatio}: ${mark(w.met)}); ${fmt(w.againstTotpFloor.value)} over the TOTP floor`);
    out(`    own floor: ${runs(w.runs)}; TOTP floor: ${runs(w.againstTotpFloor)}; verify median ${fmt(w.verifyMs.medianMs)} ms, its floor ${fmt(w.floorMs.medianMs)} ms, the TOTP floor ${fmt(w.totpFloorMs.medianMs)} ms`);
  }
  const c = results.confirmOverheadRatio;
  out(`  confirmOverheadRatio     ${fmt(c.value, 1)}: confirm median ${fmt(c.confirmMs.medianMs, 1)} ms; hashing its 10 recovery codes alone ${fmt(c.kdfMs.medianMs, 1)} ms (${fmt(100 * c.kdfShare, 0)} % of it); floor ${fmt(c.floorMs.medianMs, 1)} ms`);
  const r = results.recoveryVerifyMs;
  out(`  recoveryVerifyMs         median ${fmt(r.medianMs, 1)}  p95 ${fmt(r.p95Ms, 1)}  p99 ${fmt(r.p99Ms, 1)}; one KDF evaluation ${fmt(r.kdfMs.medianMs, 1)} ms`);
  out();
  out('Throughput of verify (alternating blocks with the storage floor)');
  out('  concurrency   verify/s   floor/s   overhead (median latency ratio)   verify median / p95 / p99 ms   Node CPU ms per verify / floor');
  for (const figure of Object.values(results.throughput)) {
    out(
      `  ${String(figure.concurrency).padStart(11)}   ${fmt(figure.verifyPerSecond, 0).padStart(8)}   ${fmt(figure.floorPerSecond, 0).padStart(7)}   ${fmt(figure.overheadRatio).padStart(31)}   ${`${fmt(figure.verifyMs.medianMs, 1)} / ${fmt(figure.verifyMs.p95Ms, 1)} / ${fmt(figure.verifyMs.p99Ms, 1)}`.padStart(28)}   ${fmt(figure.nodeCpuMsPerVerify)} / ${fmt(figure.nodeCpuMsPerFloor)}`,
    );
  }
  out();
  const coldStartTable = (title: string, figures: Record<string, ColdStartResults['functions'][string]>) => {
    out(title);
    out('  function                    ratio   rounds (spread)        vs bare Node   import ratio   process ms (bundle / floor)   bundle KB   floor KB');
    for (const [id, figure] of Object.entries(figures)) {
      const rounds = `${figure.coldStartRatioRuns.rounds.map((value) => fmt(value)).join(' ')} (${fmt(figure.coldStartRatioRuns.spread)})`;
      out(
        `  ${id.padEnd(26)} ${fmt(figure.coldStartRatio).padStart(6)}   ${rounds.padEnd(21)}  ${(figure.againstBareNode ? fmt(figure.againstBareNode.value) : '').padStart(12)}   ${fmt(figure.importRatio).padStart(12)}   ${`${fmt(figure.processMs.bundle, 0)} / ${fmt(figure.processMs.baseline, 0)}`.padStart(27)}   ${fmt(figure.bundleKB, 0).padStart(9)}   ${fmt(figure.baselineKB, 0).padStart(8)}`,
      );
    }
  };
  const lambdaNode = Object.values(results.coldStartRatio)[0]?.node ?? 'n/a';
  coldStartTable(
    `Cold start on Node ${lambdaNode} (fresh process importing the bundle, over the same for an SDK-only bundle; targets <= ${results.targets.coldStartRatio} with AWS access, the key set against its KMS client; a public function without AWS access <= ${results.targets.publicColdStartAgainstBareNode} vs bare Node: ${mark(results.coldStartMet)})`,
    results.coldStartRatio,
  );
  if (results.coldStartRatioComparison) {
    coldStartTable(`Cold start on Node ${Object.values(results.coldStartRatioComparison)[0]?.node ?? 'n/a'}, for comparison`, results.coldStartRatioComparison);
  }
  for (const [id, rows] of Object.entries(results.coldStartProfiles ?? {})) {
    out(`  profile of one cold start of ${id} (self time): ${rows.slice(0, 8).map((row) => `${row.where} ${row.ms} ms`).join(', ')}`);
  }
  const maps = results.enableSourceMapsColdStartMs;
  if (maps) out(`  NODE_OPTIONS=--enable-source-maps (set by the stack): ${maps.route} ${fmt(maps.withMs, 0)} ms with it, ${fmt(maps.withoutMs, 0)} ms without`);
  out();
  out(`AWS calls per operation (counted by SDK middleware; ${results.awsCallsAtMinimum ? 'all at the minimum' : 'SOME ABOVE THE MINIMUM'})`);
  for (const [name, entry] of Object.entries(results.awsCallsPerOperation)) {
    out(`  ${name.padEnd(32)} ${entry.calls.length === 0 ? '(none)' : entry.calls.join(' + ')}${entry.extra.length > 0 ? `   <- beyond the minimum: ${entry.extra.join(', ')}` : ''}`);
  }
  out();
  const cost = results.costPerMillionVerifications;
  out(`Cost per million TOTP verifications: $${fmt(cost.totalUsd)} (${cost.prices.region} list prices checked ${cost.prices.checked})`);
  for (const line of cost.lines) out(`  ${line.item.padEnd(72)} $${fmt(line.usdPerMillion, 3).padStart(8)}`);
  out('By method (per million verifications; per monthly active user at 30 sign-ins; Cognito Lite / Essentials / Plus per MAU over it)');
  for (const [method, entry] of Object.entries(results.costByMethod)) {
    out(`  ${method.padEnd(14)} $${fmt(entry.usdPerMillionVerifications)}   $${entry.usdPerMonthlyActiveUser.toFixed(5)} per MAU   ${entry.cognitoMultiple.lite}x / ${entry.cognitoMultiple.essentials}x / ${entry.cognitoMultiple.plus}x   KMS ${fmt(100 * entry.kmsShare, 0)} %`);
  }
}
