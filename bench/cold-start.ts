import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROUTES, type RouteDefinition } from '../functions/http/routes.js';
import { HANDLER_ESBUILD_OPTIONS, handlerEntry, PROJECT_ROOT } from '../lib/bundling.js';
import { POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../lib/constructs/mfa-function.js';
import { summarizeProfile, type ProfileSummaryRow } from './profile.js';
import { median, ratio, round } from './stats.js';

/** The SDK client and command each IAM action of a route's access is sent with. */
const SDK_COMMAND_OF: Record<string, { module: string; client: string; command: string }> = {
  'dynamodb:GetItem': { module: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', command: 'GetItemCommand' },
  'dynamodb:UpdateItem': { module: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', command: 'UpdateItemCommand' },
  'kms:Encrypt': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'EncryptCommand' },
  'kms:Decrypt': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'DecryptCommand' },
  'kms:Sign': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'SignCommand' },
  'kms:GetPublicKey': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'GetPublicKeyCommand' },
};

/**
 * What Lambda gives the function process: region, credentials from the execution role, the
 * function's name, and the environment lib/constructs/mfa-function.ts and the stack set
 * (mirrored here: NODE_OPTIONS and the MFA_* values are not exported by lib/).
 * Nothing at init may call the network, and nothing here would answer.
 */
export function lambdaLikeEnv(route: RouteDefinition): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'ASIABENCHMARKEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'benchmark-secret-access-key',
    AWS_SESSION_TOKEN: 'benchmark-session-token',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: `serverless-mfa-${route.handler}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    NODE_OPTIONS: '--enable-source-maps',
    // Lambda runs Node 22+, where the SDK prints no support notice; this machine may run Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    MFA_TABLE_NAME: 'serverless-mfa-MfaTable-BENCH',
    MFA_TOTP_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    MFA_SIGNING_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321',
    MFA_ISSUER: 'https://mfa.example.com',
    MFA_ASSERTION_AUDIENCE: 'serverless-mfa-app',
    MFA_TOTP_ISSUER_NAME: 'serverless-mfa',
  };
}

/**
 * The floor a function's cold start is compared with: a bundle that loads only the AWS SDK
 * clients and commands the route's access lets it use, and builds the clients with the same
 * options. No AWS access means an empty module: then the floor is Node's own start.
 */
export function baselineSource(route: RouteDefinition): string {
  const actions = [...route.access.table, ...route.access.secretKey, ...route.access.signingKey];
  const modules = new Map<string, { client: string; commands: Set<string> }>();
  for (const action of actions) {
    const { module, client, command } = SDK_COMMAND_OF[action]!;
    const entry = modules.get(module) ?? { client, commands: new Set<string>() };
    entry.commands.add(command);
    modules.set(module, entry);
  }
  const lines = [`// Cold-start floor for ${route.id}: the SDK clients its access uses, nothing else.`];
  const clients: string[] = [];
  for (const [module, { client, commands }] of modules) {
    lines.push(`import { ${client}, ${[...commands].join(', ')} } from '${module}';`);
    lines.push(`export const ${client}Commands = [${[...commands].join(', ')}];`);
    clients.push(`new ${client}({ maxAttempts: 3 })`);
  }
  lines.push(`export const clients = [${clients.join(', ')}];`);
  return `${lines.join('\n')}\n`;
}

interface Bundle {
  file: string;
  bytes: number;
}

async function bundle(entry: string, outdir: string): Promise<Bundle> {
  await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: [entry], outdir, absWorkingDir: PROJECT_ROOT, logLevel: 'error' });
  const name = entry.split('/').pop()!.replace(/\.ts$/, '.mjs');
  const file = join(outdir, name);
  return { file, bytes: (await stat(file)).size };
}

/**
 * One fresh Node process that imports the bundle (which runs its init) and exits, as the
 * Lambda runtime does at cold start. Returns the wall time of the whole process and the time
 * the import took inside it.
 */
const PROBE = [
  'const started = performance.now();',
  'await import(process.argv[1]);',
  'const importMs = performance.now() - started;',
  'process.stdout.write(JSON.stringify({ importMs }), () => process.exit(0));',
].join('\n');

function runOnce(file: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): Promise<{ processMs: number; importMs: number }> {
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...nodeFlags, '--input-type=module', '-e', PROBE, pathToFileURL(file).href], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const processMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`Cold-start probe of ${file} exited with ${code}:\n${stderr.slice(-2000)}`));
      try {
        resolveRun({ processMs, importMs: (JSON.parse(stdout) as { importMs: number }).importMs });
      } catch {
        reject(new Error(`Cold-start probe of ${file} printed no timing:\n${stdout}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

export interface ColdStartFigure {
  /**
   * Wall time of a fresh process importing the handler bundle over the same for its SDK-only
   * floor: the median of the ratios of each run's adjacent pair, which cancels the machine's
   * load drifting between runs better than a ratio of medians does.
   */
  coldStartRatio: number;
  /** Median wall time of the handler's processes over the median of the floor's. */
  ratioOfMedians: number;
  /** The same ratio for the import alone, measured inside the process (Node's own start excluded). */
  importRatio: number;
  processMs: { bundle: number; baseline: number };
  importMs: { bundle: number; baseline: number };
  bundleKB: number;
  baselineKB: number;
  runs: number;
}

export interface ColdStartOptions {
  runs: number;
  /** Where bundles are written (inside the project, so externals would resolve from node_modules). */
  buildDir: string;
  routes?: readonly RouteDefinition[];
  /** Also time this route's bundle without NODE_OPTIONS=--enable-source-maps. */
  sourceMapProbe?: string;
  /** Write a `node --cpu-prof` profile of one cold start of each of `profileRoutes` here, and summarise it. */
  profileDir?: string | undefined;
  profileRoutes?: readonly string[];
  log?: (line: string) => void;
}

export interface SourceMapCost {
  route: string;
  withMs: number;
  withoutMs: number;
}

export interface ColdStartResults {
  functions: Record<string, ColdStartFigure>;
  /** Self time of one profiled cold start (Node's start included) by package or file, per profiled route. */
  profiles?: Record<string, ProfileSummaryRow[]> | undefined;
  /** The same bundle with and without the stack's NODE_OPTIONS=--enable-source-maps. */
  enableSourceMaps?: SourceMapCost | undefined;
}

/**
 * Bundles every handler exactly as the stack does (lib/bundling.ts HANDLER_ESBUILD_OPTIONS)
 * plus its SDK-only floor, then times fresh processes, the handler and its floor alternating
 * (which of the two goes first alternates too), and reports medians.
 */
export async function measureColdStarts(options: ColdStartOptions): Promise<ColdStartResults> {
  const routes = options.routes ?? ROUTES;
  const log = options.log ?? (() => {});
  await rm(options.buildDir, { recursive: true, force: true });
  await mkdir(join(options.buildDir, 'baseline-src'), { recursive: true });

  const subjects = [];
  for (const route of routes) {
    const handler = await bundle(handlerEntry(route), join(options.buildDir, 'handlers', route.handler));
    const baselineEntry = join(options.buildDir, 'baseline-src', `${route.handler}.ts`);
    await writeFile(baselineEntry, baselineSource(route));
    const baseline = await bundle(baselineEntry, join(options.buildDir, 'baselines', route.handler));
    subjects.push({ route, handler, baseline, env: lambdaLikeEnv(route), samples: { bundle: [] as Sample[], baseline: [] as Sample[] } });
  }
  log(`cold start: ${subjects.length} handler bundles and their floors built; ${options.runs} fresh processes each`);

  for (const subject of subjects) {
    // Warm the OS file cache, as Lambda's code cache is warm for every start but the first.
    await runOnce(subject.handler.file, subject.env);
    await runOnce(subject.baseline.file, subject.env);
  }
  for (let run = 0; run < options.runs; run++) {
    for (const subject of subjects) {
      const order = run % 2 === 0 ? (['bundle', 'baseline'] as const) : (['baseline', 'bundle'] as const);
      for (const which of order) {
        subject.samples[which].push(await runOnce(which === 'bundle' ? subject.handler.file : subject.baseline.file, subject.env));
      }
    }
  }

  const figures: Record<string, ColdStartFigure> = {};
  let enableSourceMaps: SourceMapCost | undefined;
  if (options.sourceMapProbe) {
    // What NODE_OPTIONS=--enable-source-maps (set by the stack) costs a cold start: the same bundle with and without it.
    const subject = subjects.find((candidate) => candidate.route.id === options.sourceMapProbe) ?? subjects[0]!;
    const withMaps: number[] = [];
    const without: number[] = [];
    const plainEnv = { ...subject.env, NODE_OPTIONS: '' };
    for (let run = 0; run < options.runs; run++) {
      withMaps.push((await runOnce(subject.handler.file, subject.env)).processMs);
      without.push((await runOnce(subject.handler.file, plainEnv)).processMs);
    }
    enableSourceMaps = { route: subject.route.id, withMs: round(median(withMaps), 1), withoutMs: round(median(without), 1) };
  }
  for (const { route, handler, baseline, samples } of subjects) {
    const processMs = { bundle: median(samples.bundle.map((s) => s.processMs)), baseline: median(samples.baseline.map((s) => s.processMs)) };
    const importMs = { bundle: median(samples.bundle.map((s) => s.importMs)), baseline: median(samples.baseline.map((s) => s.importMs)) };
    const paired = samples.bundle.map((sample, run) => sample.processMs / samples.baseline[run]!.processMs);
    figures[route.id] = {
      coldStartRatio: ratio(median(paired), 1),
      ratioOfMedians: ratio(processMs.bundle, processMs.baseline),
      importRatio: ratio(importMs.bundle, importMs.baseline),
      processMs: { bundle: round(processMs.bundle, 1), baseline: round(processMs.baseline, 1) },
      importMs: { bundle: round(importMs.bundle, 1), baseline: round(importMs.baseline, 1) },
      bundleKB: round(handler.bytes / 1024, 1),
      baselineKB: round(baseline.bytes / 1024, 1),
      runs: options.runs,
    };
  }
  let profiles: Record<string, ProfileSummaryRow[]> | undefined;
  if (options.profileDir) {
    profiles = {};
    for (const subject of subjects.filter((candidate) => options.profileRoutes?.includes(candidate.route.id))) {
      const name = `cold-start-${subject.route.handler}.cpuprofile`;
      await runOnce(subject.handler.file, subject.env, ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${name}`, '--cpu-prof-interval=100']);
      profiles[subject.route.id] = summarizeProfile(JSON.parse(await readFile(join(options.profileDir, name), 'utf8')), 15);
    }
  }
  return { functions: figures, enableSourceMaps, profiles };
}

type Sample = { processMs: number; importMs: number };
