/**
 * Builds the OpenAPI 3.1 document from the route table, the zod schemas the handlers
 * validate with, and the problem table. Nothing in the document is written by hand twice:
 * add a route, a schema field or a problem code and `npm run openapi` picks it up.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
  type oas31,
} from 'zod-openapi';
import { PROBLEM_CONTENT_TYPE, PROBLEMS, problemBody, type ProblemCode } from '../functions/http/problems.js';
import { ROUTES, type RouteDefinition } from '../functions/http/routes.js';
import { ProblemResponse } from '../functions/http/schemas.js';
import { DevAdminTokenRequest, DevTokenRequest } from '../local/dev-identity-provider.js';

const FIRST_FACTOR_SCHEME = 'firstFactor';
const OPERATOR_SCHEME = 'operatorIam';
/** Marks operations that only the local server has (`npm start`); they are never deployed. */
const LOCAL_ONLY_EXTENSION = 'x-local-only';
const LOCAL_ONLY_TAG = 'Local development';
const ADMIN_TAG = 'Administration';

/** Problems every route can answer besides its own. */
const SHARED_PROBLEMS = ['internal_error', 'service_unavailable'] as const satisfies readonly ProblemCode[];
/** What the first-factor check (or, locally, the operator token check) adds on authenticated routes. */
const FIRST_FACTOR_PROBLEMS = ['unauthorized'] as const satisfies readonly ProblemCode[];

/** Every problem code an operation can answer with: its own, the authorizer's and the shared ones. */
function problemsOf(route: Pick<RouteDefinition, 'auth' | 'problems'>): ProblemCode[] {
  const codes: ProblemCode[] = [...route.problems, ...(route.auth !== 'public' ? FIRST_FACTOR_PROBLEMS : []), ...SHARED_PROBLEMS];
  return [...new Set(codes)];
}

const RetryAfter = z
  .int()
  .min(1)
  .meta({ description: 'Seconds to wait before trying again.', example: 30, header: { id: 'RetryAfter' } });
const Allow = z.string().meta({ description: 'The methods this path accepts.', example: 'POST', header: { id: 'Allow' } });
const WwwAuthenticate = z.string().meta({ description: 'The authentication scheme to use.', example: 'Bearer', header: { id: 'WWWAuthenticate' } });

interface ProblemHeader {
  schema: z.ZodType;
  /** Sent with every problem of this code. */
  required: boolean;
}

/** Headers that come with a problem of this code; `problems.ts` and the local server set exactly these. */
const PROBLEM_HEADERS: Partial<Record<ProblemCode, Record<string, ProblemHeader>>> = {
  too_many_attempts: { 'Retry-After': { schema: RetryAfter, required: true } },
  too_many_emails: { 'Retry-After': { schema: RetryAfter, required: true } },
  service_unavailable: { 'Retry-After': { schema: RetryAfter, required: true } },
  method_not_allowed: { Allow: { schema: Allow, required: true } },
  // Sent by the local server's authorizer; not promised, since it is not the handler's to send.
  unauthorized: { 'WWW-Authenticate': { schema: WwwAuthenticate, required: false } },
};

/**
 * Headers a media type's answers always carry. OpenAPI 3.1 puts headers on the response, not
 * the media type; where a status can also come from API Gateway (without them), the response
 * says optional and this extension keeps the promise for the service's own problem+json.
 */
export const REQUIRED_HEADERS_EXTENSION = 'x-required-headers';

/**
 * API Gateway's own answers in AWS, sent before or instead of the function, as
 * `application/json` `{"message": ...}`; the typed client maps them to the problem code of the
 * same status. The local server never sends them.
 */
const GATEWAY_ANSWERS = {
  401: { message: 'Unauthorized', when: 'the JWT authorizer refuses the first-factor token (missing, expired, wrong issuer or audience)' },
  403: { message: 'Forbidden', when: "the IAM authorizer refuses the call: no or a wrong SigV4 signature, or a principal without the admin policy" },
  404: { message: 'Not Found', when: 'no route matches the method and path (a wrong method too: API Gateway has no 405)' },
  429: { message: 'Too Many Requests', when: 'the stage throttle is exceeded (no Retry-After)' },
  500: { message: 'Internal Server Error', when: 'the function crashed' },
  503: { message: 'Service Unavailable', when: 'the function timed out or was throttled (no Retry-After)' },
} as const;
type GatewayStatus = keyof typeof GATEWAY_ANSWERS;

const GatewayError = z
  .strictObject({ message: z.string() })
  .meta({ id: 'GatewayError', description: "API Gateway's own answer (AWS only), not the service's.", example: { message: 'Unauthorized' } });

/**
 * The problem body for a set of codes that share one status: `Problem` narrowed so that
 * `status`, `code` and `type` can only be what this operation really sends.
 */
function problemSchema(codes: readonly ProblemCode[]) {
  const bodies = codes.map((code) => problemBody({ code }));
  return ProblemResponse.extend({
    type: z.enum(bodies.map((body) => body.type) as [string, ...string[]]),
    status: z.literal(bodies[0]!.status).meta({ override: { type: 'integer' } }),
    code: z.enum(codes as [ProblemCode, ...ProblemCode[]]).meta({ description: 'Stable, snake_case error code.' }),
  });
}

/** The response for one status: the service's problems with that status, and API Gateway's answer where it has one. */
function problemResponse(codes: readonly ProblemCode[], options: { id?: string; gateway?: GatewayStatus } = {}): ZodOpenApiResponseObject {
  const gateway = options.gateway === undefined ? undefined : GATEWAY_ANSWERS[options.gateway];
  const headers: Record<string, z.ZodType> = {};
  const alwaysSent: string[] = [];
  for (const code of codes) {
    for (const [name, { schema }] of Object.entries(PROBLEM_HEADERS[code] ?? {})) {
      const everyProblemSendsIt = codes.every((other) => PROBLEM_HEADERS[other]?.[name]?.required);
      if (everyProblemSendsIt && !alwaysSent.includes(name)) alwaysSent.push(name);
      headers[name] = everyProblemSendsIt && !gateway ? schema : schema.optional();
    }
  }
  const description = [
    ...codes.map((code) => `\`${code}\`: ${PROBLEMS[code].detail}`),
    ...(alwaysSent.length > 0 ? [`The problem always comes with ${alwaysSent.map((name) => `\`${name}\``).join(' and ')}.`] : []),
    ...(gateway ? [`In AWS, API Gateway answers \`{"message": "${gateway.message}"}\` itself when ${gateway.when}.`] : []),
  ];
  return {
    ...(options.id ? { id: options.id } : {}),
    description: description.join('\n\n'),
    ...(Object.keys(headers).length > 0 ? { headers: z.object(headers) } : {}),
    content: {
      ...(codes.length > 0
        ? {
            [PROBLEM_CONTENT_TYPE]: {
              schema: problemSchema(codes),
              examples: Object.fromEntries(codes.map((code) => [code, { summary: PROBLEMS[code].title, value: problemBody({ code }) }])),
              ...(alwaysSent.length > 0 ? { [REQUIRED_HEADERS_EXTENSION]: alwaysSent } : {}),
            },
          }
        : {}),
      ...(gateway
        ? { 'application/json': { schema: GatewayError, examples: { gateway: { summary: `API Gateway (AWS only): ${gateway.message}`, value: { message: gateway.message } } } } }
        : {}),
    },
  };
}

/**
 * One response per status: codes that share a status share a response (e.g. 400 `invalid_request` |
 * `invalid_code`), and API Gateway's answers are added where the gateway can send them.
 */
function problemResponses(codes: readonly ProblemCode[], gatewayStatuses: readonly GatewayStatus[]): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ProblemCode[]>(gatewayStatuses.map((status) => [status, []]));
  for (const code of codes) byStatus.set(PROBLEMS[code].status, [...(byStatus.get(PROBLEMS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, group]) => [String(status), problemResponse(group, { gateway: gatewayStatuses.find((candidate) => candidate === status) })]),
  );
}

/** What API Gateway itself can answer on a deployed route. */
function gatewayStatusesOf(route: RouteDefinition): GatewayStatus[] {
  return [...(route.auth === 'first-factor' ? [401 as const] : route.auth === 'iam' ? [403 as const] : []), 429, 500, 503];
}

function tagOf(route: RouteDefinition): string {
  if (route.path.startsWith('/admin/')) return ADMIN_TAG;
  return route.path.startsWith('/v1/') ? 'MFA' : 'Assertion verification';
}

function securityOf(route: RouteDefinition): Array<Record<string, string[]>> {
  switch (route.auth) {
    case 'first-factor':
      return [{ [FIRST_FACTOR_SCHEME]: [] }];
    case 'iam':
      return [{ [OPERATOR_SCHEME]: [] }];
    case 'public':
      return [];
  }
}

function jsonBody(schema: z.ZodType) {
  return { content: { 'application/json': { schema } } };
}

/** The handlers read an absent body as `{}` (request.ts): the body is optional exactly where `{}` is valid. */
function requestBodyFor(schema: z.ZodType) {
  const optional = schema.safeParse({}).success;
  return { required: !optional, ...(optional ? { description: 'Optional; an absent body counts as `{}`.' } : {}), ...jsonBody(schema) };
}

function operationFor(route: RouteDefinition): ZodOpenApiOperationObject {
  return {
    operationId: route.id,
    summary: route.summary,
    tags: [tagOf(route)],
    security: securityOf(route),
    ...(route.pathParameters ? { requestParams: { path: route.pathParameters } } : {}),
    ...(route.request ? { requestBody: requestBodyFor(route.request) } : {}),
    responses: {
      [String(route.successStatus)]: { description: route.summary, ...jsonBody(route.response) },
      ...problemResponses(problemsOf(route), gatewayStatusesOf(route)),
    },
  };
}

const DevTokenResponse = z
  .strictObject({ token: z.string().meta({ description: 'RS256 JWT (with a `kid`) from the local issuer, valid for an hour.' }) })
  .meta({ id: 'DevToken', example: { token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl' } });

/** Operations the local server adds for development; `local/local-stack.ts` serves them. */
const LOCAL_ONLY_OPERATIONS: Record<string, { post: ZodOpenApiOperationObject }> = {
  '/dev/token': {
    post: {
      operationId: 'createDevToken',
      summary: 'Local only: a first-factor token for any user, signed by the local identity provider.',
      description:
        'Stands in for your identity provider on `npm start`. **Not deployed**: in the cloud the first-factor token comes from the app\'s own identity provider.',
      tags: [LOCAL_ONLY_TAG],
      [LOCAL_ONLY_EXTENSION]: true,
      security: [],
      requestBody: {
        required: true,
        ...jsonBody(DevTokenRequest.meta({ id: 'DevTokenRequest', example: { sub: 'alice', email: 'alice@example.com' } })),
      },
      responses: {
        '200': { description: 'A token for `sub`.', ...jsonBody(DevTokenResponse) },
        ...problemResponses(['invalid_request', 'payload_too_large', 'internal_error'], []),
      },
    },
  },
  '/dev/admin-token': {
    post: {
      operationId: 'createDevAdminToken',
      summary: 'Local only: an operator token for the `/admin/v1` routes, in place of a SigV4 signature.',
      description:
        "Stands in for IAM on `npm start`: the local server accepts this token as `Authorization: Bearer` on `/admin` routes (and on no other route; a user's token is refused there) and hands the function the local principal `arn:aws:iam::000000000000:user/local-admin`. **Not deployed**: in the cloud, `/admin/v1` needs a SigV4 signature of a principal with the admin policy.",
      tags: [LOCAL_ONLY_TAG],
      [LOCAL_ONLY_EXTENSION]: true,
      security: [],
      requestBody: { required: false, description: 'Optional; `{}`.', ...jsonBody(DevAdminTokenRequest.meta({ id: 'DevAdminTokenRequest', example: {} })) },
      responses: {
        '200': { description: 'An operator token, valid for an hour.', ...jsonBody(DevTokenResponse) },
        ...problemResponses(['invalid_request', 'payload_too_large', 'internal_error'], []),
      },
    },
  },
};

/** Answers for requests outside the table; the local server sends them, the docs list them. */
const UNMATCHED_REQUEST_RESPONSES = {
  NotFound: problemResponse(['not_found'], { id: 'NotFound', gateway: 404 }),
  MethodNotAllowed: problemResponse(['method_not_allowed'], { id: 'MethodNotAllowed' }),
  MisdirectedRequest: problemResponse(['misdirected_request'], { id: 'MisdirectedRequest' }),
};

const DESCRIPTION = `
Two-factor authentication for web apps, by three kinds of method: **authenticator apps** (TOTP
codes), **security keys or passkeys** (WebAuthn) and, where the deployment offers them, **codes by
email** (the weakest), with recovery codes for when the others are lost. The user signs in with your
identity provider as usual (the first factor); your web client then calls \`/v1/mfa/*\` with that
token to add an authenticator app, a security key or email codes, or to verify a code, an email
code, a recovery code or a key (or a remembered browser), and receives a short-lived signed **MFA assertion** (ES256 JWT) that your
backend verifies against \`/.well-known/jwks.json\`.

**Errors** are RFC 9457 \`application/problem+json\` bodies with a stable \`code\`; each operation
lists every code it can answer with. \`429 too_many_attempts\` and \`503 service_unavailable\` carry
\`Retry-After\` (seconds). A path that does not exist answers \`404 not_found\`, a method the path
does not accept \`405 method_not_allowed\` with \`Allow\` (see \`components.responses\`). The local
server answers \`421 misdirected_request\` to a request whose \`Host\` is not its own
(\`localhost\` or \`127.0.0.1\` with its port).

**In AWS**, API Gateway answers some requests itself, as \`application/json\` \`{"message": ...}\`
(\`GatewayError\`): 401 when its JWT authorizer refuses the token, 404 for any unknown method or
path, 429 when throttled, 500/503 when the function fails or times out; on \`/admin/v1\`, 403 when
its IAM authorizer refuses the SigV4 signature. Each operation lists them
beside the service's problems; the typed client maps them to the problem code of the same status.

\`/v1\` responses carry secrets (TOTP secrets, recovery codes, assertions) and are sent with
\`Cache-Control: no-store\`. Operations tagged *${LOCAL_ONLY_TAG}* (\`${LOCAL_ONLY_EXTENSION}: true\`)
exist only on the local server.
`.trim();

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildOpenApiDocument(): oas31.OpenAPIObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of ROUTES as readonly RouteDefinition[]) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operationFor(route) };
  }
  const document: ZodOpenApiObject = {
    openapi: '3.1.0',
    info: {
      title: 'serverless-mfa',
      // The package's version (semantic versioning): the document describes what that release serves.
      version: PACKAGE_VERSION,
      description: DESCRIPTION,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      { url: '/', description: 'Where this document is served from (the local server: `npm start`).' },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'The deployed HTTP API (the stack output `ApiUrl`).',
        variables: { apiId: { default: 'abc123' }, region: { default: 'us-east-1' } },
      },
    ],
    tags: [
      { name: 'MFA', description: 'Enroll, verify and manage the second factor of the signed-in user.' },
      { name: 'Assertion verification', description: 'What an app backend needs to verify MFA assertions.' },
      { name: ADMIN_TAG, description: "Support staff: look at, reset or unlock a user's MFA. IAM-authorised (SigV4), never with a user's token; every call is audited with the caller's principal and reason." },
      { name: LOCAL_ONLY_TAG, description: 'Only on the local server (`npm start`); never deployed.' },
    ],
    paths: { ...paths, ...LOCAL_ONLY_OPERATIONS },
    components: {
      securitySchemes: {
        [FIRST_FACTOR_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "The first-factor token (JWT) from the app's identity provider; its `sub` is the user.",
        },
        [OPERATOR_SCHEME]: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            "AWS Signature Version 4 (service `execute-api`) of an IAM principal with the stack's admin policy, checked by API Gateway's IAM authorizer (`npm run admin` signs from the standard credential chain); the principal must also be one the deployment names (the support role, `adminPrincipalArns`), else 403 `forbidden`. Locally: `Bearer` and a token from `POST /dev/admin-token`.",
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
      responses: UNMATCHED_REQUEST_RESPONSES,
    },
  };
  return createDocument(document, { override: dropZodCheckFormats });
}

/**
 * zod names some string checks as formats (`startsWith` becomes `format: starts_with`); they
 * are no JSON Schema formats, and the `pattern` zod emits beside them already says the same.
 */
const ZOD_CHECK_FORMATS = new Set(['starts_with', 'ends_with', 'includes', 'lowercase', 'uppercase']);
function dropZodCheckFormats({ jsonSchema }: { jsonSchema: { format?: string } }): void {
  if (jsonSchema.format && ZOD_CHECK_FORMATS.has(jsonSchema.format)) delete jsonSchema.format;
}

/** The committed file, byte for byte: two-space JSON with a trailing newline. */
export function serializeOpenApiDocument(document: oas31.OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
