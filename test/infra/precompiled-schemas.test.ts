import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isPrecompiled } from '../../functions/http/precompiled-schema.js';
import { ROUTES } from '../../functions/http/routes.js';
import { HANDLER_ESBUILD_OPTIONS } from '../../lib/bundling.js';
import { bundledSchemaModule, jsonSchemaOf, precompilable } from '../../lib/precompiled-schemas.js';

/** Every schema a route validates input with, by a name for the test. */
const INPUTS: Record<string, z.ZodType> = Object.fromEntries(
  ROUTES.flatMap((route) => [
    ...('request' in route && route.request ? [[`${route.id}Request`, route.request] as const] : []),
    ...('pathParameters' in route && route.pathParameters ? [[`${route.id}PathParameters`, route.pathParameters] as const] : []),
  ]),
);

const PRECOMPILED = Object.keys(INPUTS).filter((name) => precompilable(INPUTS[name]!));

type JsonSchema = { [key: string]: unknown };

/** Values the JSON Schema accepts (as far as a generator can aim), to be mutated below. */
function arbitraryOf(schema: JsonSchema, root: JsonSchema): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') return arbitraryOf((root.definitions as Record<string, JsonSchema>)[schema.$ref.replace('#/definitions/', '')]!, root);
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as JsonSchema[]).map((option) => arbitraryOf(option, root)));
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  switch (schema.type) {
    case 'string': {
      const min = (schema.minLength as number | undefined) ?? 0;
      const max = Math.min((schema.maxLength as number | undefined) ?? 80, min + 80);
      const text = typeof schema.pattern === 'string' ? fc.stringMatching(new RegExp(schema.pattern, 'u')) : fc.string({ unit: 'binary', minLength: min, maxLength: max });
      return text.filter((value) => value.length >= min && value.length <= ((schema.maxLength as number | undefined) ?? Infinity));
    }
    case 'integer':
      return fc.integer();
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(arbitraryOf(schema.items as JsonSchema, root), { maxLength: Math.min((schema.maxItems as number | undefined) ?? 5, 5) });
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      return fc.record(Object.fromEntries(Object.entries(properties).map(([key, member]) => [key, arbitraryOf(member, root)])), {
        requiredKeys: [...required],
      });
    }
    default:
      return fc.anything();
  }
}

/** One change that may make a valid value invalid (or keep it valid): zod and the check must still agree. */
function mutated(value: unknown): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 70 }),
    fc.constantFrom('', '\ud83d\ude00'.repeat(40), 'a'.repeat(65), 'a'.repeat(257), '\u0000', '\u0085', 'x y'),
    // Names: white space around them is not counted, inside it is; controls and format characters only around them are trimmed away.
    fc.constantFrom('  ', ' a ', `\t${'a'.repeat(64)}\n`, ` ${'a'.repeat(65)} `, '\ufeffa\ufeff', 'a\u0007', '\u200ba', 'a \u00a0 b', '\u3000\ud83d\ude00\u3000'),
    fc.integer(),
    fc.double(),
    fc.constantFrom(2 ** 60, -(2 ** 53), 1.5, -0),
    fc.boolean(),
    fc.constant(null),
    fc.constant([]),
    fc.constant({}),
  );
  if (Array.isArray(value)) return fc.oneof(fc.constant([...value, value[0]]), leaf.map((extra) => [...value, extra]), leaf);
  if (typeof value !== 'object' || value === null) return leaf;
  const entries = Object.entries(value);
  const options: fc.Arbitrary<unknown>[] = [leaf, fc.constantFrom('__proto__', 'constructor', 'extra', 'toString').chain((key) => leaf.map((extra) => ({ ...value, [key]: extra })))];
  if (entries.length > 0) {
    options.push(fc.constantFrom(...entries.map(([key]) => key)).map((key) => Object.fromEntries(entries.filter(([other]) => other !== key))));
    options.push(
      fc.constantFrom(...entries.map(([key]) => key)).chain((key) =>
        mutated((value as Record<string, unknown>)[key]).map((replacement) => ({ ...value, [key]: replacement })),
      ),
    );
  }
  return fc.oneof(...options);
}

let checks: Record<string, (value: unknown) => boolean>;
let dir: string;
// The checks as the handler bundles carry them: the schema modules bundled with HANDLER_ESBUILD_OPTIONS (and so the plugin).
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mfa-precompiled-'));
  const modules = { schemas: '../../functions/http/schemas.js', adminSchemas: '../../functions/http/admin-schemas.js' } as const;
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, Object.entries(modules).map(([name]) => `export * as ${name} from ${JSON.stringify(fileURLToPath(new URL(modules[name as keyof typeof modules].replace(/\.js$/, '.ts'), import.meta.url)))};`).join('\n'));
  await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: entry }, outdir: join(dir, 'out'), logLevel: 'error' });
  const bundled = (await import(pathToFileURL(join(dir, 'out', 'index.mjs')).href)) as Record<string, Record<string, unknown>>;
  checks = {};
  for (const [module, path] of Object.entries(modules)) {
    const real = (await import(path)) as Record<string, unknown>;
    for (const [name, schema] of Object.entries(INPUTS)) {
      const exported = Object.keys(real).find((key) => real[key] === schema);
      const precompiled = exported ? bundled[module]![exported] : undefined;
      if (isPrecompiled(precompiled) && precompiled.check) checks[name] = precompiled.check;
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('precompiled request schemas', () => {
  it('cover every schema a route validates input with: none needs zod at init (names are checked as sent, by patterns)', () => {
    expect(Object.keys(checks).sort()).toEqual([...PRECOMPILED].sort());
    expect(PRECOMPILED.sort()).toEqual(Object.keys(INPUTS).sort());
    expect(PRECOMPILED).toEqual(expect.arrayContaining(['verifyMfaRequest', 'renameAuthenticatorRequest', 'confirmTotpEnrollmentRequest', 'startWebAuthnChallengeRequest']));
  });

  it("go into a handler's bundle for its own route only: the other routes' schemas are placeholders there", async () => {
    const schemasModule = fileURLToPath(new URL('../../functions/http/schemas.ts', import.meta.url));
    const compiledIn = (code: string) => [...code.matchAll(/export const (\w+) = precompiledSchema\(/g)].map((match) => match[1]);
    const verify = await bundledSchemaModule(schemasModule, 'verify-mfa');
    expect(compiledIn(verify.main)).toEqual(['VerifyRequest']);
    expect(verify.main).toContain('export const RenameAuthenticatorRequest = notBundled("RenameAuthenticatorRequest")');
    const rename = await bundledSchemaModule(schemasModule, 'rename-authenticator');
    expect(compiledIn(rename.main).sort()).toEqual(['AuthenticatorPathParameters', 'RenameAuthenticatorRequest']);
    expect(rename.checks.length).toBeLessThan(verify.checks.length / 3);
    // A bundle that is not one route's handler gets every route's checks.
    expect(compiledIn((await bundledSchemaModule(schemasModule, undefined)).main).length).toBeGreaterThan(10);
  });

  it('refuse what zod cannot hand back unchanged or JSON Schema cannot state (refinements, transforms, formats, stripped keys)', async () => {
    const z = await import('zod');
    expect(precompilable(z.strictObject({ a: z.string().max(3) }))).toBe(true);
    expect(precompilable(z.strictObject({ a: z.string().refine((value) => value !== 'x') }))).toBe(false);
    expect(precompilable(z.strictObject({ a: z.string().trim() }))).toBe(false);
    expect(precompilable(z.strictObject({ a: z.string().default('x') }))).toBe(false);
    expect(precompilable(z.strictObject({ a: z.email() }))).toBe(false);
    expect(precompilable(z.strictObject({ a: z.string().regex(/^a$/i) }))).toBe(false);
    expect(precompilable(z.strictObject({ a: z.coerce.number() }))).toBe(false);
    expect(precompilable(z.object({ a: z.string() }))).toBe(false);
  });

  it.each(PRECOMPILED)('%s: the compiled check accepts exactly what zod accepts', (name) => {
    const schema = INPUTS[name]!;
    const json = jsonSchemaOf(schema);
    const valid = arbitraryOf(json, json);
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(valid, valid.chain(mutated), valid.chain(mutated).chain(mutated), fc.jsonValue()), (value) => {
        const zodSays = schema.safeParse(value).success;
        if (zodSays) accepted++;
        expect(checks[name]!(value), JSON.stringify(value)).toBe(zodSays);
      }),
      { numRuns: 400 },
    );
    // The generator reaches both sides of the line.
    expect(accepted).toBeGreaterThan(20);
  });
});
