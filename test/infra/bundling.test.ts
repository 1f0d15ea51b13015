import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeById } from '../../functions/http/routes.js';
import { HANDLER_ESBUILD_OPTIONS, handlerEntry } from '../../lib/bundling.js';
import { MfaFunction } from '../../lib/constructs/mfa-function.js';

const route = routeById('verifyMfa');
let deployed: { dir: string; code: string };
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// One function deployed by the team's function construct, from the pre-built assets (scripts/package/assets.ts) the stack and the package use.
beforeAll(() => {
  const outdir = mkdtempSync(join(tmpdir(), 'mfa-bundle-'));
  tempDirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundling');
  const fn = new MfaFunction(stack, 'VerifyMfa', { asset: route.handler, description: 'bundling test', logRetention: RetentionDays.ONE_DAY, logLevel: 'INFO' });
  app.synth();
  const staged = (fn.function.node.findChild('Code') as Asset).assetPath;
  deployed = { dir: join(outdir, staged), code: readFileSync(join(outdir, staged, 'index.mjs'), 'utf8') };
});

describe('handler bundles', () => {
  it('are ESM with a require shim for CommonJS dependencies, minified, with a linked source map', () => {
    expect(deployed.code.startsWith("import { createRequire as __mfaCreateRequire } from 'node:module';")).toBe(true);
    // Minified: about 3 % of the bundle is spaces (string literals keep theirs); unminified code is 15-20 %.
    expect(deployed.code.split(' ').length / deployed.code.length, 'share of spaces').toBeLessThan(0.05);
    expect(deployed.code).toContain('//# sourceMappingURL=index.mjs.map');
    expect(existsSync(join(deployed.dir, 'index.mjs.map'))).toBe(true);
  });

  it('carry the AWS SDK instead of importing the runtime copy', () => {
    expect(deployed.code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(deployed.code).toContain('ECDSA_SHA_256');
  });

  it('load as an ES module in Node.js and export the handler', async () => {
    const module = (await import(pathToFileURL(join(deployed.dir, 'index.mjs')).href)) as { handler?: unknown };
    expect(typeof module.handler).toBe('function');
  });

  it('are reproduced byte for byte by esbuild with HANDLER_ESBUILD_OPTIONS (what benchmarks must use)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfa-esbuild-'));
    tempDirs.push(dir);
    await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(route) }, outdir: dir });
    // Chunk names hash the source maps too, whose paths are relative to the output folder: compare the code with the names set aside.
    const anonymous = (code: string) => code.replace(/(chunk|dist-es|esm)-[A-Z0-9]{8}/g, '$1-*');
    expect(anonymous(readFileSync(join(dir, 'index.mjs'), 'utf8'))).toBe(anonymous(deployed.code));
    expect(readdirSync(dir).length).toBe(readdirSync(deployed.dir).length);
  });

  it('keep the WebAuthn library out of what a TOTP verification loads: it is a chunk of its own, read only when a key is checked', async () => {
    const { metafile } = await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(route) }, write: false, metafile: true, outdir: 'unused' });
    const loadedAtStart = staticallyLoaded(metafile);
    const inputsOf = (outputs: string[]) => outputs.flatMap((name) => Object.entries(metafile.outputs[name]!.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path));
    expect(inputsOf(loadedAtStart).some((path) => path.includes('node_modules/@simplewebauthn/'))).toBe(false);
    const all = Object.keys(metafile.outputs).filter((name) => name.endsWith('.mjs'));
    expect(inputsOf(all).some((path) => path.includes('node_modules/@simplewebauthn/server/'))).toBe(true);
    expect(inputsOf(loadedAtStart)).toContain('functions/methods/totp/totp.ts');
  });

  it.each(['getOpenIdConfiguration', 'getJwks'] as const)('of the public %s hold no zod, middy, route schemas or service', async (id) => {
    const { metafile } = await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(routeById(id)) }, write: false, metafile: true, outdir: 'unused' });
    // What the function loads at start (the entry and the chunks it imports statically); modules esbuild read but shook out contribute no bytes.
    const inputs = staticallyLoaded(metafile).flatMap((name) => Object.entries(metafile.outputs[name]!.inputs).flatMap(([path, input]) => (input.bytesInOutput > 0 ? [path] : [])));
    expect(inputs.some((path) => path.includes('node_modules/zod/'))).toBe(false);
    expect(inputs.some((path) => path.includes('node_modules/@middy/'))).toBe(false);
    expect(inputs).not.toContain('functions/http/schemas.ts');
    expect(inputs.filter((path) => path.startsWith('functions/service/') || path.startsWith('functions/domain/totp'))).toEqual([]);
    if (id === 'getOpenIdConfiguration') expect(inputs.some((path) => path.includes('node_modules/@aws-sdk/'))).toBe(false);
  });
});

/** The output files a handler loads at start: its entry and every chunk reached by static imports. */
function staticallyLoaded(metafile: Metafile): string[] {
  const entry = Object.keys(metafile.outputs).find((name) => name.endsWith('/index.mjs'))!;
  const seen = new Set<string>([entry]);
  for (const name of seen) {
    for (const imported of metafile.outputs[name]!.imports) if (imported.kind === 'import-statement' && metafile.outputs[imported.path]) seen.add(imported.path);
  }
  return [...seen];
}
