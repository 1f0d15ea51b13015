import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerResult,
  Context,
} from 'aws-lambda';
import type { LambdaHttpHandler } from '../functions/http/lambda-handler.js';
import { problemResponse } from '../functions/http/lambda-handler.js';
import { MethodNotAllowedError, MisdirectedRequestError, PayloadTooLargeError, RouteNotFoundError, UnauthorizedError } from '../functions/http/problems.js';
import { MAX_BODY_BYTES, type HttpEvent } from '../functions/http/request.js';
import type { RouteDefinition } from '../functions/http/routes.js';
import { scopesOf, type DevIdentityProvider } from './dev-identity-provider.js';

export interface LocalRoute {
  route: RouteDefinition;
  handler: LambdaHttpHandler;
}

/** Local-only routes (dev token, static files, docs): plain Node handlers, never in the cloud. */
export interface ExtraRoute {
  method: string;
  /** Exact path, or a prefix ending in `/*`. */
  path: string;
  handle(request: IncomingMessage, response: ServerResponse, body: string): Promise<void> | void;
}

export interface LocalServerOptions {
  routes: LocalRoute[];
  identity: DevIdentityProvider;
  extraRoutes?: ExtraRoute[];
  /**
   * Authorization scopes per route id, as `authorizationScopes` on an HTTP API route: the token
   * must hold at least one of them. Routes not listed require none.
   */
  routeScopes?: Readonly<Partial<Record<string, readonly string[]>>>;
  /** An app's own routes behind a Lambda authorizer (examples/ and their tests). */
  lambdaAuthorizedRoutes?: LambdaAuthorizedRoute[];
}

/**
 * A route behind a Lambda authorizer with payload format 2.0 and simple responses, as an app
 * configures one on its own HTTP API. API Gateway answers 401 itself when an identity source is
 * missing, 403 when the authorizer says no, 500 when it fails; otherwise the route's function
 * gets the authorizer's `context` under `requestContext.authorizer.lambda`.
 */
export interface LambdaAuthorizedRoute {
  method: string;
  path: string;
  /** The function's name (its Lambda context). */
  name: string;
  handler: (event: APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  authorizer: {
    name: string;
    handler: (event: APIGatewayRequestAuthorizerEventV2, context: Context) => Promise<APIGatewaySimpleAuthorizerResult & { context?: object }>;
    /** `$request.header.<name>` or `$request.querystring.<name>`, as the authorizer's identitySource. */
    identitySource: string[];
  };
}

/**
 * A small stand-in for API Gateway (HTTP API, payload 2.0): it matches the route table,
 * verifies the first-factor JWT as the JWT authorizer would, builds the same event the Lambda
 * gets (claims under requestContext.authorizer.jwt) and calls the same handler.
 */
export function createLocalServer(options: LocalServerOptions): Server {
  // The route table's paths compiled once, as API Gateway compiles its routes at deployment.
  const routes = options.routes.map((candidate) => ({ ...candidate, match: routePathMatcher(candidate.route.path) }));
  return createServer((request, response) => {
    handle(options, routes, request, response).catch((error: unknown) => send(response, problemResponse(error)));
  });
}

async function handle(options: LocalServerOptions, routes: CompiledRoute[], request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!isOwnHost(request)) {
    request.resume();
    throw new MisdirectedRequestError();
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = (request.method ?? 'GET').toUpperCase();
  const body = await readBody(request);

  const extra = options.extraRoutes?.find((candidate) => candidate.method === method && pathMatches(candidate.path, url.pathname));
  if (extra) return extra.handle(request, response, body);
  const authorized = options.lambdaAuthorizedRoutes?.find((candidate) => candidate.method === method && candidate.path === url.pathname);
  if (authorized) return send(response, await invokeWithLambdaAuthorizer(authorized, toEvent(request, url, method, body, authorized)));

  const samePath = routes.flatMap((candidate) => {
    const pathParameters = candidate.match(url.pathname);
    return pathParameters ? [{ ...candidate, pathParameters }] : [];
  });
  const match = samePath.find(({ route }) => route.method === method);
  if (!match) {
    if (samePath.length > 0) throw new MethodNotAllowedError(samePath.map(({ route }) => route.method));
    throw new RouteNotFoundError();
  }

  let claims: Record<string, string | number | boolean | string[]> | undefined;
  let iamPrincipal: string | undefined;
  if (match.route.auth === 'iam') {
    // In place of API Gateway's IAM authorizer (SigV4): a local operator token, and nothing else.
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(request.headers.authorization ?? '')?.[1];
    iamPrincipal = (token ? await options.identity.verifyAdmin(token) : null) ?? undefined;
    if (!iamPrincipal) {
      send(response, problemResponse(new UnauthorizedError()), { 'WWW-Authenticate': 'Bearer' });
      return;
    }
  }
  let scopes: string[] | undefined;
  if (match.route.auth === 'first-factor') {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(request.headers.authorization ?? '')?.[1];
    const requiredScopes = options.routeScopes?.[match.route.id] ?? [];
    const payload = token ? await options.identity.verify(token, requiredScopes) : null;
    if (!payload) {
      send(response, problemResponse(new UnauthorizedError()), { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    claims = Object.fromEntries(Object.entries(payload).map(([key, value]) => [key, asAuthorizerClaim(value)]));
    scopes = requiredScopes.length > 0 ? scopesOf(payload) : [];
  }

  const event = toEvent(request, url, method, body, match.route, claims, scopes, match.pathParameters, iamPrincipal);
  send(response, await match.handler(event, lambdaContext(match.route, event.requestContext.requestId)));
}

/**
 * Claims as the JWT authorizer hands them to the function: every value a string, an array as
 * `[a b]` (space-separated in brackets), numbers and booleans as their text.
 */
function asAuthorizerClaim(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ')}]`;
  return JSON.stringify(value);
}

/**
 * Only requests addressed to this server by its own name: `localhost` or `127.0.0.1` with its
 * port. A page on another origin whose name resolves here (DNS rebinding) sends its own name as
 * Host and gets 421, so it cannot drive the API or read the dev routes.
 */
function isOwnHost(request: IncomingMessage): boolean {
  const port = request.socket.localPort;
  return request.headers.host === `localhost:${port}` || request.headers.host === `127.0.0.1:${port}`;
}

const gatewayAnswer = (statusCode: number, message: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ message }),
});

async function invokeWithLambdaAuthorizer(route: LambdaAuthorizedRoute, event: HttpEvent): Promise<APIGatewayProxyStructuredResultV2> {
  const identity = route.authorizer.identitySource.map((source) => identityValue(source, event));
  if (identity.some((value) => !value)) return gatewayAnswer(401, 'Unauthorized');
  const authorizerEvent: APIGatewayRequestAuthorizerEventV2 = {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:us-east-1:000000000000:local/$default/${route.method}${route.path}`,
    identitySource: identity as string[],
    routeKey: event.routeKey,
    rawPath: event.rawPath,
    rawQueryString: event.rawQueryString,
    cookies: event.cookies ?? [],
    headers: event.headers,
    ...(event.queryStringParameters ? { queryStringParameters: event.queryStringParameters as Record<string, string> } : {}),
    requestContext: event.requestContext,
  };
  let decision: Awaited<ReturnType<LambdaAuthorizedRoute['authorizer']['handler']>>;
  try {
    decision = await route.authorizer.handler(authorizerEvent, lambdaContext({ handler: route.authorizer.name }, event.requestContext.requestId));
  } catch {
    return gatewayAnswer(500, 'Internal Server Error');
  }
  if (decision?.isAuthorized !== true) return gatewayAnswer(403, 'Forbidden');
  const authorizedEvent = { ...event, requestContext: { ...event.requestContext, authorizer: { lambda: decision.context ?? {} } } };
  return route.handler(authorizedEvent as APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>, lambdaContext({ handler: route.name }, event.requestContext.requestId));
}

function identityValue(source: string, event: HttpEvent): string | undefined {
  const [, kind, name] = /^\$request\.(header|querystring)\.(.+)$/.exec(source) ?? [];
  if (!kind || !name) throw new Error(`Unsupported identity source ${source}.`);
  return kind === 'header' ? event.headers[name.toLowerCase()] : event.queryStringParameters?.[name];
}

interface CompiledRoute extends LocalRoute {
  /** The `{name}` parameters of this route's path that a request path matches (one segment each), or null. */
  match: (path: string) => Record<string, string> | null;
}

/** A matcher for an API Gateway route path: a path without parameters compares as text, one with them through one regular expression. */
export function routePathMatcher(template: string): (path: string) => Record<string, string> | null {
  const names: string[] = [];
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([A-Za-z0-9_]+)\\?\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  if (names.length === 0) return (path) => (path === template ? {} : null);
  const expression = new RegExp(`^${pattern}$`);
  return (path) => {
    const found = expression.exec(path);
    if (!found) return null;
    try {
      return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1]!)]));
    } catch {
      return null;
    }
  };
}

function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('/*') ? path.startsWith(pattern.slice(0, -1)) || path === pattern.slice(0, -2) : pattern === path;
}

/** Reads at most MAX_BODY_BYTES; a larger body is refused with 413 without being buffered. */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new PayloadTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function toEvent(
  request: IncomingMessage,
  url: URL,
  method: string,
  body: string,
  route: { method: string; path: string },
  claims?: Record<string, string | number | boolean | string[]>,
  scopes: string[] = [],
  pathParameters: Record<string, string> = {},
  iamPrincipal?: string,
): HttpEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = new Date();
  const query = Object.fromEntries(url.searchParams.entries());
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...(request.headers.cookie ? { cookies: request.headers.cookie.split(/;\s*/) } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: request.headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(claims ? { authorizer: { jwt: { claims, scopes } } } : {}),
      ...(iamPrincipal ? { authorizer: { iam: iamAuthorizerContext(iamPrincipal) } } : {}),
    },
    ...(body.length > 0 ? { body } : {}),
    isBase64Encoded: false,
  } as HttpEvent;
}

/** What API Gateway's IAM authorizer puts in payload 2.0's `requestContext.authorizer.iam`. */
function iamAuthorizerContext(userArn: string) {
  return { accessKey: 'LOCAL', accountId: '000000000000', callerId: 'LOCAL', cognitoIdentity: null, principalOrgId: null, userArn, userId: 'LOCAL' };
}

/**
 * The Lambda context a function gets: what Powertools reads from it (name, ARN, memory, request id).
 * The local server and the benchmarks invoke handlers with it.
 */
export function lambdaContext(
  route: Pick<RouteDefinition, 'handler'>,
  requestId: string,
  options: { namePrefix?: string; memoryLimitInMB?: string; logStreamName?: string } = {},
): Context {
  const functionName = `${options.namePrefix ?? 'serverless-mfa-local'}-${route.handler}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: options.memoryLimitInMB ?? '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: options.logStreamName ?? 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2, extraHeaders: Record<string, string> = {}): void {
  if (response.headersSent) return;
  const headers = { ...(result.headers as Record<string, string> | undefined), ...extraHeaders };
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(result.body ?? '');
}
