/**
 * What a change bought at cold start: bundles the handlers of a git revision and of the working
 * tree, each with its own tree's esbuild options and plugins (`HANDLER_ESBUILD_OPTIONS` of its
 * lib/bundling.ts; both resolve packages from the working tree's node_modules), then times fresh
 * processes of both, interleaved.
 *
 *   npx tsx bench/compare-cold-start.ts <git-ref> [runs] [handler ...]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { routeById, ROUTES } from '../functions/http/routes.js';
import { HANDLER_ESBUILD_OPTIONS, PROJECT_ROOT } from '../lib/bundling.js';
import { LAMBDA_NODE, lambdaLikeEnv } from './cold-start.js';
import { median, round } from './stats.js';

const [ref, runsArg, ...handlers] = process.argv.slice(2);
if (!ref) {
  process.stderr.write('usage: npx tsx bench/compare-cold-start.ts <git-ref> [runs] [handler ...]\n');
  process.exit(2);
}
const runs = Number(runsArg ?? 15);
const routes = handlers.length > 0 ? ROUTES.filter((route) => handlers.includes(route.handler)) : ROUTES;

const work = await mkdtemp(join(tmpdir(), 'mfa-compare-'));
try {
  const before = join(work, 'before');
  await mkdir(before);
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(before)}`], { cwd: PROJECT_ROOT });
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(before, 'node_modules'));
  // The revision's own bundling: its plugins (precompiled schemas, stand-ins) are part of what it shipped.
  const beforeBundling = join(before, 'lib', 'bundling.ts');
  const { HANDLER_ESBUILD_OPTIONS: beforeOptions } = existsSync(beforeBundling)
    ? ((await import(pathToFileURL(beforeBundling).href).catch((error: unknown) => {
        throw new Error(`Loading ${ref}'s lib/bundling.ts against the working tree's node_modules failed (that revision's package-lock may differ): ${(error as Error).message}`);
      })) as { HANDLER_ESBUILD_OPTIONS?: BuildOptions })
    : {};
  if (!beforeOptions) throw new Error(`${ref} has no lib/bundling.ts exporting HANDLER_ESBUILD_OPTIONS: compare against a later revision.`);

  const bundleOf = async (options: BuildOptions, root: string, handler: string, out: string) => {
    await build({ ...options, entryPoints: [join(root, 'functions', 'handlers', `${handler}.ts`)], outdir: out, absWorkingDir: root, logLevel: 'error' });
    const file = join(out, `${handler}.mjs`);
    return { file, kb: round((await stat(file)).size / 1024, 1) };
  };
  const probe = 'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';
  const time = (file: string, env: NodeJS.ProcessEnv) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(LAMBDA_NODE, ['--input-type=module', '-e', probe, pathToFileURL(file).href], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${file}: ${result.stderr.slice(-1000)}`);
    return { processMs: Number(process.hrtime.bigint() - started) / 1e6, importMs: Number(result.stdout) };
  };

  process.stdout.write(`cold start on Lambda's Node (${LAMBDA_NODE}), ${ref} -> working tree, median of ${runs} fresh processes each (interleaved)\n`);
  process.stdout.write('handler                        KB before -> after    process ms before -> after    import ms before -> after\n');
  for (const route of routes) {
    const env = lambdaLikeEnv(routeById(route.id));
    const old = await bundleOf(beforeOptions, before, route.handler, join(work, 'out-before', route.handler)).catch((error: unknown) => {
      throw new Error(`Bundling ${route.handler} of ${ref} with its own lib/bundling.ts against the working tree's node_modules failed (that revision's package-lock may differ): ${(error as Error).message}`);
    });
    const now = await bundleOf(HANDLER_ESBUILD_OPTIONS, PROJECT_ROOT, route.handler, join(work, 'out-after', route.handler));
    const samples = { old: [] as ReturnType<typeof time>[], now: [] as ReturnType<typeof time>[] };
    time(old.file, env);
    time(now.file, env);
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) samples.old.push(time(old.file, env)), samples.now.push(time(now.file, env));
      else samples.now.push(time(now.file, env)), samples.old.push(time(old.file, env));
    }
    const m = (list: ReturnType<typeof time>[], key: 'processMs' | 'importMs') => median(list.map((sample) => sample[key])).toFixed(0);
    process.stdout.write(
      `${route.handler.padEnd(28)} ${`${old.kb.toFixed(0)} -> ${now.kb.toFixed(0)}`.padStart(14)}    ${`${m(samples.old, 'processMs')} -> ${m(samples.now, 'processMs')}`.padStart(24)}    ${`${m(samples.old, 'importMs')} -> ${m(samples.now, 'importMs')}`.padStart(23)}\n`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
