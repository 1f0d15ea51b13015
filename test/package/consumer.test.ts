/**
 * The published package, used as each audience uses it: `npm pack` of a clean copy of the
 * repository's tracked files (its `prepack` builds everything), the tarball installed into
 * scratch projects outside the repository with dependencies from the registry, then:
 * 1. a plain-JavaScript backend on Node 20 and 24 (ESM import and CommonJS require of the
 *    verifier) checks real assertions from the local server;
 * 2. a TypeScript backend compiles against the types with `module: node16` and with
 *    `moduleResolution: bundler`, and a deliberate type error fails the compile;
 * 3. a CDK app in TypeScript with its own user pool synthesizes `new ServerlessMfa(...)` with
 *    cdk-nag at zero findings, every function's code taken from the installed package;
 * 4. a page served from the scratch project imports `serverless-mfa/client` in Chromium.
 * Slow by nature (a build, two installs): bounded by the timeouts below.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_APP_AUDIENCE, startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { launchChromium } from '../e2e/support/browser.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { mfaAssertion, signUpWithTotp } from '../support/mfa-user.js';

const run = promisify(execFile);
const ROOT = normalize(join(import.meta.dirname, '..', '..'));
const FIXTURES = join(import.meta.dirname, 'fixtures');
const NODE24 = join(ROOT, 'node_modules', 'node24', 'bin', 'node');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CDK = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const ATTW = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
const MINUTES = 60_000;

/** The versions this repository tests with: installed from the npm cache when it has them. */
const versionOf = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

let scratch: string;
let tarball: string;
let backendDir: string;
let cdkDir: string;
let stack: LocalStack;

async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout;
}

/** A new project folder with a package.json. */
function project(name: string, extra: Record<string, unknown> = {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra }, null, 2));
  return dir;
}

/**
 * What a fresh clone would pack: the tracked files as they are now, with this checkout's
 * dependencies (`prepack` builds in the copy, never touching this checkout's assets/ and dist/).
 * SERVERLESS_MFA_TARBALL names an already packed tarball instead, to iterate on this file.
 */
async function packCleanCopy(): Promise<string> {
  const copy = join(scratch, 'repository');
  const { stdout: tracked } = await run('git', ['ls-files', '-z'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  for (const file of tracked.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file));
  }

  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const packed = JSON.parse(await npm(copy, ['pack', '--json', '--pack-destination', scratch])) as { filename: string }[];
  return join(scratch, packed[0]!.filename);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'mfa-consumer-'));

  tarball = process.env.SERVERLESS_MFA_TARBALL ?? (await packCleanCopy());

  backendDir = project('backend', { type: 'module' });
  await npm(backendDir, [...NPM_INSTALL, tarball]);
  for (const file of readdirSync(join(FIXTURES, 'backend'))) cpSync(join(FIXTURES, 'backend', file), join(backendDir, file));

  cdkDir = project('cdk-app');
  await npm(cdkDir, [
    ...NPM_INSTALL,
    tarball,
    `aws-cdk-lib@${versionOf('aws-cdk-lib')}`,
    `constructs@${versionOf('constructs')}`,
    `cdk-nag@${versionOf('cdk-nag')}`,
    `@types/node@${versionOf('@types/node')}`,
  ]);
  for (const file of readdirSync(join(FIXTURES, 'cdk-app'))) cpSync(join(FIXTURES, 'cdk-app', file), join(cdkDir, file));

  const dataDir = join(scratch, 'local-data');
  mkdirSync(dataDir);
  // Real time: the verifier checks the assertions' times against its own clock. The scratch
  // project's files are served under /consumer/ on the same origin as the API.
  stack = await startLocalStack({
    dataDir,
    dynamoDbEndpoint: testDynamoDbEndpoint(),
    tableName: `mfa-consumer-${randomUUID()}`,
    extraRoutes: [{ method: 'GET', path: '/consumer/*', handle: (request, response) => serveFile(backendDir, request.url!.slice('/consumer'.length), response) }],
  });
}, 20 * MINUTES);

afterAll(async () => {
  await stack?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };

function serveFile(base: string, path: string, response: import('node:http').ServerResponse): void {
  const file = normalize(join(base, decodeURIComponent(path.split(/[?#]/)[0]!)));
  if (!file.startsWith(base + '/') || !existsSync(file)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
}

describe('the packed tarball', () => {
  it('holds only the built package: dist/, assets/, the readme, licence, changelog and package.json', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).map((file) => file.replace(/^package\//, ''));
    const outside = files.filter((file) => !/^(dist|assets)\//.test(file) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(file));
    expect(outside).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md', 'README.md', 'dist/index.js', 'dist/verifier/index.js', 'dist/client/index.js', 'assets/web/index.html']));
    expect(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('passes publint with no message, suggestions included', async () => {
    const { messages } = await publint({ pack: { tarball: readFileSync(tarball).buffer as ArrayBuffer }, level: 'suggestion', strict: true });
    expect(messages.map((message) => `${message.type} ${message.code} ${message.path.join('.')}`)).toEqual([]);
  });

  // The esm-only profile: CommonJS callers load these ES modules with require(esm) (engines:
  // Node 20.19+ or 22.12+), so attw's check of a CommonJS build that does not exist is left out.
  it('passes Are the Types Wrong (attw, esm-only profile) with no problem, for every entry point', async () => {
    const result = await run(process.execPath, [ATTW, tarball, '--profile', 'esm-only', '--format', 'json'], { maxBuffer: 16 * 1024 * 1024 }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    const report = JSON.parse(result.stdout) as { analysis: { entrypoints: Record<string, unknown> }; problems?: Record<string, { entrypoint: string; resolutionKind: string }[]> };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(['.', './client', './package.json', './verifier', './verifier/dynamodb-replay-cache']);
    // The JSON lists what the profile ignores too: CommonJS (node16-cjs) and pre-exports resolution (node10).
    const counted = Object.values(report.problems ?? {}).flat().filter((problem) => !['node10', 'node16-cjs'].includes(problem.resolutionKind));
    expect(counted).toEqual([]);
    expect(result.code).toBe(0);
  });
});

describe('a plain-JavaScript backend (the verifier, no loader)', () => {
  it('gets jose and nothing else besides the package', () => {
    expect(readdirSync(join(backendDir, 'node_modules')).filter((name) => !name.startsWith('.')).sort()).toEqual(['jose', 'serverless-mfa']);
  });

  // `npm test` runs on this machine's Node (20), `npm run test:node24` on 24: Node 24 is always run too.
  const major = process.versions.node.split('.')[0]!;
  for (const [runtime, node] of [
    [`Node ${major}`, process.execPath],
    ['Node 24', NODE24],
  ] as const) {
    for (const script of ['verify.mjs', 'verify.cjs']) {
      it(`on ${runtime}, ${script === 'verify.mjs' ? 'imports (ESM)' : 'requires (CommonJS)'} the verifier: accepts a real assertion once, refuses its replay and a tampered copy`, async () => {
        const { stdout: version } = await run(node, ['--version']);
        expect(version.trim().split('.')[0]).toBe(`v${runtime.split(' ')[1]}`);
        const user = await signUpWithTotp(stack, `consumer-${randomUUID()}`);
        const nonce = randomUUID();
        const assertion = await mfaAssertion(stack, user, nonce);
        const { stdout } = await run(node, [join(backendDir, script), stack.url, LOCAL_APP_AUDIENCE, assertion, nonce, user.sub], { cwd: backendDir });
        const result = JSON.parse(stdout) as Record<string, unknown>;
        expect(result).toEqual({
          node: version.trim().slice(1),
          first: { accepted: { sub: user.sub, nonce, amr: ['mfa', 'otp'], iss: stack.url } },
          replay: { refused: 'replayed' },
          tampered: { refused: 'bad_signature' },
        });
      });
    }
  }
});

describe('a TypeScript backend (the types)', () => {
  for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
    it(`compiles with ${config}, failing exactly on the deliberate type errors`, async () => {
      const failure = await run(process.execPath, [TSC, '-p', config], { cwd: backendDir }).then(
        () => undefined,
        (error: { stdout: string }) => error.stdout,
      );
      expect(failure, 'the deliberate type errors must fail the compile').toBeDefined();
      const errors = failure!.split('\n').filter((line) => /error TS\d+/.test(line));
      const mistyped = readFileSync(join(backendDir, 'mistyped.ts'), 'utf8').split('\n');
      const expectedLines = mistyped.flatMap((line, index) => (line.includes('// MISTYPED') ? [index + 1] : []));
      expect(errors.map((line) => /^(\S+?)\((\d+),/.exec(line)?.slice(1, 3).join(':'))).toEqual(expectedLines.map((line) => `mistyped.ts:${line}`));
    });
  }
});

describe('a CDK app with its own user pool (the construct)', () => {
  let outdir: string;
  let synth: { code: number; output: string };

  beforeAll(async () => {
    outdir = join(cdkDir, 'cdk.out');
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: cdkDir });
    synth = await cdkSynth(outdir);
  }, 10 * MINUTES);

  async function cdkSynth(output: string, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
    return run(process.execPath, [CDK, 'synth', '-q', '--output', output], { cwd: cdkDir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );
  }

  it('synthesizes with cdk-nag (AwsSolutions and Serverless) at zero findings', () => {
    expect(synth.output).not.toMatch(/AwsSolutions-|Serverless-/);
    expect(synth.code).toBe(0);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: unknown[] }[] };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('runs cdk-nag for real: the same app with one unencrypted queue added fails the synth, naming the rule', async () => {
    const control = await cdkSynth(join(cdkDir, 'cdk.out.control'), { CONSUMER_ADD_NAG_FINDING: 'unencrypted-queue' });
    expect(control.code).not.toBe(0);
    expect(control.output).toMatch(/AwsSolutions-SQS\d/);
    expect(control.output).not.toMatch(/ConsumerApp\/Mfa\//);
  }, 5 * MINUTES);

  it("takes every function's code from the installed package's assets, one per function the package builds", () => {
    const template = JSON.parse(readFileSync(join(outdir, 'ConsumerApp.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key: string } } }> };
    const manifest = JSON.parse(readFileSync(join(outdir, 'ConsumerApp.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const packaged = join(cdkDir, 'node_modules', 'serverless-mfa', 'assets', 'functions');
    const packagedCode = new Map(readdirSync(packaged).map((name) => [readFileSync(join(packaged, name, 'index.mjs'), 'utf8'), name]));
    const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    const used = functions.map((fn) => {
      const staged = join(outdir, manifest.files[fn.Properties.Code!.S3Key.replace(/\.zip$/, '')]!.source.path);
      return packagedCode.get(readFileSync(join(staged, 'index.mjs'), 'utf8'));
    });
    expect(used.every((name) => name !== undefined), 'a function whose code is not one of the package assets').toBe(true);
    expect(new Set(used).size).toBe(packagedCode.size);
  });

  it('needs no esbuild and none of our sources: the construct imports only aws-cdk-lib, constructs, cdk-nag and Node', () => {
    const construct = readFileSync(join(cdkDir, 'node_modules', 'serverless-mfa', 'dist', 'index.js'), 'utf8');
    const imported = new Set([...construct.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((match) => (match[1] ?? match[2])!));
    expect([...imported].filter((specifier) => !/^(node:|aws-cdk-lib(\/|$)|constructs$)/.test(specifier))).toEqual([]);
    expect(construct).toContain('"cdk-nag"');

    const installed = readdirSync(join(cdkDir, 'node_modules'));
    expect(installed).not.toContain('esbuild');
    expect(installed).not.toContain('@esbuild');
    expect(readdirSync(join(cdkDir, 'node_modules', 'serverless-mfa')).sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'assets', 'dist', 'package.json']);
  });
});

describe('a web app (the client in a browser)', () => {
  it('imports serverless-mfa/client as an ES module in Chromium and reads GET /v1/mfa from the local server', async () => {
    const user = await signUpWithTotp(stack, `consumer-web-${randomUUID()}`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${stack.url.replace('127.0.0.1', 'localhost')}/consumer/index.html#token=${encodeURIComponent(user.token)}`);
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== 'loading');
      expect(JSON.parse((await page.textContent('#result'))!)).toEqual({ mfaEnabled: true, totp: true });
    } finally {
      await browser.close();
    }
  });
});
