import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../functions/composition.js';
import { ROUTES, routeById } from '../../functions/http/routes.js';
import { withServices as unbundledRename } from '../../functions/handlers/rename-authenticator.js';
import { withServices as unbundledVerifyMfa } from '../../functions/handlers/verify-mfa.js';
import { apiGatewayEvent, lambdaContext } from '../../harness/lambda-invoke.js';
import { ASSETS_DIR } from '../../lib/assets.js';
import { HANDLER_ESBUILD_OPTIONS, handlerEntry } from '../../lib/bundling.js';
import { MfaFunction } from '../../lib/constructs/mfa-function.js';

const route = routeById('verifyMfa');
let deployed: { dir: string; code: string };
const tempDirs: string[] = [];
/** The first-factor audience the handlers' events carry, accepted as the stack configures it. */
const ACCEPTED = { firstFactorAudiences: ['serverless-mfa-app'] };
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
    const anonymous = (code: string) => code.replace(/-[A-Z0-9]{8}\.mjs/g, '-*.mjs');
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

  it('validate bodies with the precompiled checks and word a refused body as the unbundled handler does (zod loaded only then)', async () => {
    const bundled = (await import(pathToFileURL(join(deployed.dir, 'index.mjs')).href)) as { withServices: typeof unbundledVerifyMfa };
    const verified: unknown[][] = [];
    const services = { mfa: { verify: async (...args: unknown[]) => (verified.push(args), { assertion: 'signed' }) }, config: ACCEPTED } as unknown as Services;
    const bodies = [{ code: '123456', nonce: 'n-1' }, { recoveryCode: 'AAAA-BBBB' }, { code: 123456 }, { code: '123456', extra: true }, { webauthn: { id: 'x' } }, [], 'text'];
    for (const body of bodies) {
      const event = apiGatewayEvent(route, { sub: 'user-1', body });
      const [fromBundle, fromSource] = [await bundled.withServices(services)(event, lambdaContext(route)), await unbundledVerifyMfa(services)(event, lambdaContext(route))];
      expect(fromBundle, JSON.stringify(body)).toEqual(fromSource);
    }
    // The two well-formed bodies reached the service, once from each handler, with the same proof and nonce.
    expect(verified.map((args) => args.slice(1, 3))).toEqual([
      [{ code: '123456' }, 'n-1'],
      [{ code: '123456' }, 'n-1'],
      [{ recoveryCode: 'AAAA-BBBB' }, undefined],
      [{ recoveryCode: 'AAAA-BBBB' }, undefined],
    ]);
  });

  it('check a name as sent with the precompiled check, keep it trimmed and word a refused one as the unbundled handler does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfa-rename-'));
    tempDirs.push(dir);
    const rename = routeById('renameAuthenticator');
    await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(rename) }, outdir: dir });
    const bundled = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { withServices: typeof unbundledRename };
    const renamed: unknown[][] = [];
    const services = { mfa: { renameAuthenticator: async (...args: unknown[]) => (renamed.push(args), { id: 'key-1' }) }, config: ACCEPTED } as unknown as Services;
    for (const body of [{ name: '  YubiKey  ' }, { name: '' }, { name: ' \t ' }, { name: 'Yubi\u0007Key' }, { name: 'x'.repeat(65) }, { name: 5 }, { name: 'ok', extra: 1 }]) {
      const event = apiGatewayEvent(rename, { sub: 'user-1', body, pathParameters: { id: 'key-1' } });
      const [fromBundle, fromSource] = [await bundled.withServices(services)(event, lambdaContext(rename)), await unbundledRename(services)(event, lambdaContext(rename))];
      expect(fromBundle, JSON.stringify(body)).toEqual(fromSource);
    }
    // The one good name reached the service trimmed, from each handler.
    expect(renamed.map((args) => args.slice(1))).toEqual([
      ['key-1', 'YubiKey'],
      ['key-1', 'YubiKey'],
    ]);
  });

  it('of every route answer as the unbundled handler: its own checks compiled in, no other route\'s schema touched', async () => {
    // A service that answers every call, and records it: what reaches it, and what is answered, must be the same from both handlers.
    const recording = (calls: string[]) =>
      ({
        mfa: new Proxy({}, { get: (_target, method) => (...args: unknown[]) => (calls.push(`${String(method)} ${JSON.stringify(args.slice(1))}`), method === 'admitOperator' ? { principal: 'op' } : Promise.resolve({ ok: true })) }),
        config: ACCEPTED,
      }) as unknown as Services;
    const checked: string[] = [];
    for (const each of ROUTES.filter((candidate) => candidate.auth !== 'public')) {
      const dir = mkdtempSync(join(tmpdir(), `mfa-${each.handler}-`));
      tempDirs.push(dir);
      await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(each) }, outdir: dir, logLevel: 'error' });
      const bundled = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { withServices: (services: Services) => (event: unknown, context: unknown) => Promise<unknown> };
      const source = (await import(pathToFileURL(handlerEntry(each)).href)) as typeof bundled;
      const names = [...each.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
      const requests = [
        { body: {}, pathParameters: Object.fromEntries(names.map((name) => [name, name === 'userId' ? 'alice' : 'Jq3r8mZt0aXk2Vb9'])) },
        { body: { code: 5 }, pathParameters: Object.fromEntries(names.map((name) => [name, 'x\u202ey'])) },
      ];
      for (const request of requests) {
        const event = apiGatewayEvent(each, { ...(each.auth === 'iam' ? { operatorArn: 'arn:aws:iam::111122223333:role/support' } : { sub: 'user-1' }), ...request });
        const [fromBundle, fromSource] = [[] as string[], [] as string[]];
        const answers = [await bundled.withServices(recording(fromBundle))(event, lambdaContext(each)), await source.withServices(recording(fromSource))(event, lambdaContext(each))];
        expect(answers[0], `${each.id} ${JSON.stringify(request)}`).toEqual(answers[1]);
        expect(fromBundle, each.id).toEqual(fromSource);
        checked.push(`${each.id} ${(answers[0] as { statusCode: number }).statusCode}`);
      }
    }
    // Every route with a user or an operator was asked twice, and the admin routes reached the service with a good user id.
    expect(checked).toHaveLength(ROUTES.filter((candidate) => candidate.auth !== 'public').length * 2);
    expect(checked).toEqual(expect.arrayContaining(['adminGetMfaStatus 200', 'adminGetMfaStatus 400']));
  }, 300_000);

  it('load no validator library and no Metrics when a function starts (the configuration is read by plain rules, zod is a chunk read only to word a refused body) and carry no local stand-in', async () => {
    for (const { id } of ROUTES.filter((route) => route.auth !== 'public')) {
      const { metafile } = await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(routeById(id)) }, write: false, metafile: true, outdir: 'unused' });
      const inputsOf = (outputs: string[]) => outputs.flatMap((name) => Object.entries(metafile.outputs[name]!.inputs).flatMap(([path, input]) => (input.bytesInOutput > 0 ? [path] : [])));
      const atStart = inputsOf(staticallyLoaded(metafile));
      // The precompiled checks may use Ajv's small runtime helpers (ucs2length), never Ajv itself.
      expect(atStart.filter((path) => path.includes('node_modules/zod/') || path.includes('node_modules/ajv/dist/core')), id).toEqual([]);
      expect(atStart, id).toContain('functions/settings-schema.ts');
      // middy's built-ins for streamed responses are loaded by a streamed response (none), not at start (lib/deferred-builtins.ts).
      const builtinsAtStart = staticallyLoaded(metafile).flatMap((name) => metafile.outputs[name]!.imports.filter((entry) => entry.external && entry.kind === 'import-statement').map((entry) => entry.path));
      expect(builtinsAtStart, id).toContain('node:stream');
      expect(builtinsAtStart.filter((path) => /^node:stream\/(web|promises)$/.test(path)), id).toEqual([]);
      // Powertools Metrics is loaded by the first invocation that counts a failure, not at start.
      expect(atStart.filter((path) => path.includes('node_modules/@aws-lambda-powertools/metrics/')), id).toEqual([]);
      const all = Object.keys(metafile.outputs).filter((name) => name.endsWith('.mjs'));
      expect(inputsOf(all).some((path) => path.includes('node_modules/zod/v4/classic/')), id).toBe(true);
      // The local stand-ins for KMS and SES (key files, nodemailer) are in no file of the function, loaded or not (lib/local-stand-ins.ts).
      expect(inputsOf(all).filter((path) => path.startsWith('functions/adapters/local/') || path.includes('node_modules/nodemailer/')), id).toEqual([]);
    }
  }, 120_000);

  it('of every function, as deployed, carry no local stand-in for KMS or SES (lib/local-stand-ins.ts): no key-file code, no nodemailer', () => {
    const functions = readdirSync(join(ASSETS_DIR, 'functions'));
    expect(functions.length).toBeGreaterThanOrEqual(ROUTES.length);
    const withStandIns: string[] = [];
    for (const name of functions) {
      const files = readdirSync(join(ASSETS_DIR, 'functions', name)).filter((file) => file.endsWith('.mjs'));
      expect(files.filter((file) => file.startsWith('nodemailer')), name).toEqual([]);
      const code = files.map((file) => readFileSync(join(ASSETS_DIR, 'functions', name, file), 'utf8')).join('\n');
      // The local adapters' own words: their key checks, their SMTP transport.
      for (const words of ['does not hold a 256-bit key', 'does not hold a P-256 private JWK', 'createTransport']) expect(code.includes(words), `${name}: ${words}`).toBe(false);
      if (code.includes('is a local stand-in for AWS')) withStandIns.push(name);
    }
    // The functions that wire a KMS key or the mailer got the refusing modules in their place.
    expect(withStandIns).toEqual(expect.arrayContaining(['get-jwks', 'verify-mfa', 'start-email-challenge', 'start-totp-enrollment']));
  });

  it.each(['getOpenIdConfiguration', 'getJwks'] as const)('of the public %s hold no zod, middy, route schemas or service', async (id) => {
    const { metafile } = await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: handlerEntry(routeById(id)) }, write: false, metafile: true, outdir: 'unused' });
    // What the function loads at start (the entry and the chunks it imports statically); modules esbuild read but shook out contribute no bytes.
    const inputs = staticallyLoaded(metafile).flatMap((name) => Object.entries(metafile.outputs[name]!.inputs).flatMap(([path, input]) => (input.bytesInOutput > 0 ? [path] : [])));
    expect(inputs.some((path) => path.includes('node_modules/zod/'))).toBe(false);
    expect(inputs.some((path) => path.includes('node_modules/@middy/'))).toBe(false);
    expect(inputs).not.toContain('functions/http/schemas.ts');
    // The few variables they read, by the rules' building blocks; not the service settings.
    expect(inputs).not.toContain('functions/settings-schema.ts');
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
