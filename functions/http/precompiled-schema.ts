/*
 * What a request schema is inside a Lambda bundle. The schema modules (functions/http/schemas.ts,
 * admin-schemas.ts) are zod, read by the OpenAPI generator, the tests and the local server; the
 * handler bundles get, in their place, plain validation functions compiled ahead of time from
 * the same schemas (zod -> JSON Schema -> Ajv standalone code; lib/precompiled-schemas.ts), so
 * that a function loads no validator library at init and a valid request never loads zod.
 * zod is loaded only to word a rejected body, so the problem details stay zod's, word for word.
 * The local stack compiles the same checks when it starts (`useCompiledCheck` below), so that
 * `npm start` and the tests validate requests as the functions do.
 */
import type { z } from 'zod';

const PRECOMPILED = Symbol.for('serverless-mfa.precompiled-schema');

export interface PrecompiledSchema {
  readonly [PRECOMPILED]: string;
  /**
   * True when the value matches the schema; what it accepts is what the zod schema accepts
   * (test/infra/precompiled-schemas.test.ts). Absent for a schema JSON Schema cannot state (a
   * refinement, a transform): that one is validated by zod itself, loaded before the request
   * (`loadDeferredSchemas`).
   */
  readonly check?: ((value: unknown) => boolean) | undefined;
  /** The zod schema itself, loaded on demand (a chunk of its own in the bundle). */
  readonly zod: () => Promise<z.ZodType>;
  /** The zod schema once `zod()` has been awaited through `loadDeferredSchemas`. */
  loaded?: z.ZodType;
}

export function precompiledSchema(name: string, check: ((value: unknown) => boolean) | undefined, zod: () => Promise<z.ZodType>): PrecompiledSchema {
  return { [PRECOMPILED]: name, check, zod };
}

export function isPrecompiled(schema: unknown): schema is PrecompiledSchema {
  return typeof schema === 'object' && schema !== null && PRECOMPILED in schema;
}

/**
 * Outside a bundle: the checks a bundle would carry, compiled from the same zod schemas in this
 * process (the local stack does it at start, lib/precompiled-schemas.ts `compiledCheck`), so that
 * the handlers validate requests there as the functions do.
 */
const compiledHere = new WeakMap<object, (value: unknown) => boolean>();

/** Validates `schema` with `check` in this process (the local stack); zod still words a refusal. */
export function useCompiledCheck(schema: z.ZodType, check: (value: unknown) => boolean): void {
  compiledHere.set(schema, check);
}

/** The compiled check of a schema: the precompiled one inside a bundle, one compiled in this process elsewhere, or none (zod). */
export function compiledCheckOf(schema: unknown): ((value: unknown) => boolean) | undefined {
  if (isPrecompiled(schema)) return schema.check;
  return typeof schema === 'object' && schema !== null ? compiledHere.get(schema) : undefined;
}

/** Loads the zod schemas a route validates with that could not be precompiled; nothing for the others. */
export async function loadDeferredSchemas(schemas: readonly unknown[]): Promise<void> {
  await Promise.all(
    schemas.filter((schema): schema is PrecompiledSchema => isPrecompiled(schema) && !schema.check && !schema.loaded).map(async (schema) => {
      schema.loaded = await schema.zod();
    }),
  );
}

/** The zod schema to validate with when there is no precompiled check: a programming error if not loaded. */
export function deferredZodSchema(schema: PrecompiledSchema): z.ZodType {
  if (!schema.loaded) throw new Error(`${schema[PRECOMPILED]} was not loaded before the request (loadDeferredSchemas).`);
  return schema.loaded;
}

/**
 * A schema module's export that the bundle's route does not validate input with (a response
 * schema, another route's request): the bundle carries none of them. Using one inside a bundle is
 * a programming error, caught loudly.
 */
export function notBundled(name: string): object {
  return Object.freeze({
    notBundled: name,
    safeParse: () => {
      throw new Error(`${name} is not in the handler bundles: only the schemas routes validate input with are compiled into them.`);
    },
  });
}

/**
 * A body the precompiled check refused: the handler wrapper turns it into the problem zod words
 * (`explain`), which needs the zod schema, an import. Never answered as it is.
 */
export class PendingSchemaMismatch extends Error {
  override readonly name = 'PendingSchemaMismatch';
  constructor(
    readonly schema: PrecompiledSchema,
    readonly value: unknown,
    private readonly word: (schema: z.ZodType, value: unknown) => Error,
  ) {
    super('The body does not match the schema.');
  }

  async explain(): Promise<Error> {
    return this.word(await this.schema.zod(), this.value);
  }
}
