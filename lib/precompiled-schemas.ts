/*
 * Build time: the request schemas of the route table compiled into plain functions for the
 * handler bundles (see functions/http/precompiled-schema.ts for the runtime side). A handler
 * bundle then loads no validator library at init, and zod only to word a refused body.
 *
 * Generic by construction: the `request` and `pathParameters` schemas of the bundle's route (of
 * every route in a bundle that is not one route's handler) are compiled when the bundle is built,
 * so a new route or a changed schema needs nothing more.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import type { Plugin } from 'esbuild';
import * as z from 'zod';

/** The modules whose exports are zod schemas: functions/http/schemas.ts and functions/http/<name>-schemas.ts. */
export const SCHEMA_MODULE = /[\\/]functions[\\/]http[\\/](?:[a-z-]+-)?schemas\.ts$/;
const WITH_ZOD = 'with-zod';

/** Checks JSON Schema can state exactly, as zod checks them (no formats, no flags other than `u`). */
const EXACT_CHECKS = new Set(['min_length', 'max_length', 'length_equals', 'greater_than', 'less_than', 'multiple_of']);

/**
 * Whether the JSON Schema zod writes for `schema` accepts exactly what zod accepts and zod hands
 * back the value it was given: no refinements, transforms, defaults, coercion, formats or
 * stripped keys (objects must be strict). Anything else is not precompiled: the function whose
 * route uses it loads zod for it when it starts (slower, never wrong); the other functions do not.
 */
export function precompilable(schema: z.core.$ZodType, seen = new Set<z.core.$ZodType>()): boolean {
  if (seen.has(schema)) return true;
  seen.add(schema);
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  for (const check of (def.checks ?? []) as z.core.$ZodCheck[]) {
    const c = check._zod.def as z.core.$ZodCheckDef & { format?: string; pattern?: RegExp };
    const exact =
      EXACT_CHECKS.has(c.check) ||
      (c.check === 'string_format' && c.format === 'regex' && (c.pattern?.flags ?? '').replace('u', '') === '') ||
      (c.check === 'number_format' && c.format === 'safeint');
    if (!exact) return false;
  }
  switch (def.type) {
    case 'string':
      // A string format (z.email(), z.url(), z.iso.datetime()...) is the schema's own `format`: zod and Ajv would judge it differently.
      return def.coerce !== true && def.format === undefined;
    case 'number':
    case 'boolean':
      return def.coerce !== true;
    case 'literal':
    case 'enum':
      return true;
    case 'object':
      return (
        (def.catchall as z.core.$ZodType | undefined)?._zod.def.type === 'never' &&
        Object.values(def.shape as Record<string, z.core.$ZodType>).every((member) => precompilable(member, seen))
      );
    case 'array':
      return precompilable(def.element as z.core.$ZodType, seen);
    case 'union':
      return (def.options as z.core.$ZodType[]).every((option) => precompilable(option, seen));
    case 'optional':
      return precompilable(def.innerType as z.core.$ZodType, seen);
    default:
      return false;
  }
}

/** The JSON Schema (draft 7) of a schema's input. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw', target: 'draft-7' }) as Record<string, unknown>;
}

/**
 * Ajv as the checks need it: lengths in code points and patterns with the `u` flag, as zod
 * measures and matches; annotations (`description`, `example`) ignored. A schema used in several
 * places (a key's response, a remembered browser) is one function, not inlined at each use
 * (`inlineRefs: false`): less code for a cold start to compile.
 */
function newAjv(): Ajv {
  return new Ajv({ code: { source: true, esm: true }, unicodeRegExp: true, strict: false, validateFormats: false, allErrors: false, messages: false, inlineRefs: false });
}

const ANNOTATIONS = new Set(['$schema', 'description', 'example', 'examples', 'title']);

/** A JSON Schema without its annotations, which the standalone code would otherwise carry along. */
function withoutAnnotations(node: unknown): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
  const schemasIn = (value: unknown) =>
    Array.isArray(value) ? value.map(withoutAnnotations) : Object.fromEntries(Object.entries(value as object).map(([key, member]) => [key, withoutAnnotations(member)]));
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !ANNOTATIONS.has(key))
      .map(([key, value]) => [key, ['properties', 'definitions', 'anyOf', 'oneOf', 'allOf'].includes(key) ? schemasIn(value) : key === 'items' ? withoutAnnotations(value) : value]),
  );
}

let here: Ajv | undefined;

/**
 * The check a bundle carries for `schema`, compiled in this process by the same Ajv options
 * (outside a bundle: the local stack), on first use; undefined for a schema zod validates itself.
 */
export function compiledCheck(schema: z.ZodType): ((value: unknown) => boolean) | undefined {
  if (!precompilable(schema)) return undefined;
  let check: ((value: unknown) => boolean) | undefined;
  return (value) => (check ??= (here ??= newAjv()).compile(withoutAnnotations(jsonSchemaOf(schema)) as object))(value);
}

/** Standalone ES module code exporting one validation function per name. */
export function standaloneValidators(schemas: Record<string, z.ZodType>): string {
  const ajv = newAjv();
  // In name order: a module namespace lists its exports sorted, a transformed module (vitest) in source order; the output must not differ.
  const names = Object.keys(schemas).sort();
  for (const name of names) ajv.addSchema(withoutAnnotations(jsonSchemaOf(schemas[name]!)) as object, name);
  return standalone.default(ajv, Object.fromEntries(names.map((name) => [name, name])));
}

/**
 * The schemas routes validate input with: `request` and `pathParameters` of the route whose
 * handler the bundle is built for (`handler`), else of every route. A handler parses only its own
 * route's schemas (test/infra/bundling.test.ts runs every route's bundle beside its source), so a function carries only its own checks.
 */
async function inputSchemas(handler: string | undefined): Promise<Set<unknown>> {
  const { ROUTES, inputSchemasOf } = await import('../functions/http/routes.js');
  const routes = handler === undefined ? ROUTES : ROUTES.filter((route) => route.handler === handler);
  return new Set(routes.flatMap(inputSchemasOf));
}

/** The route handler a build bundles (its one entry point is functions/handlers/<handler>.ts), if it bundles one. */
function handlerOfBuild(entryPoints: unknown): string | undefined {
  const entries = Array.isArray(entryPoints) ? entryPoints : typeof entryPoints === 'object' && entryPoints !== null ? Object.values(entryPoints) : [];
  if (entries.length !== 1) return undefined;
  const entry = entries[0] as string | { in: string };
  return /[\\/]functions[\\/]handlers[\\/]([a-z0-9-]+)\.ts$/.exec(typeof entry === 'string' ? entry : entry.in)?.[1];
}

/**
 * What a handler bundle gets in place of a schema module: each input schema as a precompiled
 * check (or, if not precompilable, a handle that loads zod's own schema before the request), each
 * other schema as a placeholder and each constant as its value.
 */
export async function bundledSchemaModule(path: string, handler: string | undefined): Promise<{ main: string; checks: string }> {
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const inputs = await inputSchemas(handler);
  const compiled: Record<string, z.ZodType> = {};
  const lines = [
    `import { notBundled, precompiledSchema } from './precompiled-schema.js';`,
    `import * as checks from ${JSON.stringify(`${path}?precompiled-checks`)};`,
    `const zodModule = () => import(${JSON.stringify(`${path}?${WITH_ZOD}`)});`,
  ];
  for (const [name, value] of Object.entries(module).sort(([a], [b]) => a.localeCompare(b))) {
    if (!(value instanceof z.ZodType)) {
      // A constant beside the schemas (a message they share): the bundle gets its value.
      if (typeof value === 'function' || value === undefined) throw new Error(`${path} exports ${name}, which is neither a zod schema nor a constant.`);
      lines.push(`export const ${name} = ${JSON.stringify(value)};`);
    } else if (!inputs.has(value)) {
      lines.push(`export const ${name} = notBundled(${JSON.stringify(name)});`);
    } else if (precompilable(value)) {
      compiled[name] = value;
      lines.push(`export const ${name} = precompiledSchema(${JSON.stringify(name)}, checks.${name}, () => zodModule().then((m) => m.${name}));`);
    } else {
      // Not precompilable (a refinement, a transform): zod validates it, loaded before the request (loadDeferredSchemas).
      lines.push(`export const ${name} = precompiledSchema(${JSON.stringify(name)}, undefined, () => zodModule().then((m) => m.${name}));`);
    }
  }
  return { main: `${lines.join('\n')}\n`, checks: Object.keys(compiled).length > 0 ? standaloneValidators(compiled) : 'export {};\n' };
}

/**
 * The esbuild plugin (in HANDLER_ESBUILD_OPTIONS) that swaps each schema module for its
 * precompiled form. `<module>?with-zod` is the module itself, which the precompiled form
 * imports only on demand: esbuild puts it, and zod, in a chunk of their own.
 */
export const precompiledSchemasPlugin: Plugin = {
  name: 'precompiled-schemas',
  setup(build) {
    const generated = new Map<string, Promise<{ main: string; checks: string }>>();
    const handler = handlerOfBuild(build.initialOptions.entryPoints);
    const of = (path: string) => {
      let module = generated.get(path);
      if (!module) generated.set(path, (module = bundledSchemaModule(path, handler)));
      return module;
    };
    build.onResolve({ filter: /\?(with-zod|precompiled-checks)$/ }, (args) => {
      const [path, suffix] = args.path.split('?') as [string, string];
      return { path, suffix: `?${suffix}` };
    });
    // Inside the zod form of a schema module, another schema module is its zod form too (admin-schemas.ts extends schemas.ts).
    build.onResolve({ filter: /^\.{1,2}\/.*schemas\.js$/ }, (args) => {
      if (!(args.pluginData as { withZod?: boolean } | undefined)?.withZod) return undefined;
      const path = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return SCHEMA_MODULE.test(path) ? { path, suffix: `?${WITH_ZOD}` } : undefined;
    });
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => {
      if (args.suffix === `?${WITH_ZOD}`) return { contents: await readFile(args.path, 'utf8'), loader: 'ts', pluginData: { withZod: true } };
      const module = await of(args.path);
      return { contents: args.suffix === '?precompiled-checks' ? module.checks : module.main, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};
