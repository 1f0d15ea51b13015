/**
 * Builds the pre-built code the construct deploys (lib/assets.ts says where it lives): one
 * folder per Lambda function, bundled with HANDLER_ESBUILD_OPTIONS (code splitting included),
 * for every handler of the route table and every stream function, and the web client. New
 * routes and stream functions are built with no edit here.
 *
 * Run by `npm pack` (scripts/package/build.ts), before every test run (test/support/global-setup.ts)
 * and every synth of this repository's app (bin/serverless-mfa.ts), and by `npm run build:assets`.
 */
import { readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ROUTES } from '../../functions/http/routes.js';
import { ASSETS_DIR, functionAssetDir, WEB_ASSET_DIR } from '../../lib/assets.js';
import { HANDLER_ESBUILD_OPTIONS, PROJECT_ROOT } from '../../lib/bundling.js';
import { writeWebClient } from '../../web/build.js';

const STREAMS_DIR = join(PROJECT_ROOT, 'functions', 'streams');

/** Every function the construct deploys, by asset name: its entry file. */
export function functionEntries(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const route of ROUTES) entries.set(route.handler, join(PROJECT_ROOT, 'functions', 'handlers', `${route.handler}.ts`));
  for (const file of readdirSync(STREAMS_DIR).filter((name) => name.endsWith('.ts'))) {
    entries.set(file.replace(/\.ts$/, ''), join(STREAMS_DIR, file));
  }
  return entries;
}

/** Replaces `assets/` with a fresh build of every function and the web client. */
export async function buildAssets(): Promise<{ functions: string[] }> {
  await rm(ASSETS_DIR, { recursive: true, force: true });
  const entries = functionEntries();
  await Promise.all(
    [...entries].map(async ([name, entry]) => {
      const outdir = functionAssetDir(name);
      await mkdir(outdir, { recursive: true });
      await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: entry }, outdir });
    }),
  );
  await writeWebClient(WEB_ASSET_DIR);
  return { functions: [...entries.keys()].sort() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { functions } = await buildAssets();
  console.log(`Built ${functions.length} functions and the web client into ${ASSETS_DIR}`);
}
