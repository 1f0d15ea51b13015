import { describe, expect, it } from 'vitest';
import type { oas31 } from 'zod-openapi';
import { PROBLEMS, type ProblemCode } from '../../functions/http/problems.js';
import { ROUTES, type RouteDefinition } from '../../functions/http/routes.js';
import { readCommittedDocument } from '../support/openapi-contract.js';

const document = readCommittedDocument();
const routes = ROUTES as readonly RouteDefinition[];

/** The API contract as the service promises it, stated here independently of the generator. */
function promisedProblems(route: RouteDefinition): ProblemCode[] {
  return [...new Set<ProblemCode>([...route.problems, ...(route.auth !== 'public' ? ['unauthorized' as const] : []), 'internal_error', 'service_unavailable'])];
}

/** In AWS, API Gateway answers these itself: its authorizer (JWT: 401, IAM: 403), its throttle, a failed or timed-out function. */
function gatewayStatuses(route: RouteDefinition): number[] {
  return [...(route.auth === 'first-factor' ? [401] : route.auth === 'iam' ? [403] : []), 429, 500, 503];
}

function operations(): Array<{ method: string; path: string; operation: oas31.OperationObject & { 'x-local-only'?: boolean } }> {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item ?? {})
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation: operation as oas31.OperationObject })),
  );
}

/** The problem codes a documented response allows: the `code` enum of its problem+json schema. */
function documentedCodes(response: oas31.ResponseObject | oas31.ReferenceObject | undefined): string[] {
  const schema = (response as oas31.ResponseObject | undefined)?.content?.['application/problem+json']?.schema as oas31.SchemaObject | undefined;
  return ((schema?.properties?.code as oas31.SchemaObject | undefined)?.enum as string[] | undefined) ?? [];
}

describe('route table and openapi.json', () => {
  it.each(routes.map((route) => [route.id, route] as const))('documents %s at its method and path', (_id, route) => {
    const operation = document.paths?.[route.path]?.[route.method.toLowerCase() as 'get' | 'post'];
    expect(operation?.operationId).toBe(route.id);
  });

  it('documents nothing beyond the route table except operations marked local-only', () => {
    const extra = operations().filter(({ method, path }) => !routes.some((route) => route.method === method && route.path === path));
    expect(extra.length).toBeGreaterThan(0);
    for (const { method, path, operation } of extra) {
      expect(operation['x-local-only'], `${method} ${path}`).toBe(true);
      expect(operation.tags, `${method} ${path}`).toEqual(['Local development']);
    }
    expect(routes.some((route) => route.path.startsWith('/dev/')), 'the cloud route table has no dev routes').toBe(false);
  });

  it.each(routes.map((route) => [route.id, route] as const))('lists every status %s can answer with, and no other', (_id, route) => {
    const responses = document.paths![route.path]![route.method.toLowerCase() as 'get' | 'post']!.responses!;
    const expected = [route.successStatus, ...promisedProblems(route).map((code) => PROBLEMS[code].status), ...gatewayStatuses(route)];
    expect(Object.keys(responses).map(Number).sort()).toEqual([...new Set(expected)].sort());
  });

  it.each(routes.map((route) => [route.id, route] as const))("documents API Gateway's own answers on %s as GatewayError", (_id, route) => {
    const responses = document.paths![route.path]![route.method.toLowerCase() as 'get' | 'post']!.responses!;
    const withGatewayBody = Object.entries(responses)
      .filter(([, response]) => (response as oas31.ResponseObject).content?.['application/json']?.schema?.$ref === '#/components/schemas/GatewayError')
      .map(([status]) => Number(status));
    expect(withGatewayBody.sort()).toEqual(gatewayStatuses(route).sort());
  });

  it.each(routes.map((route) => [route.id, route] as const))('lists every problem code of %s under its status', (_id, route) => {
    const responses = document.paths![route.path]![route.method.toLowerCase() as 'get' | 'post']!.responses!;
    for (const code of promisedProblems(route)) {
      expect(documentedCodes(responses[String(PROBLEMS[code].status)]), code).toContain(code);
    }
    const allDocumented = Object.values(responses).flatMap(documentedCodes).sort();
    expect(allDocumented).toEqual(promisedProblems(route).sort());
  });

  it.each(routes.map((route) => [route.id, route] as const))('requires the first-factor bearer token on %s exactly when the route does', (_id, route) => {
    const operation = document.paths![route.path]![route.method.toLowerCase() as 'get' | 'post']!;
    expect(operation.security).toEqual(route.auth === 'first-factor' ? [{ firstFactor: [] }] : route.auth === 'iam' ? [{ operatorIam: [] }] : []);
  });

  it('puts every operator route under /admin/v1 behind IAM, and no other route', () => {
    const admin = routes.filter((route) => route.path.startsWith('/admin/'));
    expect(admin.map((route) => route.id).sort()).toEqual(['adminGetMfaStatus', 'adminResetMfa', 'adminUnlockMfa']);
    expect(routes.filter((route) => route.auth === 'iam')).toEqual(admin);
    for (const route of admin) expect(route.path.startsWith('/admin/v1/')).toBe(true);
  });

  it.each(routes.map((route) => [route.id, route] as const))('documents a request body for %s exactly when the route parses one', (_id, route) => {
    const operation = document.paths![route.path]![route.method.toLowerCase() as 'get' | 'post']!;
    expect(Boolean(operation.requestBody)).toBe(Boolean(route.request));
  });

  it('documents the answers to unknown paths and wrong methods', () => {
    expect(documentedCodes(document.components?.responses?.NotFound)).toEqual(['not_found']);
    expect((document.components?.responses?.NotFound as oas31.ResponseObject).content?.['application/json']).toBeDefined();
    expect(documentedCodes(document.components?.responses?.MethodNotAllowed)).toEqual(['method_not_allowed']);
  });
});
