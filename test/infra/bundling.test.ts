import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { build } from 'esbuild';
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

// One function built by the team's function construct, exactly as the stack builds each route's.
beforeAll(() => {
  const outdir = mkdtempSync(join(tmpdir(), 'mfa-bundle-'));
  tempDirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundling');
  const fn = new MfaFunction(stack, 'VerifyMfa', { entry: handlerEntry(route), description: 'bundling test', logRetention: RetentionDays.ONE_DAY, logLevel: 'INFO' });
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
    const outfile = join(dir, 'index.mjs');
    const { outExtension: _named, ...options } = HANDLER_ESBUILD_OPTIONS;
    await build({ ...options, entryPoints: [handlerEntry(route)], outfile });
    expect(readFileSync(outfile, 'utf8')).toBe(deployed.code);
  });

  it.each(['getOpenIdConfiguration', 'getJwks'] as const)('of the public %s hold no zod, middy, route schemas or service', async (id) => {
    const { metafile } = await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: [handlerEntry(routeById(id))], write: false, metafile: true, outdir: 'unused' });
    // What the bundle holds: modules esbuild read but shook out entirely contribute no bytes.
    const output = Object.values(metafile.outputs).find((entry) => entry.entryPoint)!;
    const inputs = Object.entries(output.inputs).flatMap(([path, input]) => (input.bytesInOutput > 0 ? [path] : []));
    expect(inputs.some((path) => path.includes('node_modules/zod/'))).toBe(false);
    expect(inputs.some((path) => path.includes('node_modules/@middy/'))).toBe(false);
    expect(inputs).not.toContain('functions/http/schemas.ts');
    expect(inputs.filter((path) => path.startsWith('functions/service/') || path.startsWith('functions/domain/totp'))).toEqual([]);
    if (id === 'getOpenIdConfiguration') expect(inputs.some((path) => path.includes('node_modules/@aws-sdk/'))).toBe(false);
  });
});
