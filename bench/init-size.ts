/**
 * `npm run bench:init-size -- <routeId>`: what a function loads at cold start, against its SDK-only
 * floor: the code of the files its entry imports statically (esbuild's metafile of the bundle as
 * the stack builds it), by package or project folder. The chunks it only `import()`s are left out.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ROUTES } from '../functions/http/routes.js';
import { HANDLER_ESBUILD_OPTIONS, handlerEntry, PROJECT_ROOT } from '../lib/bundling.js';
import { baselineSource } from './cold-start.js';

const route = ROUTES.find((candidate) => candidate.id === process.argv[2]);
if (!route) {
  process.stderr.write(`usage: npm run bench:init-size -- <routeId>  (one of ${ROUTES.map((candidate) => candidate.id).join(', ')})\n`);
  process.exit(2);
}

/** Bytes at start by package (node_modules) or project folder, and the number of files loaded. */
function loadedAtStart(metafile: Metafile): { files: number; bytes: number; by: Map<string, number> } {
  const entry = Object.keys(metafile.outputs).find((name) => name.endsWith('/index.mjs'))!;
  const loaded = new Set([entry]);
  for (const name of loaded) for (const imported of metafile.outputs[name]!.imports) if (imported.kind === 'import-statement' && metafile.outputs[imported.path]) loaded.add(imported.path);
  const by = new Map<string, number>();
  let bytes = 0;
  for (const name of loaded) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[name]!.inputs)) {
      const place = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.replace(/\?.*$/, '').replace(/\/[^/]+$/, '');
      by.set(place, (by.get(place) ?? 0) + bytesInOutput);
      bytes += bytesInOutput;
    }
  }
  return { files: loaded.size, bytes, by };
}

const dir = join(PROJECT_ROOT, 'bench', '.build', 'init-size');
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true });
const floorEntry = join(dir, 'floor.ts');
await writeFile(floorEntry, baselineSource(route));
const measure = async (entry: string, out: string) =>
  loadedAtStart((await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: entry }, outdir: join(dir, out), metafile: true, logLevel: 'error' })).metafile);
const handler = await measure(handlerEntry(route), 'handler');
const floor = await measure(floorEntry, 'floor');
await rm(dir, { recursive: true, force: true });

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
process.stdout.write(`${route.id}: ${kb(handler.bytes)} in ${handler.files} files at start; its floor ${kb(floor.bytes)} in ${floor.files} files\n`);
for (const [place, bytes] of [...handler.by].sort((a, b) => b[1] - a[1])) {
  if (bytes === 0) continue;
  const inFloor = floor.by.get(place) ?? 0;
  process.stdout.write(`${kb(bytes).padStart(10)}  ${place}${inFloor > 0 ? `  (floor ${kb(inFloor)})` : ''}\n`);
}
