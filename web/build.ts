/**
 * Builds the reference web client: one esbuild bundle of web/src plus the static files.
 * `npm start` builds it into memory (local/web-routes.ts); `npm run build:web` writes the
 * same files to web/dist/ for static hosting (S3 + CloudFront), where a config.json is
 * added next to them at deploy time (see docs/web-client.md).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

export interface WebAsset {
  contentType: string;
  body: Buffer;
}

/** Site paths (as served, e.g. `/assets/app.js`) to their contents. */
export type WebAssets = Map<string, WebAsset>;

const STATIC_FILES: ReadonlyArray<{ path: string; file: string; contentType: string }> = [
  { path: '/index.html', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { path: '/assets/styles.css', file: 'styles.css', contentType: 'text/css; charset=utf-8' },
  { path: '/assets/favicon.svg', file: 'favicon.svg', contentType: 'image/svg+xml' },
];

export async function buildWebClient(options: { minify?: boolean } = {}): Promise<WebAssets> {
  const result = await build({
    entryPoints: [join(WEB_DIR, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    write: false,
    outfile: 'app.js',
    logLevel: 'silent',
  });
  const bundle = result.outputFiles[0];
  if (!bundle) throw new Error('esbuild produced no bundle for the web client.');

  const assets: WebAssets = new Map();
  assets.set('/assets/app.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(bundle.contents) });
  for (const { path, file, contentType } of STATIC_FILES) {
    assets.set(path, { contentType, body: await readFile(join(WEB_DIR, file)) });
  }
  return assets;
}

/** Writes the built client to `outDir` (default web/dist), replacing what was there. */
export async function writeWebClient(outDir = join(WEB_DIR, 'dist')): Promise<string> {
  const assets = await buildWebClient();
  await rm(outDir, { recursive: true, force: true });
  for (const [path, asset] of assets) {
    const target = join(outDir, ...path.split('/').filter(Boolean));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, asset.body);
  }
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = await writeWebClient(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`Web client written to ${outDir}`);
}
