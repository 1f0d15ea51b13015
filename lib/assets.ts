import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code } from 'aws-cdk-lib/aws-lambda';

/**
 * The pre-built code the construct deploys: `assets/functions/<name>/` (one folder per Lambda
 * function: `index.mjs` and its lazily loaded chunks) and `assets/web/` (the web client).
 * The same relative path holds in this repository (lib/assets.ts) and in the published package
 * (dist/index.js): both sit one folder below `assets/`. scripts/package/assets.ts builds them,
 * at pack time for the package and before each synth or test run here; the construct never
 * bundles, so a consumer's `cdk synth` needs no esbuild, no Docker and none of our sources.
 */
export const ASSETS_DIR = fileURLToPath(new URL('../assets/', import.meta.url));

export const WEB_ASSET_DIR = join(ASSETS_DIR, 'web');

/** The folder of one function's code: a route's `handler`, or a stream function's file name. */
export function functionAssetDir(name: string): string {
  return join(ASSETS_DIR, 'functions', name);
}

/** The function's pre-built code as a Lambda asset; a missing build fails the synth with what to run. */
export function functionCode(name: string): Code {
  return Code.fromAsset(existingAsset(functionAssetDir(name), 'index.mjs'));
}

export function existingAsset(dir: string, file: string): string {
  if (!existsSync(join(dir, file))) {
    throw new Error(`serverless-mfa: no pre-built asset at ${join(dir, file)}. In a checkout of the repository run \`npm run build:assets\` (tests and \`cdk synth\` do it for you).`);
  }
  return dir;
}
