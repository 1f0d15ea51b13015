import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MfaClient } from '../../client/index.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { checkedRequest, createCheckedClient } from '../support/api.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock } from '../support/fakes.js';
import { codeAt } from '../support/service.js';

/**
 * Names the API takes (an app's at enrollment, a key's at registration, any at rename) and the
 * words of a refused body, through the local server. Every answer is checked against openapi.json.
 */
const clock = new ManualClock();
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: await mkdtemp(join(tmpdir(), 'mfa-names-')),
    dynamoDbEndpoint: testDynamoDbEndpoint(),
    tableName: `mfa-names-${randomUUID()}`,
    overrides: { clock },
  });
});
afterAll(() => stack?.stop());

interface SignedIn {
  client: MfaClient;
  token: string;
  send(method: 'POST' | 'PATCH', path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
}

async function signIn(name: string): Promise<SignedIn> {
  const { token } = await createCheckedClient(stack.url).createDevToken({ sub: `${name}-${randomUUID()}` });
  const client = createCheckedClient(stack.url, () => token);
  const send = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const response = await checkedRequest(stack.url, path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  return { client, token, send };
}

/** A user with one app, named as the API stored it. */
async function enrolled(name: string, appName: string) {
  const user = await signIn(name);
  const enrollment = await user.client.startTotpEnrollment();
  await user.client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock), name: appName });
  clock.advance(30_000);
  const [app] = (await user.client.getMfaStatus()).authenticators;
  return { ...user, app: app! };
}

const SIXTY_FOUR = 'Y'.repeat(64);

describe('names the API takes', () => {
  it('stores an app name without its leading and trailing white space', async () => {
    const { app } = await enrolled('trimmed', `  \t${SIXTY_FOUR}\n `);
    expect(app.name).toBe(SIXTY_FOUR);
  });

  it.each([
    ['only white space', '   ', 'body.name must not be empty.'],
    ['65 characters after trimming', ` ${'Z'.repeat(65)} `, 'body.name must be at most 64 characters.'],
    ['a control character', 'Phone\u0007', 'body.name must not contain control or format characters.'],
    ['a format character (zero-width space)', 'Ph\u200bone', 'body.name must not contain control or format characters.'],
    ['a format character (right-to-left override)', '\u202eenohP', 'body.name must not contain control or format characters.'],
  ])('refuses a rename to %s with 400 invalid_request, and keeps the old name', async (_, name, detail) => {
    const user = await enrolled(`rename-${randomUUID().slice(0, 8)}`, 'Phone');
    const answer = await user.send('PATCH', `/v1/mfa/authenticators/${user.app.id}`, { name });
    expect(answer).toEqual({ status: 400, json: expect.objectContaining({ code: 'invalid_request', detail }) });
    expect((await user.client.getMfaStatus()).authenticators.map((a) => a.name)).toEqual(['Phone']);
  });

  it('refuses an app name of white space at enrollment, and the enrollment stays pending', async () => {
    const user = await signIn('enrol-blank');
    const enrollment = await user.client.startTotpEnrollment();
    const answer = await user.send('POST', '/v1/mfa/totp/enrollment/confirm', { code: codeAt(enrollment.secret, clock), name: ' \u00a0 ' });
    expect(answer).toEqual({ status: 400, json: expect.objectContaining({ code: 'invalid_request', detail: 'body.name must not be empty.' }) });
    expect((await user.client.getMfaStatus()).mfaEnabled).toBe(false);
    await user.client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock), name: 'Phone' });
    expect((await user.client.getMfaStatus()).authenticators.map((a) => a.name)).toEqual(['Phone']);
  });

  it('refuses a security key name with a format character before looking at the key', async () => {
    const user = await signIn('key-name');
    const credential = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'AAAA', attestationObject: 'AAAA' },
      clientExtensionResults: {},
    };
    const answer = await user.send('POST', '/v1/mfa/webauthn/registration/confirm', { credential, name: 'Key\u2066' });
    expect(answer).toEqual({ status: 400, json: expect.objectContaining({ code: 'invalid_request', detail: 'body.name must not contain control or format characters.' }) });
  });

  it('renames to a trimmed name', async () => {
    const user = await enrolled('rename-ok', 'Phone');
    const renamed = await user.client.renameAuthenticator(user.app.id, { name: '  Work phone  ' });
    expect(renamed.name).toBe('Work phone');
  });
});

describe('problem details of a body that is not exactly one proof', () => {
  it.each([
    ['no proof', {}],
    ['two proofs', { code: '123456', recoveryCode: 'AAAA-BBBB-CCCC-DDDD' }],
    ['a proof of no known kind', { password: 'hunter2' }],
  ])('answers %s with words, not a validator name', async (_, body) => {
    const user = await enrolled(`proof-${randomUUID().slice(0, 8)}`, 'Phone');
    const verify = await user.send('POST', '/v1/mfa/verify', body);
    expect(verify).toEqual({
      status: 400,
      json: expect.objectContaining({
        code: 'invalid_request',
        detail: 'Send exactly one of code, recoveryCode, webauthn, emailCode or device, and optionally nonce (and, with a code, recoveryCode, webauthn or emailCode, rememberDevice).',
      }),
    });
    const regenerate = await user.send('POST', '/v1/mfa/recovery-codes', body);
    expect(regenerate).toEqual({ status: 400, json: expect.objectContaining({ code: 'invalid_request', detail: 'Send exactly one of code, recoveryCode, webauthn or emailCode.' }) });
    for (const answer of [verify, regenerate]) expect(String(answer.json.detail)).not.toMatch(/invalid_union|hunter2|password/);
  });

  it('names the field and its limit when one proof is malformed', async () => {
    const user = await signIn('long-code');
    const answer = await user.send('POST', '/v1/mfa/verify', { code: '1'.repeat(65) });
    expect(answer.json).toMatchObject({ code: 'invalid_request', detail: 'body.code must be at most 64 characters.' });
  });
});
