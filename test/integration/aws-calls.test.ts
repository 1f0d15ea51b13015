import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeById } from '../../functions/http/routes.js';
import { loadRouteHandlers } from '../../local/local-stack.js';
import { iamActionsOf, measureAwsCalls, MINIMUM_AWS_CALLS, type AwsCall, type ScenarioName } from '../../harness/aws-calls.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';

const SCENARIOS = Object.keys(MINIMUM_AWS_CALLS) as ScenarioName[];

describe('AWS calls per operation (real AWS adapters, SDK calls counted by middleware)', () => {
  let measured: Record<ScenarioName, AwsCall[]>;
  beforeAll(async () => {
    measured = await measureAwsCalls({ dynamoDbEndpoint: testDynamoDbEndpoint() });
  });

  it.each(SCENARIOS)('%s makes exactly the minimum calls, in order', (name) => {
    expect(measured[name]).toEqual(MINIMUM_AWS_CALLS[name].calls);
  });

  it.each(SCENARIOS)('%s calls only what its route is granted', (name) => {
    const { access } = routeById(MINIMUM_AWS_CALLS[name].route);
    const granted: string[] = [...access.table, ...access.secretKey, ...access.signingKey, ...access.mail];
    for (const call of measured[name]) for (const action of iamActionsOf(call)) expect(granted).toContain(action);
  });

  it("is what docs/benchmarks.md prices the trail's data events from: one event per table write of a sign-in", () => {
    const doc = readFileSync(new URL('../../docs/benchmarks.md', import.meta.url), 'utf8');
    const TABLE_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:TransactWriteItems', 'dynamodb:BatchWriteItem'];
    for (const [method, scenario] of [
      ['TOTP', 'verifyMfa (TOTP)'],
      ['Recovery code', 'verifyMfa (recovery code)'],
    ] as const) {
      const writes = measured[scenario].filter((call) => TABLE_WRITES.includes(call)).length;
      const row = new RegExp(`^\\| ${method} \\| (\\d+) \\| (\\d+\\.\\d\\d) \\| (0\\.\\d+) \\|`, 'm').exec(doc);
      expect(row, method).not.toBeNull();
      expect(Number(row![1]), method).toBe(writes);
      // $0.10 per 100,000 events: per million verifications, and per user signing in 30 times a month.
      expect(Number(row![2]), method).toBeCloseTo(writes * 1_000_000 * (0.1 / 100_000), 2);
      expect(Number(row![3]), method).toBeCloseTo(writes * 30 * (0.1 / 100_000), 6);
    }
  });

  it('covers every route', () => {
    const covered = new Set(SCENARIOS.map((name) => MINIMUM_AWS_CALLS[name].route));
    expect([...covered].sort()).toEqual(ROUTES.map((route) => route.id).sort());
  });
});

describe('handler wiring', () => {
  it('wires exactly the ports its route is granted, so no other SDK client is in its bundle', async () => {
    const modules = await loadRouteHandlers();
    for (const route of ROUTES) {
      const granted = (['table', 'secretKey', 'signingKey', 'mail'] as const).filter((key) => route.access[key].length > 0);
      expect(Object.keys(modules.get(route.id)!.ports).sort(), route.id).toEqual([...granted].sort());
    }
  });
});
