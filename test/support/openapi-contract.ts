import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { oas31 } from 'zod-openapi';
import { REQUIRED_HEADERS_EXTENSION } from '../../scripts/openapi-document.js';

// ajv-formats is CommonJS: under NodeNext its types see the module object, not the plugin.
type FormatsPlugin = typeof addFormatsModule.default;
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.json', import.meta.url));

export type OpenApiDocument = oas31.OpenAPIObject;

/** What a test saw on the wire: enough to check it against the document. */
export interface ObservedResponse {
  method: string;
  /** The request path, without query. */
  path: string;
  status: number;
  headers: Headers;
  /** The raw body text ('' when empty). */
  body: string;
}

export interface ObservedRequest {
  method: string;
  path: string;
  contentType: string | null;
  body: string;
}

/** A response or request the document does not describe. */
export class ContractViolationError extends Error {
  override readonly name = 'ContractViolationError';
  constructor(
    readonly where: string,
    readonly violations: string[],
  ) {
    super(`${where} does not match openapi.json:\n  - ${violations.join('\n  - ')}`);
  }
}

const SCHEMA_BASE = 'https://serverless-mfa.invalid/components/schemas/';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The committed openapi.json: what integrators read, mock and generate from. */
export function readCommittedDocument(): OpenApiDocument {
  return JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
}

/**
 * Checks observed traffic against an OpenAPI 3.1 document with JSON Schema 2020-12 (ajv),
 * strictly: an undocumented status, media type, field (the schemas are closed) or a missing
 * required header is a violation. Requests outside the paths must get the documented
 * `NotFound` or `MethodNotAllowed` response.
 */
export class OpenApiContract {
  private readonly ajv: Ajv2020;
  private readonly compiled = new WeakMap<object, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    this.ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
    addFormats(this.ajv);
    // OpenAPI's own schema keywords (3.1 section 4.8.24): annotations, nothing to check.
    this.ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
      this.ajv.addSchema({ ...(rebaseRefs(schema) as object), $id: `${SCHEMA_BASE}${encodeURIComponent(name)}` });
    }
  }

  /** The operation for a request, if the document has one. */
  operation(method: string, path: string): { template: string; operation: oas31.OperationObject } | undefined {
    const match = this.pathItem(path);
    const operation = match?.item[method.toLowerCase() as (typeof HTTP_METHODS)[number]];
    return match && operation ? { template: match.template, operation } : undefined;
  }

  /** Every way `observed` departs from the document; empty when it matches. */
  responseViolations(observed: ObservedResponse): string[] {
    const expected = this.expectedResponses(observed.method, observed.path);
    const documented = expected.responses[String(observed.status)] ?? expected.responses[`${String(observed.status)[0]}XX`] ?? expected.responses.default;
    if (!documented) {
      return [`status ${observed.status} is not documented for ${expected.where} (documented: ${Object.keys(expected.responses).join(', ')})`];
    }
    const response = this.resolve<oas31.ResponseObject>(documented);
    const violations = [
      ...this.headerViolations(response, observed.headers),
      ...this.mediaHeaderViolations(response.content, observed.headers),
      ...this.contentViolations(response.content, observed.headers.get('content-type'), observed.body, 'response body', true),
    ];
    return [...new Set(violations)];
  }

  /** Every way a request body departs from its operation's `requestBody`. */
  requestViolations(observed: ObservedRequest): string[] {
    const found = this.operation(observed.method, observed.path);
    if (!found) return [`${observed.method} ${observed.path} is not in the document`];
    const requestBody = found.operation.requestBody && this.resolve<oas31.RequestBodyObject>(found.operation.requestBody);
    if (!requestBody) return observed.body ? ['the operation takes no request body'] : [];
    if (!observed.body) return requestBody.required ? ['the request body is required'] : [];
    return this.contentViolations(requestBody.content, observed.contentType, observed.body, 'request body', false);
  }

  assertResponse(observed: ObservedResponse): void {
    const violations = this.responseViolations(observed);
    if (violations.length > 0) {
      throw new ContractViolationError(`${observed.method} ${observed.path} -> ${observed.status} ${truncate(observed.body)}`, violations);
    }
  }

  assertRequest(observed: ObservedRequest): void {
    const violations = this.requestViolations(observed);
    if (violations.length > 0) throw new ContractViolationError(`request ${observed.method} ${observed.path} ${truncate(observed.body)}`, violations);
  }

  /** Validates any value against a schema (or `$ref`) from the document. */
  schemaViolations(schema: oas31.SchemaObject | oas31.ReferenceObject, value: unknown, label = 'value'): string[] {
    const validate = this.validatorFor(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${label}${error.instancePath || ''} ${error.message ?? 'is invalid'}${describeParams(error.params)}`);
  }

  private expectedResponses(method: string, path: string): { where: string; responses: oas31.ResponsesObject } {
    const match = this.pathItem(path);
    const operation = match?.item[method.toLowerCase() as (typeof HTTP_METHODS)[number]];
    if (match && operation) return { where: `${method.toUpperCase()} ${match.template}`, responses: operation.responses ?? {} };
    const fallback = match ? 'MethodNotAllowed' : 'NotFound';
    const response = this.document.components?.responses?.[fallback];
    if (!response) return { where: `${method.toUpperCase()} ${path}`, responses: {} };
    const status = fallback === 'NotFound' ? '404' : '405';
    return { where: `${method.toUpperCase()} ${path} (not in the document: components.responses.${fallback})`, responses: { [status]: response } };
  }

  private pathItem(path: string): { template: string; item: oas31.PathItemObject } | undefined {
    for (const [template, item] of Object.entries(this.document.paths ?? {})) {
      if (item && templateToRegExp(template).test(path)) return { template, item };
    }
    return undefined;
  }

  private headerViolations(response: oas31.ResponseObject, headers: Headers): string[] {
    const violations: string[] = [];
    for (const [name, documented] of Object.entries(response.headers ?? {})) {
      const header = this.resolve<oas31.HeaderObject>(documented);
      const raw = headers.get(name);
      if (raw === null) {
        if (header.required) violations.push(`required header ${name} is missing`);
        continue;
      }
      if (header.schema) violations.push(...this.schemaViolations(header.schema, coerceHeader(raw, this.resolve(header.schema)), `header ${name}`));
    }
    return violations;
  }

  /** Headers the matched media type promises (`x-required-headers`), e.g. Retry-After on a 429 problem. */
  private mediaHeaderViolations(content: oas31.ContentObject | undefined, headers: Headers): string[] {
    const media = content?.[mediaTypeOf(headers.get('content-type'))] as (oas31.MediaTypeObject & { [REQUIRED_HEADERS_EXTENSION]?: string[] }) | undefined;
    return (media?.[REQUIRED_HEADERS_EXTENSION] ?? []).filter((name) => headers.get(name) === null).map((name) => `required header ${name} is missing`);
  }

  private contentViolations(
    content: oas31.ContentObject | undefined,
    contentType: string | null,
    body: string,
    label: string,
    bodyMeansContent: boolean,
  ): string[] {
    if (!content || Object.keys(content).length === 0) return body ? [`${label} should be empty, got ${truncate(body)}`] : [];
    const media = content[mediaTypeOf(contentType)];
    if (!media) return [`content type ${contentType ?? '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`];
    if (!body && bodyMeansContent) return [`${label} is empty`];
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return [`${label} is not JSON: ${truncate(body)}`];
    }
    return media.schema ? this.schemaViolations(media.schema, value, label) : [];
  }

  private validatorFor(schema: oas31.SchemaObject | oas31.ReferenceObject): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(rebaseRefs(schema) as object);
      this.compiled.set(schema, validate);
    }
    return validate;
  }

  /** Follows a local `$ref` (`#/components/...`) to the object it names. */
  private resolve<T>(value: T | oas31.ReferenceObject): T {
    let current: unknown = value;
    for (let hops = 0; isReference(current); hops++) {
      if (hops > 10 || !current.$ref.startsWith('#/')) throw new Error(`Cannot resolve ${current.$ref}`);
      current = current.$ref
        .slice(2)
        .split('/')
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], this.document);
      if (current === undefined) throw new Error('Dangling $ref in the document');
    }
    return current as T;
  }
}

let committed: OpenApiContract | undefined;

/** The contract of the committed openapi.json, built once per test file. */
export function committedContract(): OpenApiContract {
  return (committed ??= new OpenApiContract(readCommittedDocument()));
}

function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function isReference(value: unknown): value is oas31.ReferenceObject {
  return typeof value === 'object' && value !== null && typeof (value as { $ref?: unknown }).$ref === 'string';
}

/** `#/components/schemas/X` becomes the id the schema was registered under in ajv. */
function rebaseRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebaseRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')
        ? [key, `${SCHEMA_BASE}${value.slice('#/components/schemas/'.length)}`]
        : [key, rebaseRefs(value)],
    ),
  );
}

function templateToRegExp(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

/** Headers are text; a header documented as a number is checked as one. */
function coerceHeader(raw: string, schema: oas31.SchemaObject): unknown {
  const types = [schema.type].flat();
  return (types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
}

function describeParams(params: Record<string, unknown>): string {
  const entries = Object.entries(params).filter(([, value]) => value !== undefined);
  return entries.length > 0 ? ` (${entries.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(', ')})` : '';
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
