import { readFileSync } from 'node:fs';
import { validate, compileErrors } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { PROBLEMS, problemBody, type ProblemCode } from '../../functions/http/problems.js';
import { buildOpenApiDocument, REQUIRED_HEADERS_EXTENSION, serializeOpenApiDocument } from '../../scripts/openapi-document.js';
import type { oas31 } from 'zod-openapi';
import { OPENAPI_FILE, OpenApiContract, readCommittedDocument, type OpenApiDocument } from '../support/openapi-contract.js';

const committed = readCommittedDocument();

/** Every schema object in the document with where it sits, nested ones included. */
function* schemasIn(node: unknown, where: string, inSchema = false): Generator<{ where: string; schema: Record<string, unknown> }> {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) yield* schemasIn(item, `${where}/${index}`, inSchema);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  if (inSchema) yield { where, schema: node as Record<string, unknown> };
  for (const [key, value] of Object.entries(node)) {
    // Inside a schema, these keys hold schemas (or maps of them); outside, `schema` and components.schemas do.
    const holdsSchemas = inSchema
      ? ['properties', 'items', 'anyOf', 'oneOf', 'allOf', 'not', 'additionalProperties', '$defs', 'prefixItems'].includes(key)
      : key === 'schema';
    const holdsSchemaMap = (inSchema && (key === 'properties' || key === '$defs')) || (!inSchema && where.endsWith('/components') && key === 'schemas');
    if (holdsSchemaMap) {
      for (const [name, child] of Object.entries(value as object)) yield* schemasIn(child, `${where}/${key}/${name}`, true);
    } else if (!(inSchema && (key === 'example' || key === 'examples' || key === 'const' || key === 'enum'))) {
      yield* schemasIn(value, `${where}/${key}`, holdsSchemas);
    }
  }
}

describe('openapi.json', () => {
  it('is what `npm run openapi` generates from the route table, schemas and problem table', () => {
    const generated = serializeOpenApiDocument(buildOpenApiDocument());
    expect(readFileSync(OPENAPI_FILE, 'utf8'), 'openapi.json is stale: run `npm run openapi` and commit it').toBe(generated);
  });

  it('validates as an OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(committed) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(committed.openapi).toMatch(/^3\.1\./);
  });

  it('would be refused by the validator if it broke the OpenAPI schema', async () => {
    const broken = structuredClone(committed) as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    broken.paths['/v1/mfa']!.get!.responses['200'] = { content: {} }; // a response needs a description
    const result = await validate(broken as never);
    expect(result.valid).toBe(false);
  });

  it('closes every object schema, so that an undocumented field fails validation', () => {
    const objects = [...schemasIn(committed, '#')].filter(({ schema }) => schema.type === 'object' || 'properties' in schema);
    expect(objects.length).toBeGreaterThan(40);
    expect(objects.filter(({ schema }) => schema.additionalProperties !== false).map(({ where }) => where)).toEqual([]);
  });

  it('has schema examples that match their own schemas', () => {
    const contract = new OpenApiContract(committed);
    const withExamples = [...schemasIn(committed, '#')].filter(({ schema }) => 'example' in schema);
    expect(withExamples.length).toBeGreaterThan(10);
    for (const { where, schema } of withExamples) {
      expect(contract.schemaViolations(schema, schema.example, `example at ${where}`)).toEqual([]);
    }
  });

  it('has response examples that match their media type schemas', () => {
    const contract = new OpenApiContract(committed);
    let checked = 0;
    for (const { where, media } of mediaTypes(committed)) {
      for (const [name, example] of Object.entries(media.examples ?? {})) {
        expect(contract.schemaViolations(media.schema!, (example as { value: unknown }).value, `${where} example ${name}`)).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('documents every problem code of the problem table with its status, title and detail', () => {
    const documented = new Map<string, unknown>();
    for (const { media } of mediaTypes(committed)) {
      for (const [name, example] of Object.entries(media.examples ?? {})) documented.set(name, (example as { value: unknown }).value);
    }
    for (const code of Object.keys(PROBLEMS) as ProblemCode[]) {
      expect(documented.get(code), code).toEqual(problemBody({ code }));
    }
  });

  it('declares the first-factor bearer JWT scheme', () => {
    expect(committed.components?.securitySchemes?.firstFactor).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('promises an integer Retry-After with every 429 and 503 problem', () => {
    const contract = new OpenApiContract(committed);
    let checked = 0;
    for (const [path, item] of Object.entries(committed.paths ?? {})) {
      for (const [method, operation] of Object.entries(item ?? {})) {
        for (const status of ['429', '503']) {
          const response = (operation as oas31.OperationObject).responses?.[status] as oas31.ResponseObject | undefined;
          const problem = response?.content?.['application/problem+json'] as (oas31.MediaTypeObject & Record<string, unknown>) | undefined;
          if (!problem) continue;
          expect(problem[REQUIRED_HEADERS_EXTENSION], `${method} ${path} ${status}`).toEqual(['Retry-After']);
          const header = resolveRef(committed, response!.headers?.['Retry-After']) as oas31.HeaderObject | undefined;
          expect(header?.schema, `${method} ${path} ${status}`).toMatchObject({ type: 'integer', minimum: 1 });
          expect(contract.schemaViolations(header!.schema!, 1.5)).not.toEqual([]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(8);
  });
});

function mediaTypes(document: OpenApiDocument) {
  const found: Array<{ where: string; media: oas31.MediaTypeObject }> = [];
  const responses = [
    ...Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item ?? {}).flatMap(([method, operation]) =>
        Object.entries((operation as { responses?: Record<string, unknown> }).responses ?? {}).map(([status, response]) => ({ where: `${method} ${path} ${status}`, response })),
      ),
    ),
    ...Object.entries(document.components?.responses ?? {}).map(([name, response]) => ({ where: `components.responses.${name}`, response })),
  ];
  for (const { where, response } of responses) {
    for (const [type, media] of Object.entries((resolveRef(document, response) as oas31.ResponseObject).content ?? {})) {
      found.push({ where: `${where} ${type}`, media });
    }
  }
  return found;
}

function resolveRef(document: OpenApiDocument, value: unknown): unknown {
  const ref = (value as { $ref?: string } | undefined)?.$ref;
  if (!ref) return value;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document);
}
