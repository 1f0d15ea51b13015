import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledCheckOf } from '../../functions/http/precompiled-schema.js';
import { inputSchemasOf, routeById, ROUTES } from '../../functions/http/routes.js';
import { precompilable } from '../../lib/precompiled-schemas.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { createCheckedFetch } from '../support/api.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock } from '../support/fakes.js';
import { decodeQrDataUrl } from '../support/qr.js';
import { codeAt } from '../support/service.js';

let stack: LocalStack;
let dataDir: string;
const tableName = `mfa-http-${randomUUID()}`;
const clock = new ManualClock();
/** Every response is also checked against openapi.json: an undocumented status or field fails the test. */
const checkedFetch = createCheckedFetch();

async function start() {
  return startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName, overrides: { clock } });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mfa-http-'));
  stack = await start();
});
afterAll(() => stack?.stop());

async function api(method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await checkedFetch(`${stack.url}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

async function tokenFor(sub: string, email?: string): Promise<string> {
  const { status, json } = await api('POST', '/dev/token', { body: { sub, ...(email ? { email } : {}) } });
  expect(status).toBe(200);
  return json.token;
}

function expectProblem(result: Awaited<ReturnType<typeof api>>, status: number, code: string) {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.json).toEqual({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String), code });
}

describe('local server: the HTTP contract', () => {
  it('publishes the openid-configuration and the JWKS without a token', async () => {
    const config = await api('GET', '/.well-known/openid-configuration');
    expect(config.status).toBe(200);
    expect(config.json).toMatchObject({ issuer: stack.url, jwks_uri: `${stack.url}/.well-known/jwks.json` });
    const jwks = await api('GET', '/.well-known/jwks.json');
    expect(jwks.json.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256' })]);
    expect(jwks.json.keys[0]).not.toHaveProperty('d');
  });

  it('runs the whole journey: enroll, confirm, verify with a code and a recovery code, regenerate, disable', async () => {
    const token = await tokenFor(`journey-${randomUUID()}`, 'journey@example.com');
    expect((await api('GET', '/v1/mfa', { token })).json).toEqual({
      mfaEnabled: false,
      methods: { totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
      recoveryCodes: { remaining: 0 },
      authenticators: [],
      devices: [],
    });

    const enrollment = await api('POST', '/v1/mfa/totp/enrollment', { token });
    expect(enrollment.status).toBe(201);
    expect(enrollment.json.otpauthUri).toContain('journey%40example.com');
    expect(decodeQrDataUrl(enrollment.json.qrCode)).toBe(enrollment.json.otpauthUri);
    expect(enrollment.headers.get('cache-control')).toBe('no-store');
    const secret: string = enrollment.json.secret;

    const confirmed = await api('POST', '/v1/mfa/totp/enrollment/confirm', { token, body: { code: codeAt(secret, clock) } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toMatchObject({ enabled: true, reauthenticate: true });
    const recoveryCodes: string[] = confirmed.json.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);

    clock.advance(30_000);
    const verified = await api('POST', '/v1/mfa/verify', { token, body: { code: codeAt(secret, clock) } });
    expect(verified.status).toBe(200);
    expect(verified.json).toMatchObject({ method: 'totp', recoveryCodesRemaining: 10 });
    const jwks = createLocalJWKSet((await api('GET', '/.well-known/jwks.json')).json);
    const { payload } = await jwtVerify(verified.json.assertion, jwks, { issuer: stack.url, currentDate: new Date(clock.now()) });
    expect(payload.amr).toEqual(['mfa', 'otp']);

    const replay = await api('POST', '/v1/mfa/verify', { token, body: { code: codeAt(secret, clock) } });
    expectProblem(replay, 400, 'invalid_code');

    const byRecovery = await api('POST', '/v1/mfa/verify', { token, body: { recoveryCode: recoveryCodes[0] } });
    expect(byRecovery.json).toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 9 });

    clock.advance(30_000);
    const regenerated = await api('POST', '/v1/mfa/recovery-codes', { token, body: { code: codeAt(secret, clock) } });
    expect(regenerated.status).toBe(200);
    expect(regenerated.json.recoveryCodes).toHaveLength(10);
    expectProblem(await api('POST', '/v1/mfa/verify', { token, body: { recoveryCode: recoveryCodes[1] } }), 400, 'invalid_code');

    const disabled = await api('POST', '/v1/mfa/totp/disable', { token, body: { recoveryCode: regenerated.json.recoveryCodes[0] } });
    expect(disabled.json).toEqual({ mfaEnabled: false });
    expectProblem(await api('POST', '/v1/mfa/verify', { token, body: { code: '123456' } }), 409, 'mfa_not_enabled');
  });

  it('answers 401 unauthorized without a valid first-factor token, before touching anything', async () => {
    expectProblem(await api('GET', '/v1/mfa'), 401, 'unauthorized');
    expectProblem(await api('GET', '/v1/mfa', { token: 'not.a.jwt' }), 401, 'unauthorized');
    const token = await tokenFor('someone');
    const tampered = `${token.slice(0, -4)}AAAA`;
    expectProblem(await api('POST', '/v1/mfa/totp/enrollment', { token: tampered }), 401, 'unauthorized');
    const expired = await stack.identity.issueToken({ sub: 'someone' }, Date.now() - 2 * 3600_000);
    expectProblem(await api('GET', '/v1/mfa', { token: expired }), 401, 'unauthorized');
    expect((await api('GET', '/v1/mfa')).headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses malformed input with 400 invalid_request and the right statuses for size, type, route and method', async () => {
    const token = await tokenFor(`bad-input-${randomUUID()}`);
    expectProblem(await api('POST', '/v1/mfa/verify', { token, raw: '{"code":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');
    expectProblem(await api('POST', '/v1/mfa/verify', { token, body: { code: 123456 } }), 400, 'invalid_request');
    expectProblem(await api('POST', '/v1/mfa/verify', { token, body: { code: '123456', recoveryCode: 'AAAA-AAAA-AAAA-AAAA' } }), 400, 'invalid_request');
    expectProblem(await api('POST', '/v1/mfa/verify', { token, body: {} }), 400, 'invalid_request');
    expectProblem(await api('POST', '/v1/mfa/totp/enrollment', { token, body: { userId: 'someone-else' } }), 400, 'invalid_request');
    expectProblem(await api('POST', '/v1/mfa/verify', { token, raw: '{"code":"123456"}', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    expectProblem(await api('POST', '/v1/mfa/verify', { token, body: { code: 'x'.repeat(20_000) } }), 413, 'payload_too_large');
    expectProblem(await api('GET', '/v1/nothing-here', { token }), 404, 'not_found');
    const wrongMethod = await api('DELETE', '/v1/mfa', { token });
    expectProblem(wrongMethod, 405, 'method_not_allowed');
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    const invalid = await api('POST', '/v1/mfa/verify', { token, body: { code: 5 } });
    expect(invalid.json.detail).not.toContain('5');
  });

  it('validates request bodies and path parameters with the checks the Lambda bundles carry, compiled from the same schemas', () => {
    const schemas = ROUTES.flatMap(inputSchemasOf);
    expect(schemas.length).toBeGreaterThan(10);
    for (const schema of schemas) expect(compiledCheckOf(schema) !== undefined, String(schema.description ?? schema.constructor.name)).toBe(precompilable(schema));
    expect(compiledCheckOf(routeById('verifyMfa').request)).toBeDefined();
  });

  it('answers 429 with Retry-After during a lockout', async () => {
    const token = await tokenFor(`locked-${randomUUID()}`);
    const { json } = await api('POST', '/v1/mfa/totp/enrollment', { token });
    await api('POST', '/v1/mfa/totp/enrollment/confirm', { token, body: { code: codeAt(json.secret, clock) } });
    for (let i = 0; i < 5; i++) expectProblem(await api('POST', '/v1/mfa/verify', { token, body: { code: '000000' } }), 400, 'invalid_code');
    clock.advance(30_000);
    clock.advance(-10_000);
    const locked = await api('POST', '/v1/mfa/verify', { token, body: { code: codeAt(json.secret, clock) } });
    expectProblem(locked, 429, 'too_many_attempts');
    expect(locked.headers.get('retry-after')).toBe('10');
    clock.advance(10_000);
  });

  it("keeps users apart: one user's token never reads or changes another's state", async () => {
    const alice = await tokenFor(`alice-${randomUUID()}`);
    const bob = await tokenFor(`bob-${randomUUID()}`);
    const { json } = await api('POST', '/v1/mfa/totp/enrollment', { token: alice });
    await api('POST', '/v1/mfa/totp/enrollment/confirm', { token: alice, body: { code: codeAt(json.secret, clock) } });
    expect((await api('GET', '/v1/mfa', { token: bob })).json.mfaEnabled).toBe(false);
    clock.advance(30_000);
    expectProblem(await api('POST', '/v1/mfa/totp/disable', { token: bob, body: { code: codeAt(json.secret, clock) } }), 409, 'mfa_not_enabled');
    expect((await api('GET', '/v1/mfa', { token: alice })).json.mfaEnabled).toBe(true);
  });

  it('loses nothing across a restart: tokens, secrets, recovery codes and keys survive', async () => {
    const sub = `restart-${randomUUID()}`;
    const token = await tokenFor(sub);
    const { json } = await api('POST', '/v1/mfa/totp/enrollment', { token });
    const confirmed = await api('POST', '/v1/mfa/totp/enrollment/confirm', { token, body: { code: codeAt(json.secret, clock) } });
    const jwksBefore = (await api('GET', '/.well-known/jwks.json')).json;

    const port = stack.port;
    await stack.stop();
    stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName, overrides: { clock }, port });

    expect((await api('GET', '/.well-known/jwks.json')).json).toEqual(jwksBefore);
    expect((await api('GET', '/v1/mfa', { token })).json).toMatchObject({ mfaEnabled: true, recoveryCodes: { remaining: 10 } });
    clock.advance(30_000);
    expect((await api('POST', '/v1/mfa/verify', { token, body: { code: codeAt(json.secret, clock) } })).status).toBe(200);
    expect((await api('POST', '/v1/mfa/verify', { token, body: { recoveryCode: confirmed.json.recoveryCodes[0] } })).status).toBe(200);
  });
});
