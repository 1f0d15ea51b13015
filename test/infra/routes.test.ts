import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/http/routes.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { resources, SKIP_BUNDLING, synthesize } from './synth.js';

const routeKeys = (routes: readonly { method: string; path: string }[]) => routes.map((route) => `${route.method} ${route.path}`).sort();

let local: LocalStack;
let stackRouteKeys: string[];
let dataDir: string;

beforeAll(async () => {
  const synth = synthesize({ context: SKIP_BUNDLING });
  stackRouteKeys = resources(synth, 'AWS::ApiGatewayV2::Route').map(([, route]) => String(route.Properties!.RouteKey)).sort();
  dataDir = mkdtempSync(join(tmpdir(), 'mfa-routes-'));
  local = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint() });
});

afterAll(async () => {
  await local?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** What the local server does with a request: the status, and whether it matched no route at all. */
async function probe(method: string, path: string, body = '{}'): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${local.url}${path}`, {
    method,
    ...(method === 'POST' ? { headers: { 'Content-Type': 'application/json' }, body } : {}),
  });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code };
}

describe('the route table, the local server and the stack', () => {
  it('the stack deploys exactly the routes of the route table', () => {
    expect(stackRouteKeys).toEqual(routeKeys(ROUTES));
  });

  it('the local server serves every route of the route table, guarded as the stack guards it', async () => {
    for (const route of ROUTES) {
      const { status } = await probe(route.method, route.path);
      // No token: a first-factor route answers 401 as the JWT authorizer would; an IAM route (no
      // SigV4 signature) is refused, as API Gateway's IAM authorizer refuses it (403); a public route answers.
      const expected = route.auth === 'public' ? [200] : route.auth === 'first-factor' ? [401] : [401, 403];
      expect(expected, `${route.method} ${route.path} answered ${status}`).toContain(status);
    }
  });

  it('the local server serves no other API route than the table lists', async () => {
    const paths = [...new Set(ROUTES.map((route) => route.path))];
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
        if (ROUTES.some((route) => route.path === path && route.method === method)) continue;
        expect((await probe(method, path)).status, `${method} ${path}`).toBe(405);
      }
    }
    for (const path of ['/v1/mfa/unknown', '/v1', '/.well-known/unknown']) {
      expect((await probe('GET', path)).status, path).toBe(404);
    }
  });

  it('local-only routes (dev tokens) exist locally and are not deployed', async () => {
    expect((await probe('POST', '/dev/token', '{"sub":"route-test"}')).status).toBe(200);
    expect(stackRouteKeys.filter((key) => / \/dev\//.test(key))).toEqual([]);
  });
});
