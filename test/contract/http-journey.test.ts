import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MfaProblemError, type MfaClient } from '../../client/index.js';
import { TOTP_PERIOD_SECONDS } from '../../functions/methods/totp/totp.js';
import { LOCKOUT_THRESHOLD, BASE_LOCKOUT_MS } from '../../functions/domain/lockout.js';
import type { MfaStore } from '../../functions/ports/mfa-store.js';
import { LOCAL_APP_AUDIENCE, startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { checkedRequest, createCheckedClient } from '../support/api.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock } from '../support/fakes.js';
import { codeAt } from '../support/service.js';

/**
 * The whole API through the typed client, as an integrator's web client uses it, against the
 * local stack. Every request and response is checked against openapi.json (test/support/api.ts),
 * so an undocumented status, field or header fails here even where no assertion looks at it.
 */
const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
const clock = new ManualClock();
let stack: LocalStack;

async function signedInClient(name: string): Promise<MfaClient> {
  const { token } = await createCheckedClient(stack.url).createDevToken({ sub: `${name}-${randomUUID()}`, email: `${name}@example.com` });
  return createCheckedClient(stack.url, () => token);
}

function problemOf(promise: Promise<unknown>): Promise<MfaProblemError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a problem, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => {
      if (!(error instanceof MfaProblemError)) throw error;
      return error;
    },
  );
}

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: await mkdtemp(join(tmpdir(), 'mfa-contract-')),
    dynamoDbEndpoint: testDynamoDbEndpoint(),
    tableName: `mfa-contract-${randomUUID()}`,
    overrides: { clock },
  });
});
afterAll(() => stack?.stop());

describe('HTTP journey through the checked typed client', () => {
  it('publishes the discovery document and the signing keys without a token', async () => {
    const anonymous = createCheckedClient(stack.url);
    const configuration = await anonymous.getOpenIdConfiguration();
    expect(configuration).toMatchObject({ issuer: stack.url, jwks_uri: `${stack.url}/.well-known/jwks.json` });
    expect((await anonymous.getJwks()).keys).toHaveLength(1);
  });

  it('answers 401 unauthorized on /v1 without a first-factor token', async () => {
    const problem = await problemOf(createCheckedClient(stack.url).getMfaStatus());
    expect(problem).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('enrolls, verifies with a TOTP and a recovery code, regenerates the codes and disables TOTP', async () => {
    const client = await signedInClient('alice');
    expect(await client.getMfaStatus()).toMatchObject({ mfaEnabled: false, recoveryCodes: { remaining: 0 } });
    expect(await problemOf(client.verifyMfa({ code: '000000' }))).toMatchObject({ status: 409, code: 'mfa_not_enabled' });
    expect(await problemOf(client.confirmTotpEnrollment({ code: '000000' }))).toMatchObject({ status: 404, code: 'enrollment_not_found' });

    const enrollment = await client.startTotpEnrollment();
    expect(enrollment.otpauthUri).toContain(`secret=${enrollment.secret}`);
    expect(await problemOf(client.confirmTotpEnrollment({ code: wrongCode(codeAt(enrollment.secret, clock)) }))).toMatchObject({
      status: 400,
      code: 'invalid_code',
    });
    const confirmed = await client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    expect(confirmed.recoveryCodes).toHaveLength(10);
    expect(await problemOf(client.startTotpEnrollment())).toMatchObject({ status: 409, code: 'totp_already_enabled' });

    clock.advance(STEP_MS);
    const verified = await client.verifyMfa({ code: codeAt(enrollment.secret, clock) });
    expect(verified).toMatchObject({ method: 'totp', recoveryCodesRemaining: 10 });
    const { keys } = await client.getJwks();
    const { payload } = await jwtVerify(verified.assertion, createLocalJWKSet({ keys }), {
      issuer: stack.url,
      audience: LOCAL_APP_AUDIENCE,
      currentDate: new Date(clock.now()),
    });
    expect(payload.amr).toEqual(['mfa', 'otp']);

    const byRecoveryCode = await client.verifyMfa({ recoveryCode: confirmed.recoveryCodes![0]! });
    expect(byRecoveryCode).toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 9 });

    clock.advance(STEP_MS);
    const regenerated = await client.regenerateRecoveryCodes({ code: codeAt(enrollment.secret, clock) });
    expect(regenerated.recoveryCodes).toHaveLength(10);
    expect(await client.getMfaStatus()).toMatchObject({ mfaEnabled: true, recoveryCodes: { remaining: 10 } });

    clock.advance(STEP_MS);
    expect(await client.disableTotp({ recoveryCode: regenerated.recoveryCodes[3]! })).toEqual({ mfaEnabled: false });
    expect(await client.getMfaStatus()).toMatchObject({ mfaEnabled: false, methods: { totp: { enabled: false } }, recoveryCodes: { remaining: 0 } });
  });

  it('locks out after repeated wrong codes: 429 too_many_attempts with Retry-After in seconds', async () => {
    const client = await signedInClient('mallory');
    const enrollment = await client.startTotpEnrollment();
    const wrong = wrongCode(codeAt(enrollment.secret, clock));
    for (let attempt = 1; attempt <= LOCKOUT_THRESHOLD; attempt++) {
      expect(await problemOf(client.confirmTotpEnrollment({ code: wrong })), `attempt ${attempt}`).toMatchObject({ code: 'invalid_code' });
    }
    const locked = await problemOf(client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) }));
    expect(locked).toMatchObject({ status: 429, code: 'too_many_attempts', retryAfter: BASE_LOCKOUT_MS / 1000 });
  });

  it('answers malformed requests, unknown paths and wrong methods with their documented problems', async () => {
    const { token } = await createCheckedClient(stack.url).createDevToken({ sub: `bob-${randomUUID()}` });
    const auth = { authorization: `Bearer ${token}` };
    const post = (path: string, headers: Record<string, string>, body: string) => checkedRequest(stack.url, path, { method: 'POST', headers: { ...auth, ...headers }, body });

    const invalid = await post('/v1/mfa/verify', { 'content-type': 'application/json' }, '{"code": 123456}');
    expect([invalid.status, (await invalid.json()).code]).toEqual([400, 'invalid_request']);
    const notJson = await post('/v1/mfa/verify', { 'content-type': 'text/plain' }, '123456');
    expect([notJson.status, (await notJson.json()).code]).toEqual([415, 'unsupported_media_type']);
    const tooLarge = await post('/v1/mfa/verify', { 'content-type': 'application/json' }, JSON.stringify({ code: 'x'.repeat(17 * 1024) }));
    expect([tooLarge.status, (await tooLarge.json()).code]).toEqual([413, 'payload_too_large']);
    const badDevToken = await checkedRequest(stack.url, '/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub": ""}' });
    expect([badDevToken.status, (await badDevToken.json()).code]).toEqual([400, 'invalid_request']);

    const unknown = await checkedRequest(stack.url, '/v1/nothing', { headers: auth });
    expect([unknown.status, (await unknown.json()).code]).toEqual([404, 'not_found']);
    const wrongMethod = await checkedRequest(stack.url, '/v1/mfa', { method: 'DELETE', headers: auth });
    expect([wrongMethod.status, wrongMethod.headers.get('allow'), (await wrongMethod.json()).code]).toEqual([405, 'GET', 'method_not_allowed']);
  });
});

describe('HTTP journey when storage fails', () => {
  let failure: Error;
  let failing: LocalStack;
  const fail = () => Promise.reject(failure);
  const failingStore: MfaStore = {
    get: fail,
    countQuietAttempt: fail,
    countDecidedAttempt: fail,
    refundCodeAttempt: fail,
    chargeCodeChecks: fail,
    changeSession: fail,
    confirmLockout: fail,
    reportCeiling: fail,
    commitProof: fail,
    putPendingEnrollment: fail,
    putRegistration: fail,
    recordKeyChallenge: fail,
    putDeviceChallenge: fail,
    forgetDevices: fail,
    addRegisteredKey: fail,
    renameAuthenticator: fail,
    resetMfa: fail,
    clearLock: fail,
    migrateLegacy: fail,
    countEmailSend: fail,
    refundEmailSend: fail,
    putEmailCode: fail,
    recordEvents: fail,
  };

  beforeAll(async () => {
    failing = await startLocalStack({
      dataDir: await mkdtemp(join(tmpdir(), 'mfa-contract-failing-')),
      dynamoDbEndpoint: testDynamoDbEndpoint(),
      tableName: `mfa-contract-failing-${randomUUID()}`,
      overrides: { clock, store: failingStore },
    });
  });
  afterAll(() => failing?.stop());

  async function failingClient(): Promise<MfaClient> {
    const { token } = await createCheckedClient(failing.url).createDevToken({ sub: `carol-${randomUUID()}` });
    return createCheckedClient(failing.url, () => token);
  }

  it('answers 503 service_unavailable with Retry-After when a dependency times out', async () => {
    failure = Object.assign(new Error('socket timeout'), { name: 'TimeoutError' });
    const problem = await problemOf((await failingClient()).getMfaStatus());
    expect(problem).toMatchObject({ status: 503, code: 'service_unavailable', retryAfter: 1 });
  });

  it('answers 500 internal_error without the cause on an unexpected failure', async () => {
    failure = new Error('secret internals');
    const problem = await problemOf((await failingClient()).verifyMfa({ code: '123456' }));
    expect(problem).toMatchObject({ status: 500, code: 'internal_error' });
    expect(problem.detail).not.toContain('secret internals');
  });
});

/** A well-formed code that is not `code`. */
function wrongCode(code: string): string {
  return String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
}
