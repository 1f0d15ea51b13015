import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HttpEvent } from '../functions/http/request.js';
import type { RouteDefinition } from '../functions/http/routes.js';
import { lambdaContext as localLambdaContext } from '../local/server.js';

/**
 * The event API Gateway (HTTP API, payload 2.0) hands a function after its JWT authorizer
 * accepted a first-factor token for `sub` (or its IAM authorizer a SigV4 signature of
 * `operatorArn`): what the handlers get in Lambda, without the HTTP hop.
 */
export function apiGatewayEvent(
  route: RouteDefinition,
  options: { sub?: string; sessionId?: string; operatorArn?: string; body?: unknown; pathParameters?: Record<string, string> } = {},
): HttpEvent {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const now = Date.now();
  const rawPath = route.path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(options.pathParameters?.[name] ?? ''));
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'mfa.example.com', 'user-agent': 'serverless-mfa-bench' },
    requestContext: {
      accountId: '111122223333',
      apiId: 'bench',
      domainName: 'mfa.example.com',
      domainPrefix: 'mfa',
      http: { method: route.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'serverless-mfa-bench' },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      ...(options.sub ? { authorizer: { jwt: { claims: { sub: options.sub, email: `${options.sub}@example.com`, email_verified: 'true', aud: 'serverless-mfa-app', sid: options.sessionId ?? `${options.sub}-session` }, scopes: [] } } } : {}),
      // What the IAM authorizer passes on an operator route: the caller's verified principal.
      ...(options.operatorArn ? { authorizer: { iam: { userArn: options.operatorArn } } } : {}),
    },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  } as HttpEvent;
}

export function lambdaContext(route: RouteDefinition): Context {
  return localLambdaContext(route, randomUUID(), { namePrefix: 'serverless-mfa', memoryLimitInMB: '512', logStreamName: 'bench' });
}
