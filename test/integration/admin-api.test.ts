import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createServices } from '../../functions/composition.js';
import { LOCKOUT_THRESHOLD } from '../../functions/domain/lockout.js';
import type { LambdaHttpHandler } from '../../functions/http/lambda-handler.js';
import { UnauthorizedError } from '../../functions/http/problems.js';
import { operatorOf, type HttpEvent } from '../../functions/http/request.js';
import { routeById, type RouteId } from '../../functions/http/routes.js';
import { apiGatewayEvent, lambdaContext } from '../../harness/lambda-invoke.js';
import { DevIdentityProvider, LOCAL_ADMIN_AUDIENCE, LOCAL_ADMIN_PRINCIPAL } from '../../local/dev-identity-provider.js';
import { loadRouteHandlers, startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { snapshotTable } from '../support/table-snapshot.js';
import { createCheckedFetch } from '../support/api.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock, RecordingAuditLog } from '../support/fakes.js';
import { codeAt } from '../support/service.js';

let stack: LocalStack;
let dataDir: string;
const clock = new ManualClock();
const audit = new RecordingAuditLog();
/** Every response is checked against openapi.json; requests too, except where a test sends a bad one on purpose. */
const checkedFetch = createCheckedFetch();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mfa-admin-'));
  stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: `mfa-admin-${randomUUID()}`, overrides: { clock, audit } });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await checkedFetch(`${stack.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const adminToken = async () => (await api('POST', '/dev/admin-token', undefined, {})).json.token as string;
const userToken = async (sub: string) => (await api('POST', '/dev/token', undefined, { sub })).json.token as string;

/** A user with one authenticator app and 10 recovery codes. */
async function enrolledUser() {
  const sub = `user-${randomUUID()}`;
  const token = await userToken(sub);
  const { json: enrollment } = await api('POST', '/v1/mfa/totp/enrollment', token);
  const { json: confirmed } = await api('POST', '/v1/mfa/totp/enrollment/confirm', token, { code: codeAt(enrollment.secret, clock) });
  clock.advance(30_000);
  return { sub, token, secret: enrollment.secret as string, recoveryCodes: confirmed.recoveryCodes as string[] };
}

const adminPath = (sub: string, action?: 'reset' | 'unlock') => `/admin/v1/users/${encodeURIComponent(sub)}/mfa${action ? `/${action}` : ''}`;

describe('admin API (local stand-in for IAM)', () => {
  it("shows a user's authenticators, recovery codes left and lockout", async () => {
    const user = await enrolledUser();
    await api('POST', '/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes[0] });
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await api('POST', '/v1/mfa/verify', user.token, { code: '000000' });
    const { status, json } = await api('GET', adminPath(user.sub), await adminToken());
    expect(status).toBe(200);
    expect(json).toMatchObject({
      userId: user.sub,
      mfaEnabled: true,
      recoveryCodes: { remaining: 9 },
      authenticators: [{ kind: 'totp', name: 'Authenticator app' }],
      lock: { locked: true, failures: LOCKOUT_THRESHOLD, lockedUntil: new Date(clock.now() + 30_000).toISOString() },
    });
    expect(JSON.stringify(json)).not.toContain(user.secret);
  });

  it('unlocks: the lock goes, the factors stay, and the user can sign in at once', async () => {
    const user = await enrolledUser();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await api('POST', '/v1/mfa/verify', user.token, { code: '000000' });
    expect((await api('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, clock) })).status).toBe(429);
    const { status, json } = await api('POST', adminPath(user.sub, 'unlock'), await adminToken(), { reason: 'Ticket 17: locked out by a script' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ mfaEnabled: true, recoveryCodes: { remaining: 10 }, lock: { locked: false, failures: 0, lockedUntil: null } });
    expect((await api('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, clock) })).status).toBe(200);
  });

  it('resets: every factor, recovery code and pending setup goes; the user enrolls afresh and gets recovery codes again', async () => {
    const user = await enrolledUser();
    await api('POST', '/v1/mfa/totp/enrollment', user.token, { recoveryCode: user.recoveryCodes[1] });
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await api('POST', '/v1/mfa/verify', user.token, { code: '000000' });
    const { status, json } = await api('POST', adminPath(user.sub, 'reset'), await adminToken(), { reason: 'Ticket 18: lost phone and codes; identity checked' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ mfaEnabled: false, authenticators: [], recoveryCodes: { remaining: 0 }, lock: { locked: false, failures: 0, lockedUntil: null } });
    expect((await api('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, clock) })).json.code).toBe('mfa_not_enabled');
    expect((await api('POST', '/v1/mfa/totp/enrollment/confirm', user.token, { code: codeAt(user.secret, clock) })).json.code).toBe('enrollment_not_found');
    const { json: enrollment } = await api('POST', '/v1/mfa/totp/enrollment', user.token);
    const confirmed = await api('POST', '/v1/mfa/totp/enrollment/confirm', user.token, { code: codeAt(enrollment.secret, clock) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.recoveryCodes).toHaveLength(10);
  });

  it("audits every admin call with the operator's principal and reason", async () => {
    const user = await enrolledUser();
    const token = await adminToken();
    audit.events.length = 0;
    await api('GET', adminPath(user.sub), token);
    await api('POST', adminPath(user.sub, 'unlock'), token, { reason: 'Ticket 19' });
    await api('POST', adminPath(user.sub, 'reset'), token, { reason: 'Ticket 20' });
    await api('POST', adminPath('nobody-at-all', 'reset'), token, { reason: 'Ticket 21' });
    expect(audit.events.map(({ event, userId, outcome, reason, principal }) => ({ event, userId, outcome, reason, principal }))).toEqual([
      { event: 'mfa.admin.status', userId: user.sub, outcome: 'success', reason: undefined, principal: LOCAL_ADMIN_PRINCIPAL },
      { event: 'mfa.admin.unlock', userId: user.sub, outcome: 'success', reason: 'Ticket 19', principal: LOCAL_ADMIN_PRINCIPAL },
      { event: 'mfa.admin.reset', userId: user.sub, outcome: 'success', reason: 'Ticket 20', principal: LOCAL_ADMIN_PRINCIPAL },
      { event: 'mfa.admin.reset', userId: 'nobody-at-all', outcome: 'refused', reason: 'Ticket 21', principal: LOCAL_ADMIN_PRINCIPAL },
    ]);
  });

  it('answers 404 user_not_found for a user without MFA state', async () => {
    const token = await adminToken();
    for (const [method, path, body] of [
      ['GET', adminPath('ghost'), undefined],
      ['POST', adminPath('ghost', 'reset'), { reason: 'x' }],
      ['POST', adminPath('ghost', 'unlock'), { reason: 'x' }],
    ] as const) {
      const { status, json } = await api(method, path, token, body);
      expect(status, path).toBe(404);
      expect(json.code).toBe('user_not_found');
    }
  });

  it('needs a reason of 1-500 characters without control or format characters, and nothing else in the body', async () => {
    const user = await enrolledUser();
    const token = await adminToken();
    const raw = createCheckedFetch({ checkRequests: false });
    // Control characters (Cc) and format characters (Cf: U+202E right-to-left override, U+200B zero-width space) too.
    for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 42 }, { reason: 'ok', userId: 'someone-else' }, { reason: 'line\nbreak' }, { reason: 'Ticket 42 \u202Etxt.exe' }, { reason: 'Ticket\u200B42' }]) {
      const response = await raw(`${stack.url}${adminPath(user.sub, 'reset')}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await response.json()).code).toBe('invalid_request');
    }
    expect((await api('GET', adminPath(user.sub), token)).json.mfaEnabled).toBe(true);
    expect((await api('POST', adminPath(user.sub, 'unlock'), token, { reason: 'x'.repeat(500) })).status).toBe(200);
  });

  it("refuses a user's token on /admin and an operator token on /v1 (401), and no token at all", async () => {
    const user = await enrolledUser();
    expect((await api('GET', adminPath(user.sub), user.token)).status).toBe(401);
    expect((await api('POST', adminPath(user.sub, 'reset'), user.token, { reason: 'me' })).status).toBe(401);
    expect((await api('GET', adminPath(user.sub))).status).toBe(401);
    expect((await api('GET', '/v1/mfa', await adminToken())).status).toBe(401);
    expect((await api('GET', adminPath(user.sub), await adminToken())).json.mfaEnabled).toBe(true);
  });

  it('answers 403 forbidden, as openapi.json documents it, to a signed principal the local server does not name', async () => {
    const user = await enrolledUser();
    const now = Math.floor(Date.now() / 1000);
    const intern = 'arn:aws:iam::000000000000:user/intern';
    const token = await stack.identity.sign({ iss: stack.identity.issuer, aud: LOCAL_ADMIN_AUDIENCE, sub: intern, iat: now, exp: now + 600 });
    audit.events.length = 0;
    const { status, json } = await api('POST', adminPath(user.sub, 'reset'), token, { reason: 'Ticket 8' });
    expect(status).toBe(403);
    expect(json.code).toBe('forbidden');
    expect(audit.events.map(({ event, userId, principal }) => ({ event, userId, principal }))).toEqual([{ event: 'mfa.admin.refused', userId: user.sub, principal: intern }]);
    expect((await api('GET', adminPath(user.sub), await adminToken())).json.mfaEnabled).toBe(true);
  });

  it('hands out operator tokens only for an empty body', async () => {
    const raw = createCheckedFetch({ checkRequests: false });
    const response = await raw(`${stack.url}/dev/admin-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"root"}' });
    expect(response.status).toBe(400);
  });

  it('refuses an operator token that is expired, signed by another key, or names no principal', async () => {
    const user = await enrolledUser();
    const now = Math.floor(Date.now() / 1000);
    const otherDir = await mkdtemp(join(tmpdir(), 'mfa-admin-other-'));
    try {
      const forger = new DevIdentityProvider(otherDir, stack.identity.issuer, stack.identity.audience);
      const tokens = [
        await stack.identity.sign({ iss: stack.identity.issuer, aud: LOCAL_ADMIN_AUDIENCE, sub: LOCAL_ADMIN_PRINCIPAL, iat: now - 7200, exp: now - 3600 }),
        await forger.issueAdminToken(),
        await stack.identity.sign({ iss: stack.identity.issuer, aud: LOCAL_ADMIN_AUDIENCE, sub: 'root', iat: now, exp: now + 600 }),
        await stack.identity.sign({ iss: 'https://elsewhere.example', aud: LOCAL_ADMIN_AUDIENCE, sub: LOCAL_ADMIN_PRINCIPAL, iat: now, exp: now + 600 }),
      ];
      for (const token of tokens) expect((await api('POST', adminPath(user.sub, 'reset'), token, { reason: 'forged' })).status).toBe(401);
      expect((await api('GET', adminPath(user.sub), await adminToken())).json.mfaEnabled).toBe(true);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

describe('the operator of an IAM-authorised request', () => {
  const event = (authorizer: unknown) => ({ requestContext: { requestId: 'r-1', http: { sourceIp: '192.0.2.1' }, ...(authorizer ? { authorizer } : {}) } }) as unknown as HttpEvent;

  it("is the principal API Gateway's IAM authorizer verified", () => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/SupportRole/jane';
    expect(operatorOf(event({ iam: { userArn: arn, accessKey: 'ASIA...', accountId: '111122223333' } }))).toEqual({ principal: arn, audit: { requestId: 'r-1', sourceIp: '192.0.2.1' } });
  });

  it('is nobody without that authorizer: a JWT-authorised event, no authorizer, or no ARN answer 401', () => {
    for (const authorizer of [{ jwt: { claims: { sub: 'alice' }, scopes: [] } }, undefined, { iam: { userArn: '' } }, { iam: { userArn: 'alice' } }]) {
      expect(() => operatorOf(event(authorizer))).toThrow(UnauthorizedError);
    }
  });
});

/** What IAM hands the handlers in AWS: the principal whose SigV4 signature API Gateway's IAM authorizer verified. */
const ACCOUNT = '111122223333';
const SUPPORT_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Support_0123456789abcdef`;
const BREAK_GLASS_USER = `arn:aws:iam::${ACCOUNT}:user/break-glass`;
const SUPPORT_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Support_0123456789abcdef/jane@example.com`;
const UNLISTED = [
  // Administrators, CI and power users may hold execute-api:Invoke on the API: IAM lets them through, the handlers do not.
  `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_fedcba9876543210/mallory@example.com`,
  `arn:aws:sts::${ACCOUNT}:assumed-role/ci-deploy/build-4711`,
  `arn:aws:iam::${ACCOUNT}:user/ci`,
  // The support role's name in another account, and a session named like the role.
  `arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_Support_0123456789abcdef/jane@example.com`,
  `arn:aws:sts::${ACCOUNT}:assumed-role/Other/AWSReservedSSO_Support_0123456789abcdef`,
];

describe('admin routes in Lambda (payload 2.0 events from the IAM authorizer)', () => {
  const handlers = new Map<string, LambdaHttpHandler>();
  let dynamoDb: DynamoDBClient;
  beforeAll(async () => {
    dynamoDb = new DynamoDBClient({ endpoint: testDynamoDbEndpoint() });
    // The admin functions' environment as the stack sets it (MFA_ADAPTERS=aws, no KMS: the admin routes need none).
    const env: NodeJS.ProcessEnv = {
      MFA_ADAPTERS: 'aws',
      MFA_TABLE_NAME: stack.tableName,
      DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
      MFA_ISSUER: 'https://mfa.example.com',
      MFA_WEBAUTHN_RP_ID: 'mfa.example.com',
      MFA_WEBAUTHN_ORIGINS: 'https://mfa.example.com',
      MFA_ADMIN_PRINCIPAL_ARNS: `${SUPPORT_ROLE},${BREAK_GLASS_USER}`,
    };
    const modules = await loadRouteHandlers();
    for (const id of ['adminGetMfaStatus', 'adminResetMfa', 'adminUnlockMfa'] as const) {
      const module = modules.get(id)!;
      handlers.set(id, module.withServices(createServices(routeById(id), env, { clock, audit }, { ports: module.ports, clients: { dynamoDb } })));
    }
  });
  afterAll(() => dynamoDb?.destroy());

  async function invoke(id: RouteId, operatorArn: string, userId: string, body?: unknown) {
    const route = routeById(id);
    const result = await handlers.get(id)!(apiGatewayEvent(route, { operatorArn, pathParameters: { userId }, ...(body === undefined ? {} : { body }) }), lambdaContext(route));
    return { status: result.statusCode, json: result.body ? JSON.parse(result.body) : undefined };
  }

  it('refuses every principal the deployment does not name (403 forbidden), audited with the principal, and changes nothing', async () => {
    const user = await enrolledUser();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await api('POST', '/v1/mfa/verify', user.token, { code: '000000' });
    const before = await snapshotTable(dynamoDb, stack.tableName);
    audit.events.length = 0;
    for (const principal of UNLISTED) {
      for (const [id, body] of [
        ['adminGetMfaStatus', undefined],
        ['adminUnlockMfa', { reason: 'Ticket 1' }],
        ['adminResetMfa', { reason: 'Ticket 2' }],
        // Refused before the body is read: a bad body from an unnamed principal is still 403.
        ['adminResetMfa', { reason: '' }],
      ] as const) {
        const { status, json } = await invoke(id, principal, user.sub, body);
        expect(status, `${id} by ${principal}`).toBe(403);
        expect(json).toMatchObject({ status: 403, code: 'forbidden' });
        expect(JSON.stringify(json)).not.toContain(user.sub);
      }
    }
    expect(await snapshotTable(dynamoDb, stack.tableName)).toBe(before);
    expect(audit.events.map(({ event, userId, outcome, principal }) => ({ event, userId, outcome, principal }))).toEqual(
      UNLISTED.flatMap((principal) => Array.from({ length: 4 }, () => ({ event: 'mfa.admin.refused', userId: user.sub, outcome: 'refused', principal }))),
    );
  });

  it('admits a session of a named role (compared by role, whatever its path) and a named user', async () => {
    const user = await enrolledUser();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await api('POST', '/v1/mfa/verify', user.token, { code: '000000' });
    audit.events.length = 0;
    const status = await invoke('adminGetMfaStatus', SUPPORT_SESSION, user.sub);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ userId: user.sub, mfaEnabled: true, lock: { locked: true } });
    const unlocked = await invoke('adminUnlockMfa', SUPPORT_SESSION, user.sub, { reason: 'Ticket 3: locked out by a script' });
    expect(unlocked.status).toBe(200);
    expect(unlocked.json.lock).toEqual({ locked: false, failures: 0, lockedUntil: null });
    expect((await invoke('adminGetMfaStatus', BREAK_GLASS_USER, user.sub)).status).toBe(200);
    expect(audit.events.map(({ event, outcome, principal }) => ({ event, outcome, principal }))).toEqual([
      { event: 'mfa.admin.status', outcome: 'success', principal: SUPPORT_SESSION },
      { event: 'mfa.admin.unlock', outcome: 'success', principal: SUPPORT_SESSION },
      { event: 'mfa.admin.status', outcome: 'success', principal: BREAK_GLASS_USER },
    ]);
  });

  it('refuses a reason or a user id with control or format characters (U+202E) with 400 invalid_request, and changes nothing', async () => {
    const user = await enrolledUser();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await api('POST', '/v1/mfa/verify', user.token, { code: '000000' });
    const before = await snapshotTable(dynamoDb, stack.tableName);
    audit.events.length = 0;
    for (const [id, userId, body] of [
      ['adminResetMfa', user.sub, { reason: 'Ticket 4 \u202Eredro rengis' }],
      ['adminUnlockMfa', user.sub, { reason: '\u2066Ticket 5\u2069' }],
      ['adminResetMfa', `${user.sub}\u202E`, { reason: 'Ticket 6' }],
      ['adminUnlockMfa', `\u200B${user.sub}`, { reason: 'Ticket 7' }],
      ['adminGetMfaStatus', `${user.sub}\u0007`, undefined],
    ] as const) {
      const { status, json } = await invoke(id, SUPPORT_SESSION, userId, body);
      expect(status, `${id} ${JSON.stringify({ userId, body })}`).toBe(400);
      expect(json.code).toBe('invalid_request');
    }
    expect(await snapshotTable(dynamoDb, stack.tableName)).toBe(before);
    expect(audit.events).toEqual([]);
    expect((await invoke('adminGetMfaStatus', SUPPORT_SESSION, user.sub)).json.lock.locked).toBe(true);
  });
});
