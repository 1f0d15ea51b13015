import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceKey } from '../../harness/device-key.js';
import { expectDocumentedResponse } from '../support/api.js';
import { startHardeningStack, type EnrolledUser, type HardeningStack } from '../support/hardening-stack.js';
import type { RawResponse } from '../support/raw-http.js';
import { codeAt, TEST_SETTINGS } from '../support/service.js';
import { snapshotTable } from '../support/table-snapshot.js';

/** The remembered-browser contract over HTTP: every response checked against openapi.json. */
let h: HardeningStack;
beforeAll(async () => {
  h = await startHardeningStack();
});
afterAll(() => h?.stop());

async function call(method: string, path: string, token: string, body?: unknown): Promise<RawResponse> {
  const response = await h.call(method, path, token, body);
  expectDocumentedResponse({ method, path, status: response.status, headers: response.headers, body: response.text });
  return response;
}
const problem = (response: RawResponse) => [response.status, response.json?.code];
const nextCode = (user: EnrolledUser) => {
  h.clock.advance(30_000);
  return codeAt(user.secret, h.clock);
};

describe('remembered browsers over HTTP', () => {
  it('remembers with verify, signs in with the device, lists, forgets and forgets all', async () => {
    const user = await h.enrolledUser();
    const key = new DeviceKey();
    const remembered = await call('POST', '/v1/mfa/verify', user.token, { code: nextCode(user), rememberDevice: { publicKey: { ...key.publicJwk, ext: true, key_ops: ['verify'] }, name: 'Chrome on Linux' } });
    expect(remembered.status).toBe(200);
    expect(remembered.json.device).toMatchObject({ name: 'Chrome on Linux' });
    const deviceId: string = remembered.json.device.id;

    // A new sign-in (a new first-factor session) signs in with the browser alone.
    const token = await h.token(user.sub);
    const challenge = await call('POST', '/v1/mfa/device/challenge', token, { deviceId });
    expect(challenge.status).toBe(201);
    expect(Buffer.from(challenge.json.challenge, 'base64url')).toHaveLength(32);
    expect(Date.parse(challenge.json.expiresAt) - h.clock.now()).toBe(120_000);
    const verified = await call('POST', '/v1/mfa/verify', token, { ...key.proof(deviceId, challenge.json.challenge), nonce: 'n-42' });
    expect(verified.status).toBe(200);
    expect(verified.json).toMatchObject({ method: 'device', recoveryCodesRemaining: 10 });
    expect(decodeJwt(verified.json.assertion)).toMatchObject({ amr: ['mfa', 'swk'], remembered: true, nonce: 'n-42' });

    const status = await call('GET', '/v1/mfa', token);
    expect(status.json.devices).toEqual([expect.objectContaining({ id: deviceId, name: 'Chrome on Linux', app: 'serverless-mfa-local-app' })]);

    expect(problem(await call('POST', '/v1/mfa/devices/nope/forget', token, {}))).toEqual([404, 'device_not_found']);
    const forgotten = await call('POST', `/v1/mfa/devices/${deviceId}/forget`, token, {});
    expect([forgotten.status, forgotten.json]).toEqual([200, { devices: [] }]);
    expect(problem(await call('POST', '/v1/mfa/device/challenge', token, { deviceId }))).toEqual([404, 'device_not_found']);
    const all = await call('POST', '/v1/mfa/devices/forget-all', token, {});
    expect([all.status, all.json]).toEqual([200, { devices: [] }]);
  });

  it.each<[string, (key: DeviceKey) => Record<string, unknown>]>([
    ['a private key (d)', (key) => key.privateJwk()],
    ['an RSA key', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>],
    ['another curve', (key) => ({ ...key.publicJwk, crv: 'P-384' })],
    ['a point off the curve', (key) => ({ ...key.publicJwk, y: key.publicJwk.x })],
  ])('refuses rememberDevice with %s: 400 invalid_request, nothing spent or stored', async (_, publicKey) => {
    const user = await h.enrolledUser();
    const before = await snapshotTable(h.client, h.tableName);
    const answer = await call('POST', '/v1/mfa/verify', user.token, { code: nextCode(user), rememberDevice: { publicKey: publicKey(new DeviceKey()) } });
    expect(problem(answer)).toEqual([400, 'invalid_request']);
    expect(await snapshotTable(h.client, h.tableName)).toBe(before);
  });

  it('refuses a device proof as the step-up of every other route, and with rememberDevice: 400 invalid_request, nothing changed', async () => {
    const user = await h.enrolledUser();
    const key = new DeviceKey();
    const deviceId = (await call('POST', '/v1/mfa/verify', user.token, { code: nextCode(user), rememberDevice: { publicKey: key.publicJwk } })).json.device.id;
    const { challenge } = (await call('POST', '/v1/mfa/device/challenge', user.token, { deviceId })).json;
    const proof = key.proof(deviceId, challenge);
    const appId = (await call('GET', '/v1/mfa', user.token)).json.authenticators[0].id;
    const before = await snapshotTable(h.client, h.tableName);
    for (const [path, body] of [
      ['/v1/mfa/recovery-codes', proof],
      ['/v1/mfa/totp/disable', proof],
      [`/v1/mfa/authenticators/${appId}/remove`, proof],
      ['/v1/mfa/totp/enrollment', proof],
      ['/v1/mfa/webauthn/registration', proof],
      ['/v1/mfa/verify', { ...proof, rememberDevice: { publicKey: new DeviceKey().publicJwk } }],
    ] as const) {
      expect(problem(await call('POST', path, user.token, body)), path).toEqual([400, 'invalid_request']);
    }
    expect(await snapshotTable(h.client, h.tableName)).toBe(before);
    expect(problem(await call('POST', '/v1/mfa/verify', user.token, { device: { ...proof.device, signature: new DeviceKey().sign(challenge) } }))).toEqual([400, 'invalid_credential']);
  });
});

describe('remembered browsers turned off (rememberDeviceDays 0)', () => {
  let off: HardeningStack;
  beforeAll(async () => {
    off = await startHardeningStack({ settings: { ...TEST_SETTINGS, assertionIssuer: 'http://localhost', rememberDeviceDays: 0 } });
  });
  afterAll(() => off?.stop());

  it('refuses rememberDevice with 400 invalid_request, spending nothing', async () => {
    const user = await off.enrolledUser();
    const before = await snapshotTable(off.client, off.tableName);
    off.clock.advance(30_000);
    const answer = await off.call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, off.clock), rememberDevice: { publicKey: new DeviceKey().publicJwk } });
    expectDocumentedResponse({ method: 'POST', path: '/v1/mfa/verify', status: answer.status, headers: answer.headers, body: answer.text });
    expect(problem(answer)).toEqual([400, 'invalid_request']);
    expect(await snapshotTable(off.client, off.tableName)).toBe(before);
  });
});
