import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoRandom } from '../../functions/domain/random.js';
import { PROOF_ATTEMPTS_PER_WINDOW } from '../../functions/domain/lockout.js';
import { REFUNDS_PER_WINDOW } from '../../functions/domain/sessions.js';
import { generateRecoveryCodes } from '../../functions/methods/recovery-codes/recovery-codes.js';
import { SoftwareAuthenticator } from '../../harness/software-authenticator.js';
import { expectDocumentedResponse } from '../support/api.js';
import { changeEventsOf } from '../support/change-events.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import type { RawResponse } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';

/**
 * The attacks of a password holder over HTTP (every handler behind the local API Gateway
 * stand-in, DynamoDB Local): two first-factor tokens of one user from the dev identity provider,
 * each with its own `sid`, as a second sign-in gives. Every response is checked against openapi.json.
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

const outcome = (response: RawResponse) => (response.status === 200 ? '200' : `${response.status} ${response.json?.code}`);
const times = (n: number, value: string) => Array.from({ length: n }, () => value);

async function sequentially(n: number, send: (i: number) => Promise<RawResponse>): Promise<RawResponse[]> {
  const responses: RawResponse[] = [];
  for (let i = 0; i < n; i++) responses.push(await send(i));
  return responses;
}

/** A user whose first method is a key (registered over HTTP in the real user's session), with a second token: the attacker's. */
async function keyUser() {
  const sub = `user-${randomUUID()}`;
  const token = await h.token(sub);
  const key = new SoftwareAuthenticator({ origin: h.stack.url });
  const started = await call('POST', '/v1/mfa/webauthn/registration', token, {});
  const confirmed = await call('POST', '/v1/mfa/webauthn/registration/confirm', token, { credential: key.register(started.json.options) });
  expect(confirmed.status).toBe(200);
  return { sub, token, attacker: await h.token(sub), key, recoveryCodes: confirmed.json.recoveryCodes as string[] };
}

async function keyProof(token: string, key: SoftwareAuthenticator) {
  const challenge = await call('POST', '/v1/mfa/webauthn/challenge', token, {});
  expect(challenge.status).toBe(201);
  return { webauthn: key.assert(challenge.json.options) };
}

describe('a password holder against the real user, over HTTP with two tokens of one user', () => {
  it("15 wrong recovery codes and 15 bad key responses from the attacker's token; then the real user's recovery code and key both answer 200", async () => {
    const user = await keyUser();
    const wrong = [...generateRecoveryCodes(cryptoRandom), ...generateRecoveryCodes(cryptoRandom)];
    const stranger = new SoftwareAuthenticator({ origin: h.stack.url });
    const codes = await sequentially(15, (i) => call('POST', '/v1/mfa/verify', user.attacker, { recoveryCode: wrong[i] }));
    const keys = await sequentially(15, async () => call('POST', '/v1/mfa/verify', user.attacker, await keyProof(user.attacker, stranger)));
    expect(codes.map(outcome)).toEqual([...times(PROOF_ATTEMPTS_PER_WINDOW, '400 invalid_code'), ...times(15 - PROOF_ATTEMPTS_PER_WINDOW, '429 too_many_attempts')]);
    expect(keys.map(outcome)).toEqual(times(15, '429 too_many_attempts'));
    expect(Number(keys.at(-1)!.headers['retry-after'])).toBeGreaterThan(0);

    expect(outcome(await call('POST', '/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes[0] }))).toBe('200');
    expect(outcome(await call('POST', '/v1/mfa/verify', user.token, await keyProof(user.token, user.key)))).toBe('200');
  });

  it("lets 5 of 5 key sign-ins succeed while the attacker's token asks for a challenge between each request and its answer", async () => {
    const user = await keyUser();
    const results: string[] = [];
    for (let round = 0; round < 5; round++) {
      const mine = await call('POST', '/v1/mfa/webauthn/challenge', user.token, {});
      expect((await call('POST', '/v1/mfa/webauthn/challenge', user.attacker, {})).status).toBe(201);
      results.push(outcome(await call('POST', '/v1/mfa/verify', user.token, { webauthn: user.key.assert(mine.json.options) })));
    }
    expect(results).toEqual(times(5, '200'));
  });

  it("cuts 40 replays of a spent recovery code off by 429 with Retry-After after 10, with one replay event; the real user's next code answers 200", async () => {
    const user = await keyUser();
    expect(outcome(await call('POST', '/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes[1] }))).toBe('200');
    const replays = await sequentially(40, () => call('POST', '/v1/mfa/verify', user.attacker, { recoveryCode: user.recoveryCodes[1] }));
    expect(replays.map(outcome)).toEqual([...times(REFUNDS_PER_WINDOW, '400 invalid_code'), ...times(40 - REFUNDS_PER_WINDOW, '429 too_many_attempts')]);
    for (const refused of replays.slice(REFUNDS_PER_WINDOW)) expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await changeEventsOf(h.tableName, user.sub)).filter((event) => event.event === 'code.replay_refused')).toHaveLength(1);
    expect(outcome(await call('POST', '/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes[2] }))).toBe('200');
  });

  it("cuts 30 replays of a spent TOTP code off by 429 after 10, with one replay event, the code lock untouched; the real user's next code answers 200", async () => {
    const user = await h.enrolledUser();
    const attacker = await h.token(user.sub);
    h.clock.advance(30_000);
    const spent = codeAt(user.secret, h.clock);
    expect(outcome(await call('POST', '/v1/mfa/verify', user.token, { code: spent }))).toBe('200');
    const replays = await sequentially(30, () => call('POST', '/v1/mfa/verify', attacker, { code: spent }));
    expect(replays.map(outcome)).toEqual([...times(REFUNDS_PER_WINDOW, '400 invalid_code'), ...times(30 - REFUNDS_PER_WINDOW, '429 too_many_attempts')]);
    expect((await changeEventsOf(h.tableName, user.sub)).filter((event) => event.event === 'code.replay_refused')).toHaveLength(1);
    h.clock.advance(30_000);
    expect(outcome(await call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, h.clock) }))).toBe('200');
  });
});
