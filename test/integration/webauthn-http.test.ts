import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumentedResponse } from '../support/api.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import type { RawResponse } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';
import { SoftwareAuthenticator, type ResponseKnobs } from '../../harness/software-authenticator.js';
import { canonicalItem, readUserItem } from '../support/table-snapshot.js';

/**
 * The WebAuthn routes and the several-authenticator rules over HTTP (every handler behind the
 * local API Gateway stand-in, DynamoDB Local): status codes and problem codes as the contract
 * (openapi.json) documents them; every response is checked against it.
 */
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

interface KeyUser {
  sub: string;
  token: string;
  key: SoftwareAuthenticator;
  keyId: string;
  recoveryCodes: string[];
}

const newKey = (options: ConstructorParameters<typeof SoftwareAuthenticator>[0] = {}) => new SoftwareAuthenticator({ origin: h.stack.url, ...options });

/** A user whose first method is a key, registered over HTTP. */
async function keyUser(key = newKey()): Promise<KeyUser> {
  const sub = `user-${randomUUID()}`;
  const token = await h.token(sub);
  const started = await call('POST', '/v1/mfa/webauthn/registration', token, {});
  expect(started.status).toBe(201);
  const confirmed = await call('POST', '/v1/mfa/webauthn/registration/confirm', token, { credential: key.register(started.json.options) });
  expect(confirmed.status).toBe(200);
  return { sub, token, key, keyId: confirmed.json.authenticator.id, recoveryCodes: confirmed.json.recoveryCodes };
}

/** `{webauthn}` answering a fresh challenge; the clock moves 10 s so the proof lane's 10-a-minute limit is never the point. */
async function keyProof(user: { token: string }, key: SoftwareAuthenticator, knobs: ResponseKnobs = {}) {
  h.clock.advance(10_000);
  const challenge = await call('POST', '/v1/mfa/webauthn/challenge', user.token, {});
  expect(challenge.status).toBe(201);
  return { webauthn: key.assert(challenge.json.options, knobs) };
}

describe('WebAuthn over HTTP', () => {
  it('registers a first key (201 options, 200 with recovery codes), shows it in GET /v1/mfa and signs in with it', async () => {
    const sub = `user-${randomUUID()}`;
    const token = await h.token(sub);
    const started = await call('POST', '/v1/mfa/webauthn/registration', token, {});
    expect(started.status).toBe(201);
    expect(started.json.options.user.id).not.toBe(Buffer.from(sub).toString('base64url'));
    expect(started.json.options.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toEqual([-8, -7, -257]);
    const key = newKey();
    const confirmed = await call('POST', '/v1/mfa/webauthn/registration/confirm', token, { credential: key.register(started.json.options), name: 'Desk key' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toMatchObject({ enabled: true, reauthenticate: true, authenticator: { kind: 'webauthn', name: 'Desk key', transports: ['usb'], backedUp: false } });
    expect(confirmed.json.recoveryCodes).toHaveLength(10);

    const status = await call('GET', '/v1/mfa', token);
    expect(status.json).toMatchObject({
      mfaEnabled: true,
      methods: { totp: { count: 0 }, webauthn: { enabled: true, count: 1 } },
      authenticators: [{ id: confirmed.json.authenticator.id, kind: 'webauthn', name: 'Desk key', lastUsedAt: null, transports: ['usb'], backedUp: false }],
    });

    const verified = await call('POST', '/v1/mfa/verify', token, await keyProof({ token }, key));
    expect(verified.status).toBe(200);
    expect(verified.json.method).toBe('webauthn');
    expect(decodeJwt(verified.json.assertion).amr).toEqual(['mfa', 'pop', 'hwk']);
  });

  it('answers a synced passkey with amr swk', async () => {
    const passkey = newKey({ passkey: true, countsSignatures: false });
    const user = await keyUser(passkey);
    const verified = await call('POST', '/v1/mfa/verify', user.token, await keyProof(user, passkey));
    expect(decodeJwt(verified.json.assertion).amr).toEqual(['mfa', 'pop', 'swk']);
  });

  it('needs a proof for another key while MFA is on: 403 without, 400 invalid_code / invalid_credential when wrong, 201 with', async () => {
    const user = await keyUser();
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration', user.token, {}))).toEqual([403, 'step_up_required']);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration', user.token, { code: '000000' }))).toEqual([400, 'invalid_code']);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration', user.token, await keyProof(user, user.key, { badSignature: true })))).toEqual([400, 'invalid_credential']);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration', user.token, { recoveryCode: '0000-0000-0000-0000' }))).toEqual([400, 'invalid_code']);
    const started = await call('POST', '/v1/mfa/webauthn/registration', user.token, await keyProof(user, user.key));
    expect(started.status).toBe(201);
    expect(started.json.options.excludeCredentials).toEqual([{ id: user.key.credentialId, type: 'public-key', transports: ['usb'] }]);
    const second = await call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: newKey().register(started.json.options) });
    expect(second.status).toBe(200);
    expect(second.json.recoveryCodes).toBeUndefined();
  });

  it('answers confirm with 404 registration_not_found, 400 invalid_credential and 409 credential_already_registered', async () => {
    const user = await keyUser();
    const key = newKey();
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: key.register({ challenge: 'AAAA' }) }))).toEqual([404, 'registration_not_found']);
    const started = await call('POST', '/v1/mfa/webauthn/registration', user.token, await keyProof(user, user.key));
    const before = canonicalItem(await readUserItem(h.client, h.tableName, user.sub));
    for (const knobs of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { flags: { up: false } }, { type: 'webauthn.get' }]) {
      expect(problem(await call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: key.register(started.json.options, knobs) }))).toEqual([400, 'invalid_credential']);
    }
    expect(canonicalItem(await readUserItem(h.client, h.tableName, user.sub))).toBe(before);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: user.key.register(started.json.options) }))).toEqual([409, 'credential_already_registered']);
    h.clock.advance(300_000);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: key.register(started.json.options) }))).toEqual([404, 'registration_not_found']);
  });

  it('answers two users confirming one credential id at once: one 200, the other 400 invalid_credential', async () => {
    const credentialId = crypto.getRandomValues(new Uint8Array(32));
    const users = await Promise.all([0, 1].map(async () => {
      const token = await h.token(`user-${randomUUID()}`);
      const started = await call('POST', '/v1/mfa/webauthn/registration', token, {});
      return { token, credential: newKey({ credentialId }).register(started.json.options) };
    }));
    const answers = await Promise.all(users.map((user) => call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: user.credential })));
    expect(answers.map(problem).sort()).toEqual([[200, undefined], [400, 'invalid_credential']]);
  });

  it('answers a 1024-byte credential id, and an id unlike the attested one, 400 invalid_credential', async () => {
    const token = await h.token(`user-${randomUUID()}`);
    const started = await call('POST', '/v1/mfa/webauthn/registration', token, {});
    const tooLong = newKey({ credentialId: new Uint8Array(1024).fill(3) }).register(started.json.options);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration/confirm', token, { credential: tooLong }))).toEqual([400, 'invalid_credential']);
    const renamed = newKey().register(started.json.options, { credentialId: Buffer.alloc(32, 4).toString('base64url') });
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration/confirm', token, { credential: renamed }))).toEqual([400, 'invalid_credential']);
  });

  it('answers the challenge route 409 webauthn_not_enabled without a key, and a stale or spent assertion 400 invalid_credential', async () => {
    const appUser = await h.enrolledUser();
    expect(problem(await call('POST', '/v1/mfa/webauthn/challenge', appUser.token, {}))).toEqual([409, 'webauthn_not_enabled']);
    expect(problem(await call('POST', '/v1/mfa/webauthn/challenge', await h.token(`user-${randomUUID()}`), {}))).toEqual([409, 'webauthn_not_enabled']);

    const user = await keyUser();
    const stale = await keyProof(user, user.key);
    const fresh = await keyProof(user, user.key, { counter: 50 }); // replaces the pending challenge
    expect(problem(await call('POST', '/v1/mfa/verify', user.token, stale))).toEqual([400, 'invalid_credential']);
    expect((await call('POST', '/v1/mfa/verify', user.token, fresh)).status).toBe(200);
    expect(problem(await call('POST', '/v1/mfa/verify', user.token, fresh))).toEqual([400, 'invalid_credential']);
  });

  it('answers exactly one of 50 concurrent posts of one assertion with 200', async () => {
    const user = await keyUser();
    const proof = await keyProof(user, user.key);
    const responses = await Promise.all(Array.from({ length: 50 }, () => h.call('POST', '/v1/mfa/verify', user.token, proof)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const loser of responses.filter((r) => r.status !== 200)) {
      expect(loser.headers['content-type']).toBe('application/problem+json');
      expect(['invalid_credential', 'too_many_attempts', 'service_unavailable']).toContain(loser.json.code);
    }
  });

  it('answers a counter regression 400 invalid_credential, like any wrong assertion', async () => {
    const user = await keyUser(newKey({ counter: 20 }));
    expect((await call('POST', '/v1/mfa/verify', user.token, await keyProof(user, user.key))).status).toBe(200);
    expect(problem(await call('POST', '/v1/mfa/verify', user.token, await keyProof(user, user.key, { counter: 2 })))).toEqual([400, 'invalid_credential']);
  });
});

describe('several authenticators over HTTP', () => {
  it('answers a second app 409 totp_already_enabled with an app on, 403 step_up_required with only keys, 201 with a proof', async () => {
    const appUser = await h.enrolledUser();
    expect(problem(await call('POST', '/v1/mfa/totp/enrollment', appUser.token, {}))).toEqual([409, 'totp_already_enabled']);
    h.clock.advance(30_000);
    expect((await call('POST', '/v1/mfa/totp/enrollment', appUser.token, { code: codeAt(appUser.secret, h.clock) })).status).toBe(201);

    const user = await keyUser();
    expect(problem(await call('POST', '/v1/mfa/totp/enrollment', user.token, {}))).toEqual([403, 'step_up_required']);
    const started = await call('POST', '/v1/mfa/totp/enrollment', user.token, await keyProof(user, user.key));
    expect(started.status).toBe(201);
    const confirmed = await call('POST', '/v1/mfa/totp/enrollment/confirm', user.token, { code: codeAt(started.json.secret, h.clock), name: 'Phone' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.recoveryCodes).toBeUndefined();
    const status = await call('GET', '/v1/mfa', user.token);
    expect(status.json.methods).toMatchObject({ totp: { enabled: true, count: 1 }, webauthn: { enabled: true, count: 1 } });
    expect(status.json.authenticators.map((a: { name: string }) => a.name)).toEqual(['Security key', 'Phone']);
  });

  it('renames (200, 404 authenticator_not_found) and removes (200 {mfaEnabled, authenticators}); the last removal turns MFA off', async () => {
    const user = await keyUser();
    const renamed = await call('PATCH', `/v1/mfa/authenticators/${user.keyId}`, user.token, { name: 'Blue key' });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id: user.keyId, kind: 'webauthn', name: 'Blue key' });
    expect(problem(await call('PATCH', '/v1/mfa/authenticators/nope', user.token, { name: 'x' }))).toEqual([404, 'authenticator_not_found']);
    expect(problem(await call('POST', '/v1/mfa/authenticators/nope/remove', user.token, await keyProof(user, user.key)))).toEqual([404, 'authenticator_not_found']);
    expect(problem(await call('POST', `/v1/mfa/authenticators/${user.keyId}/remove`, user.token, { code: '123456' }))).toEqual([400, 'invalid_code']);

    const removed = await call('POST', `/v1/mfa/authenticators/${user.keyId}/remove`, user.token, { recoveryCode: user.recoveryCodes[0] });
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({ mfaEnabled: false, authenticators: [] });
    expect((await readUserItem(h.client, h.tableName, user.sub))?.recoveryCodes).toBeUndefined();
    expect((await call('GET', '/v1/mfa', user.token)).json).toMatchObject({ mfaEnabled: false, recoveryCodes: { remaining: 0 }, authenticators: [] });
  });

  it('disables the apps with a key proof and keeps MFA on while a key remains', async () => {
    const user = await keyUser();
    const started = await call('POST', '/v1/mfa/totp/enrollment', user.token, await keyProof(user, user.key));
    await call('POST', '/v1/mfa/totp/enrollment/confirm', user.token, { code: codeAt(started.json.secret, h.clock) });
    const disabled = await call('POST', '/v1/mfa/totp/disable', user.token, await keyProof(user, user.key));
    expect(disabled.status).toBe(200);
    expect(disabled.json).toEqual({ mfaEnabled: true });
    expect((await call('GET', '/v1/mfa', user.token)).json).toMatchObject({ methods: { totp: { count: 0 }, webauthn: { count: 1 } }, recoveryCodes: { remaining: 10 } });
  });

  it('answers 409 too_many_authenticators at 10 of all kinds', async () => {
    const user = await keyUser();
    for (let i = 0; i < 9; i++) {
      const started = await call('POST', '/v1/mfa/webauthn/registration', user.token, await keyProof(user, user.key));
      expect(started.status).toBe(201);
      expect((await call('POST', '/v1/mfa/webauthn/registration/confirm', user.token, { credential: newKey().register(started.json.options) })).status).toBe(200);
    }
    expect((await call('GET', '/v1/mfa', user.token)).json.methods.webauthn.count).toBe(10);
    expect(problem(await call('POST', '/v1/mfa/webauthn/registration', user.token, await keyProof(user, user.key)))).toEqual([409, 'too_many_authenticators']);
    expect(problem(await call('POST', '/v1/mfa/totp/enrollment', user.token, await keyProof(user, user.key)))).toEqual([409, 'too_many_authenticators']);
  });
});
