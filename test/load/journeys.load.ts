import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepAt } from '../../functions/methods/totp/totp.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import type { RawResponse } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';
import { storedApps } from '../support/table-snapshot.js';

/** LOAD_USERS overrides the count, for quick runs (such as checking that a broken build fails it). */
const USERS = Number(process.env.LOAD_USERS ?? 200);
/**
 * Requests in flight at once. Every journey runs concurrently, but the whole stack shares one
 * process on two cores here, where Lambda gives each invocation its own: the client keeps the
 * queue in front of the CPU rather than inside the functions' 10 s budget.
 */
const IN_FLIGHT = 4;

let h: HardeningStack;
let jwks: ReturnType<typeof createLocalJWKSet>;
const latencies = new Map<string, number[]>();
const statuses = new Map<number, number>();
const violations: string[] = [];

beforeAll(async () => {
  h = await startHardeningStack();
  jwks = createLocalJWKSet((await h.call('GET', '/.well-known/jwks.json')).json);
});
afterAll(() => h?.stop());

/** A counting semaphore: at most IN_FLIGHT requests at a time, in arrival order. */
let inFlight = 0;
const waiting: Array<() => void> = [];
async function limited<T>(run: () => Promise<T>): Promise<T> {
  if (inFlight >= IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight += 1;
  try {
    return await run();
  } finally {
    inFlight -= 1;
    waiting.shift()?.();
  }
}

async function call(label: string, method: string, path: string, token: string, body?: unknown): Promise<RawResponse> {
  return limited(async () => {
    const started = performance.now();
    const response = await h.call(method, path, token, body);
    latencies.set(label, [...(latencies.get(label) ?? []), performance.now() - started]);
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    return response;
  });
}

/** The whole journey of one user; every unexpected answer is a violation. Even users end with TOTP disabled. */
async function journey(index: number): Promise<{ sub: string; disables: boolean }> {
  const sub = `load-${index}-${randomUUID()}`;
  const disables = index % 2 === 0;
  const token = await h.token(sub);
  const expect = (step: string, response: RawResponse, status: number, check: (json: any) => boolean = () => true) => {
    if (response.status !== status || !check(response.json)) violations.push(`${sub} ${step}: ${response.status} ${response.text.slice(0, 160)}`);
    return response.json;
  };

  expect('status before', await call('status', 'GET', '/v1/mfa', token), 200, (json) => json.mfaEnabled === false);
  const { secret } = expect('enroll', await call('enroll', 'POST', '/v1/mfa/totp/enrollment', token), 201);
  const confirmed = expect('confirm', await call('confirm', 'POST', '/v1/mfa/totp/enrollment/confirm', token, { code: codeAt(secret, h.clock, -1) }), 200, (json) => json.recoveryCodes?.length === 10);
  const code = codeAt(secret, h.clock);
  const verified = expect('verify totp', await call('verify', 'POST', '/v1/mfa/verify', token, { code }), 200, (json) => json.recoveryCodesRemaining === 10);
  if (verified?.assertion) {
    const { payload } = await jwtVerify(verified.assertion, jwks, { issuer: h.stack.url, currentDate: new Date(h.clock.now()) });
    if (payload.sub !== sub) violations.push(`${sub}: assertion for ${payload.sub}`);
  }
  expect('replay refused', await call('verify', 'POST', '/v1/mfa/verify', token, { code }), 400, (json) => json.code === 'invalid_code');
  expect('verify recovery code', await call('verify', 'POST', '/v1/mfa/verify', token, { recoveryCode: confirmed?.recoveryCodes?.[0] }), 200, (json) => json.recoveryCodesRemaining === 9);
  const regenerated = expect('regenerate', await call('regenerate', 'POST', '/v1/mfa/recovery-codes', token, { code: codeAt(secret, h.clock, 1) }), 200, (json) => json.recoveryCodes?.length === 10);
  expect('verify new recovery code', await call('verify', 'POST', '/v1/mfa/verify', token, { recoveryCode: regenerated?.recoveryCodes?.[0] }), 200, (json) => json.recoveryCodesRemaining === 9);
  if (disables) {
    expect('disable', await call('disable', 'POST', '/v1/mfa/totp/disable', token, { recoveryCode: regenerated?.recoveryCodes?.[1] }), 200);
  }
  expect('status after', await call('status', 'GET', '/v1/mfa', token), 200, (json) =>
    disables ? json.mfaEnabled === false && json.recoveryCodes.remaining === 0 : json.mfaEnabled === true && json.recoveryCodes.remaining === 9,
  );
  return { sub, disables };
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

describe(`load: ${USERS} users run the whole journey concurrently against the local stack`, () => {
  it('answers no 5xx, loses or duplicates no state, and leaves every user in the state their journey ends in', async () => {
    const started = performance.now();
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => journey(i)));
    const seconds = (performance.now() - started) / 1000;

    const requests = [...statuses.values()].reduce((sum, n) => sum + n, 0);
    const table = [...latencies.entries()].map(([label, values]) =>
      `${label.padEnd(11)} n=${String(values.length).padStart(4)}  p50=${percentile(values, 50).toFixed(0).padStart(5)} ms  p95=${percentile(values, 95).toFixed(0).padStart(5)} ms  max=${Math.max(...values).toFixed(0).padStart(5)} ms`,
    );
    console.info(
      [`load: ${USERS} users, ${requests} requests in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(1)} req/s, ${IN_FLIGHT} in flight)`, `statuses: ${JSON.stringify(Object.fromEntries(statuses))}`, ...table].join('\n'),
    );

    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(violations).toEqual([]);

    // Stored state, item by item: exactly one item per user, each exactly what its journey leaves.
    const { Items: items = [] } = await h.client.send(new ScanCommand({ TableName: h.tableName, ConsistentRead: true }));
    const bySub = new Map(items.map((item) => [item.pk!.S!.replace(/^USER#/, ''), item]));
    expect(items).toHaveLength(USERS);
    const lastStep = stepAt(h.clock.now()) + 1;
    for (const { sub, disables } of users) {
      const item = bySub.get(sub);
      const state = {
        totp: storedApps(item).length === 1,
        codes: item?.recoveryCodes?.SS?.length ?? 0,
        lastStep: storedApps(item)[0]?.lastStep,
        pending: Object.keys(item?.pendingEnrollments?.M ?? {}).length > 0,
        failures: item?.failures?.N,
        locked: item?.lockedUntil !== undefined,
      };
      expect(state, sub).toEqual(
        disables
          ? { totp: false, codes: 0, lastStep: undefined, pending: false, failures: '0', locked: false }
          : { totp: true, codes: 9, lastStep, pending: false, failures: '0', locked: false },
      );
    }
  });
});
