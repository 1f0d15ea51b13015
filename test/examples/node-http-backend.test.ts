import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../examples/node-http-backend/backend.js';
import { LOCAL_APP_AUDIENCE, startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { DeviceKey } from '../../harness/device-key.js';
import { ManualClock } from '../../harness/manual-clock.js';
import { mfaAssertion, signUpWithTotp, type SignedUpUser } from '../support/mfa-user.js';
import { jsonRequest } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';

let dataDir: string;
let stack: LocalStack;
let backend: Server;
let backendUrl: string;
let alice: SignedUpUser;
let bob: SignedUpUser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mfa-example-backend-'));
  // Real time: the backend checks the assertions' times against its own clock.
  stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: `mfa-example-${randomUUID()}` });
  backend = createBackend({ mfaIssuer: stack.url, audience: LOCAL_APP_AUDIENCE, identityIssuer: stack.identity.issuer, identityJwksUrl: `${stack.url}/dev/jwks.json` });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  alice = await signUpWithTotp(stack, `alice-${randomUUID()}`);
  bob = await signUpWithTotp(stack, `bob-${randomUUID()}`);
});
afterAll(async () => {
  backend?.closeAllConnections();
  await new Promise((resolve) => backend?.close(resolve));
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Signs in to the example backend with the first factor: its session cookie and the nonce it issued. */
async function signIn(user: SignedUpUser): Promise<{ cookie: string; mfaNonce: string }> {
  const response = await fetch(`${backendUrl}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ idToken: user.token }) });
  expect(response.status).toBe(201);
  const cookie = response.headers.get('set-cookie')!;
  expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
  return { cookie: cookie.split(';')[0]!, mfaNonce: ((await response.json()) as { mfaNonce: string }).mfaNonce };
}

async function transfer(session: { cookie: string } | undefined, assertion?: string) {
  const response = await fetch(`${backendUrl}/transfers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session ? { cookie: session.cookie } : {}), ...(assertion ? { 'mfa-assertion': assertion } : {}) },
    body: JSON.stringify({ amount: 100 }),
  });
  const challenge = response.headers.get('www-authenticate');
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, ...(challenge ? { challenge } : {}) };
}

describe('examples/node-http-backend against the local server', () => {
  it('runs a sensitive action for the signed-in user with a fresh assertion carrying the nonce it issued, once', async () => {
    const session = await signIn(alice);
    expect(await transfer(session)).toEqual({
      status: 401,
      body: { error: 'mfa_required', mfaNonce: session.mfaNonce },
      challenge: 'Bearer error="insufficient_user_authentication", error_description="A second factor is required", max_age="120"',
    });

    const assertion = await mfaAssertion(stack, alice, session.mfaNonce);
    expect(await transfer(session, assertion)).toEqual({ status: 200, body: { transferred: 100, by: alice.sub, amr: ['mfa', 'otp'] } });
    expect(await transfer(session, assertion)).toEqual({ status: 403, body: { error: 'mfa_refused', reason: 'replayed' } });

    // A new second step for the same sign-in works again (a recovery code: amr has no otp).
    expect(await transfer(session, await mfaAssertion(stack, alice, session.mfaNonce))).toEqual({ status: 200, body: { transferred: 100, by: alice.sub, amr: ['mfa'] } });
  });

  it("answers a remembered browser's assertion with an RFC 9470 step-up challenge: moving money needs a factor proven now", async () => {
    const session = await signIn(alice);
    const key = new DeviceKey();
    const wallClock = new ManualClock(Date.now());
    const code = alice.nextStep <= 1 ? codeAt(alice.secret, wallClock, alice.nextStep++) : undefined;
    const proof = code ? { code } : { recoveryCode: alice.recoveryCodes.shift()! };
    const remembering = await jsonRequest(stack.port, 'POST', '/v1/mfa/verify', alice.token, { ...proof, rememberDevice: { publicKey: key.publicJwk } });
    expect(remembering.status).toBe(200);
    const deviceId: string = remembering.json.device.id;
    const { challenge } = (await jsonRequest(stack.port, 'POST', '/v1/mfa/device/challenge', alice.token, { deviceId })).json;
    const signedIn = await jsonRequest(stack.port, 'POST', '/v1/mfa/verify', alice.token, { ...key.proof(deviceId, challenge), nonce: session.mfaNonce });
    expect(signedIn.json.method).toBe('device');

    expect(await transfer(session, signedIn.json.assertion)).toEqual({
      status: 401,
      body: { error: 'step_up_required', reason: 'not_fresh', mfaNonce: session.mfaNonce },
      challenge: 'Bearer error="insufficient_user_authentication", error_description="A second factor proven now is required", max_age="120"',
    });
  });

  it("refuses an assertion made for another sign-in, or with no nonce", async () => {
    const first = await signIn(alice);
    const second = await signIn(alice);
    expect(second.mfaNonce).not.toBe(first.mfaNonce);
    expect(await transfer(second, await mfaAssertion(stack, alice, first.mfaNonce))).toEqual({ status: 403, body: { error: 'mfa_refused', reason: 'wrong_nonce' } });
    expect(await transfer(second, await mfaAssertion(stack, alice))).toEqual({ status: 403, body: { error: 'mfa_refused', reason: 'wrong_nonce' } });
  });

  it("refuses another user's assertion, even one carrying this session's nonce", async () => {
    const session = await signIn(alice);
    expect(await transfer(session, await mfaAssertion(stack, bob, session.mfaNonce))).toEqual({ status: 403, body: { error: 'mfa_refused', reason: 'wrong_subject' } });
  });

  it('refuses a forged assertion and requests without a session', async () => {
    const session = await signIn(alice);
    const genuine = await mfaAssertion(stack, alice, session.mfaNonce);
    const [header, payload] = genuine.split('.');
    expect(await transfer(session, `${header}.${payload}.`)).toEqual({ status: 403, body: { error: 'mfa_refused', reason: 'bad_signature' } });
    expect(await transfer(undefined, genuine)).toEqual({ status: 401, body: { error: 'sign_in_required' } });
    expect(await transfer({ cookie: 'sid=made-up' }, genuine)).toEqual({ status: 401, body: { error: 'sign_in_required' } });
    const badSignIn = await fetch(`${backendUrl}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ idToken: genuine }) });
    expect(badSignIn.status).toBe(401);
  });
});
