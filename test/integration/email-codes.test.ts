import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The worst logging an operator could set: everything at DEBUG, each event logged. Still no code in any line.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
});

import { MfaProblemError, type MfaClient } from '../../client/index.js';
import { DynamoDbMfaStore } from '../../functions/adapters/aws/dynamodb-mfa-store.js';
import { LOCKOUT_THRESHOLD } from '../../functions/domain/lockout.js';
import { EMAIL_CODE_TTL_MS, EMAIL_SEND_WINDOW_MS, EMAIL_SENDS_PER_WINDOW } from '../../functions/methods/email/email-codes.js';
import { freePort } from '../../local/dynamodb-local.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { createCheckedClient } from '../support/api.js';
import { testDynamoDbClient, testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock } from '../support/fakes.js';
import { Inbox } from '../support/maildev.js';
import { captureProcessOutput } from '../support/output-capture.js';
import { codeAt } from '../support/service.js';

/**
 * Email codes over HTTP, through real SMTP: the local stack starts MailDev on free loopback
 * ports and the tests read what arrived through its REST API. No transport is mocked.
 */
let stack: LocalStack;
let inbox: Inbox;
const tableName = `mfa-email-${randomUUID()}`;
const clock = new ManualClock();
const store = new DynamoDbMfaStore(testDynamoDbClient(), tableName);
/** Every line the process writes while the stack serves: no code may ever be in one. */
let output: ReturnType<typeof captureProcessOutput>;
const codesSeen: string[] = [];

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mfa-email-'));
  stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName, overrides: { clock }, mail: { maildev: { webPort: 0, smtpPort: 0 } } });
  inbox = new Inbox(stack.mailInboxUrl!);
  output = captureProcessOutput();
});
afterAll(async () => {
  output?.stop();
  await stack?.stop();
});

let users = 0;
/** A user signed in with a verified address: each call is a new first-factor session (a fresh `sid`). */
function newUser(options: { emailVerified?: boolean; email?: string | null } = {}) {
  users += 1;
  const sub = `email-user-${users}-${randomUUID().slice(0, 8)}`;
  const email = options.email === null ? undefined : (options.email ?? `${sub}@example.com`);
  const session = (): MfaClient => {
    let token: Promise<string> | undefined;
    return createCheckedClient(stack.url, () => (token ??= stack.identity.issueToken({ sub, ...(email ? { email, emailVerified: options.emailVerified ?? true } : {}) })));
  };
  return { sub, email: email!, session };
}

async function problemOf(promise: Promise<unknown>): Promise<MfaProblemError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MfaProblemError) return error;
    throw error;
  }
  throw new Error('expected a problem');
}

async function codeFor(email: string, count: number): Promise<string> {
  const mails = await inbox.waitFor(email, count);
  const code = /\b(\d{8})\b/.exec(mails[count - 1]!.text)![1]!;
  codesSeen.push(code);
  return code;
}

/** Enrolls email codes as the first method; returns the session that did it and the recovery codes. */
async function enrollEmail(user: ReturnType<typeof newUser>) {
  const client = user.session();
  await client.startEmailEnrollment();
  const mails = (await inbox.to(user.email)).length;
  const enabled = await client.confirmEmailEnrollment({ code: await codeFor(user.email, mails) });
  return { client, enabled, mailsSoFar: mails };
}

describe('email codes: enrollment and sign-in', () => {
  it('sends an 8-digit code to the verified address, enables the method with it, and signs in with a code sent to a new session', async () => {
    const user = newUser();
    const client = user.session();
    const sent = await client.startEmailEnrollment();
    expect(sent.sentTo).toBe(`${user.sub[0]}***@example.com`);
    expect(Date.parse(sent.expiresAt) - clock.now()).toBe(EMAIL_CODE_TTL_MS);
    const [mail] = await inbox.waitFor(user.email, 1);
    expect(mail!.from[0]!.address).toBe('no-reply@localhost.localdomain');
    expect(mail!.html).toContain('<strong');
    const code = await codeFor(user.email, 1);
    expect(code).toMatch(/^\d{8}$/);

    const enabled = await client.confirmEmailEnrollment({ code, name: 'Work mail' });
    expect(enabled).toMatchObject({ enabled: true, reauthenticate: true, authenticator: { kind: 'email', name: 'Work mail', address: `${user.sub[0]}***@example.com` } });
    expect(enabled.recoveryCodes).toHaveLength(10);
    const status = await client.getMfaStatus();
    expect(status.methods.email).toEqual({ enabled: true, count: 1 });
    expect(status.authenticators).toEqual([expect.objectContaining({ kind: 'email', address: `${user.sub[0]}***@example.com` })]);

    // Only the keyed hash is stored: the code itself is nowhere in the item.
    const record = await store.get(user.sub);
    expect(JSON.stringify(record)).not.toContain(code);

    const signIn = user.session();
    expect(await signIn.startEmailChallenge()).toMatchObject({ sentTo: `${user.sub[0]}***@example.com` });
    const verified = await signIn.verifyMfa({ emailCode: await codeFor(user.email, 2) });
    expect(verified.method).toBe('email');
    expect(decodeJwt(verified.assertion).amr).toEqual(['mfa', 'otp', 'email']);
  });

  it('refuses a code a second time, a code after 10 minutes, and a code sent to another session', async () => {
    const user = newUser();
    const { mailsSoFar } = await enrollEmail(user);
    const session = user.session();
    await session.startEmailChallenge();
    const code = await codeFor(user.email, mailsSoFar + 1);
    expect(await problemOf(user.session().verifyMfa({ emailCode: code }))).toMatchObject({ status: 400, code: 'invalid_code' });
    await session.verifyMfa({ emailCode: code });
    expect(await problemOf(session.verifyMfa({ emailCode: code }))).toMatchObject({ status: 400, code: 'invalid_code' });

    await session.startEmailChallenge();
    const late = await codeFor(user.email, mailsSoFar + 2);
    clock.advance(EMAIL_CODE_TTL_MS);
    expect(await problemOf(session.verifyMfa({ emailCode: late }))).toMatchObject({ status: 400, code: 'invalid_code' });
  });

  it('gives back the attempt of a used code sent again (a double click): refused as before, never counted toward the lock', async () => {
    const user = newUser();
    const { mailsSoFar } = await enrollEmail(user);
    const session = user.session();
    await session.startEmailChallenge();
    const code = await codeFor(user.email, mailsSoFar + 1);
    await session.verifyMfa({ emailCode: code });
    // More copies than the lock allows wrong codes: none of them is a guess.
    for (let copy = 1; copy <= LOCKOUT_THRESHOLD + 1; copy++) {
      expect(await problemOf(session.verifyMfa({ emailCode: code })), `copy ${copy}`).toMatchObject({ status: 400, code: 'invalid_code' });
    }
    expect((await store.get(user.sub))!.failures).toBe(0);
    // A new code for the session still works, and the copy stays spent beside it.
    await session.startEmailChallenge();
    const next = await codeFor(user.email, mailsSoFar + 2);
    expect(await problemOf(session.verifyMfa({ emailCode: code }))).toMatchObject({ status: 400, code: 'invalid_code' });
    expect((await session.verifyMfa({ emailCode: next })).method).toBe('email');
    // The same used code from another session (a password holder's) is an ordinary wrong guess there.
    expect(await problemOf(user.session().verifyMfa({ emailCode: code }))).toMatchObject({ status: 400, code: 'invalid_code' });
    expect((await store.get(user.sub))!.failures).toBe(1);
  });

  it('replaces only this session\'s pending code when it asks again', async () => {
    const user = newUser();
    const { mailsSoFar } = await enrollEmail(user);
    const first = user.session();
    const second = user.session();
    await first.startEmailChallenge();
    const firstCode = await codeFor(user.email, mailsSoFar + 1);
    await second.startEmailChallenge();
    const secondCode = await codeFor(user.email, mailsSoFar + 2);
    await first.startEmailChallenge();
    const replacement = await codeFor(user.email, mailsSoFar + 3);
    expect(await problemOf(first.verifyMfa({ emailCode: firstCode }))).toMatchObject({ code: 'invalid_code' });
    expect((await second.verifyMfa({ emailCode: secondCode })).method).toBe('email');
    expect((await first.verifyMfa({ emailCode: replacement })).method).toBe('email');
  });

  it('counts wrong email codes in the same per-user code lock as TOTP codes', async () => {
    const user = newUser();
    const { client } = await enrollEmail(user);
    // An authenticator app as well, added with an email code as the step-up proof.
    await client.startEmailChallenge();
    const enrollment = await client.startTotpEnrollment({ emailCode: await codeFor(user.email, 2) });
    await client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    clock.advance(30_000);

    const session = user.session();
    await session.startEmailChallenge();
    const right = await codeFor(user.email, 3);
    const wrong = right === '00000000' ? '00000001' : '00000000';
    for (let attempt = 1; attempt <= LOCKOUT_THRESHOLD; attempt++) {
      expect(await problemOf(session.verifyMfa({ emailCode: wrong })), `attempt ${attempt}`).toMatchObject({ status: 400, code: 'invalid_code' });
    }
    expect(await problemOf(session.verifyMfa({ emailCode: right }))).toMatchObject({ status: 429, code: 'too_many_attempts' });
    expect(await problemOf(session.verifyMfa({ code: codeAt(enrollment.secret, clock) }))).toMatchObject({ status: 429, code: 'too_many_attempts' });
  });

  it('sends at most 5 codes per user in 15 minutes: then 429 too_many_emails with Retry-After, and nothing is sent', async () => {
    const user = newUser();
    await enrollEmail(user);
    clock.advance(EMAIL_SEND_WINDOW_MS);
    const session = user.session();
    for (let i = 0; i < EMAIL_SENDS_PER_WINDOW; i++) await session.startEmailChallenge();
    const before = (await inbox.to(user.email)).length;
    const refused = await problemOf(user.session().startEmailChallenge());
    expect(refused).toMatchObject({ status: 429, code: 'too_many_emails' });
    expect(refused.retryAfter).toBe(EMAIL_SEND_WINDOW_MS / 1000);
    expect((await inbox.to(user.email)).length).toBe(before);
    clock.advance(EMAIL_SEND_WINDOW_MS);
    await expect(session.startEmailChallenge()).resolves.toMatchObject({ sentTo: expect.any(String) });
  });
});

describe('email codes: what is refused', () => {
  it('refuses an address the identity provider has not verified, or no address: 409 email_not_verified', async () => {
    const unverified = newUser({ emailVerified: false });
    expect(await problemOf(unverified.session().startEmailEnrollment())).toMatchObject({ status: 409, code: 'email_not_verified' });
    expect(await inbox.to(unverified.email)).toEqual([]);
    const none = newUser({ email: null });
    expect(await problemOf(none.session().startEmailEnrollment())).toMatchObject({ status: 409, code: 'email_not_verified' });
  });

  it('answers 409 email_not_enabled to a challenge without the method, and email_already_enabled to a second one', async () => {
    const user = newUser();
    expect(await problemOf(user.session().startEmailChallenge())).toMatchObject({ status: 409, code: 'email_not_enabled' });
    const { client } = await enrollEmail(user);
    await client.startEmailChallenge();
    const proof = { emailCode: await codeFor(user.email, 2) };
    expect(await problemOf(client.startEmailEnrollment(proof))).toMatchObject({ status: 409, code: 'email_already_enabled' });
  });

  it('needs a proof of a current factor to add email codes while MFA is on (403 step_up_required), and then returns no recovery codes', async () => {
    const user = newUser();
    const client = user.session();
    const enrollment = await client.startTotpEnrollment();
    await client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    expect(await problemOf(client.startEmailEnrollment())).toMatchObject({ status: 403, code: 'step_up_required' });
    expect(await inbox.to(user.email)).toEqual([]);

    clock.advance(30_000);
    await client.startEmailEnrollment({ code: codeAt(enrollment.secret, clock) });
    const code = await codeFor(user.email, 1);
    // The code belongs to the session that proved a factor: another session cannot use it.
    expect(await problemOf(user.session().confirmEmailEnrollment({ code }))).toMatchObject({ status: 400, code: 'invalid_code' });
    const enabled = await client.confirmEmailEnrollment({ code });
    expect(enabled.recoveryCodes).toBeUndefined();
    expect((await client.getMfaStatus()).methods).toMatchObject({ totp: { count: 1 }, email: { enabled: true, count: 1 } });
  });

  it('removes the email method with a proof, like any authenticator', async () => {
    const user = newUser();
    const { client, enabled } = await enrollEmail(user);
    await client.renameAuthenticator(enabled.authenticator.id, { name: 'Personal' });
    await client.startEmailChallenge();
    const left = await client.removeAuthenticator(enabled.authenticator.id, { emailCode: await codeFor(user.email, 2) });
    expect(left).toEqual({ mfaEnabled: false, authenticators: [] });
    expect((await store.get(user.sub))?.emailCodes).toBeUndefined();
  });

  it('never writes a code into a log line', () => {
    expect(codesSeen.length).toBeGreaterThan(10);
    const lines = output.lines();
    // The capture saw the service's audit lines of the sends.
    expect(lines.some((line) => line.includes('mfa.email.code_sent'))).toBe(true);
    for (const code of codesSeen) expect(lines.filter((line) => line.includes(code))).toEqual([]);
  });
});

describe('email codes: when sending fails or the deployment does not offer them', () => {
  it('answers 503 service_unavailable when the SMTP server is down, and stores no code', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mfa-email-down-'));
    const failingTable = `mfa-email-down-${randomUUID()}`;
    const down = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: failingTable, mail: { smtpUrl: `smtp://127.0.0.1:${await freePort()}` } });
    try {
      const client = createCheckedClient(down.url, () => down.identity.issueToken({ sub: 'down-user', email: 'down@example.com' }));
      expect(await problemOf(client.startEmailEnrollment())).toMatchObject({ status: 503, code: 'service_unavailable' });
      const record = await new DynamoDbMfaStore(testDynamoDbClient(), failingTable).get('down-user');
      expect(record?.emailCodes).toBeUndefined();
      // The send that never happened is given back: the limit counts mails that left.
      expect(record?.emailSends ?? []).toEqual([]);
    } finally {
      await down.stop();
    }
  });

  it('answers 404 not_found on every email route when the deployment offers no email codes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mfa-email-off-'));
    const off = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: `mfa-email-off-${randomUUID()}` });
    try {
      const client = createCheckedClient(off.url, () => off.identity.issueToken({ sub: 'off-user', email: 'off@example.com' }));
      expect(await problemOf(client.startEmailEnrollment())).toMatchObject({ status: 404, code: 'not_found' });
      expect(await problemOf(client.confirmEmailEnrollment({ code: '12345678' }))).toMatchObject({ status: 404, code: 'not_found' });
      expect(await problemOf(client.startEmailChallenge())).toMatchObject({ status: 404, code: 'not_found' });
    } finally {
      await off.stop();
    }
  });
});
