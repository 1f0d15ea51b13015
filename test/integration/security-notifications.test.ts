import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENAME_NOTICE_PERIOD_MS, securityNoticesOfImage, type StreamImage } from '../../functions/adapters/aws/change-event-stream.js';
import { DynamoDbNoticeLedger, NOTICE_LEASE_MS } from '../../functions/adapters/aws/dynamodb-notice-ledger.js';
import { userKey } from '../../functions/adapters/aws/mfa-item.js';
import { SmtpMailer } from '../../functions/adapters/local/smtp-mailer.js';
import { createSecurityNotifier } from '../../functions/notifications/security-notifier.js';
import { MailNotSentError, type Mailer } from '../../functions/ports/mailer.js';
import { MfaService } from '../../functions/service/mfa-service.js';
import { createNoticeHandler } from '../../functions/streams/notify-users.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { createCheckedClient } from '../support/api.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock } from '../support/fakes.js';
import { Inbox } from '../support/maildev.js';
import { codeAt, createTestService, newActor } from '../support/service.js';

/**
 * Security notifications: the local stack reads the table's stream (as the notice function does
 * in the cloud) and mails each change event the user is told about through MailDev.
 */
const SUPPORT_URL = 'https://help.example.com/security';
let stack: LocalStack;
let inbox: Inbox;
const clock = new ManualClock();

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mfa-notices-'));
  process.env.MFA_SUPPORT_URL = SUPPORT_URL;
  stack = await startLocalStack({
    dataDir,
    dynamoDbEndpoint: testDynamoDbEndpoint(),
    tableName: `mfa-notices-${randomUUID()}`,
    overrides: { clock },
    changeEventLog: true,
    mail: { maildev: { webPort: 0, smtpPort: 0 } },
  });
  delete process.env.MFA_SUPPORT_URL;
  inbox = new Inbox(stack.mailInboxUrl!);
});
afterAll(() => stack?.stop());

describe('security notifications', () => {
  it('mails one notice per notified change event within 5 s, says what, when and from where, and mails nothing for requests that change nothing', async () => {
    const email = `notice-${randomUUID().slice(0, 8)}@example.com`;
    // One sign-in (one session) for the whole journey: pending ceremonies belong to their session.
    const token = stack.identity.issueToken({ sub: `notice-${email}`, email });
    const client = createCheckedClient(stack.url, () => token);

    const enrollment = await client.startTotpEnrollment();
    await client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    // MFA enabled and an app added, in one write: one notice (the app added), not two.
    const [added] = await inbox.waitFor(email, 1, 5_000);
    expect(added!.subject).toBe('serverless-mfa: security notice about your sign-in settings');
    expect(added!.text).toContain('A two-factor method was added to your account: an authenticator app.');
    expect(added!.text).toContain('From IP address: 127.0.0.1');
    expect(added!.text).toContain(`If this was not you, sign in and check your two-factor methods, change your password, and contact support: ${SUPPORT_URL}`);
    expect(added!.html).toContain('If this was not you');

    // No-ops: a pending setup, a wrong code, a verification. None is a change event the user is told about.
    clock.advance(30_000);
    expect((await client.verifyMfa({ code: codeAt(enrollment.secret, clock) })).method).toBe('totp');
    await client.verifyMfa({ code: '000000' }).catch(() => undefined);
    const [app] = (await client.getMfaStatus()).authenticators;
    await client.renameAuthenticator(app!.id, { name: 'Phone' });
    clock.advance(30_000);
    const { recoveryCodes } = await client.regenerateRecoveryCodes({ code: codeAt(enrollment.secret, clock) });

    const mails = await inbox.waitFor(email, 3, 5_000);
    expect(mails.map((mail) => mail.text.split('\n')[0])).toEqual([
      'A two-factor method was added to your account: an authenticator app.',
      'A two-factor method of your account was renamed: an authenticator app.',
      'New recovery codes were made for your account (10 codes); the old ones no longer work.',
    ]);
    // Never a code or a secret in a notice.
    for (const mail of mails) {
      expect(mail.text).not.toContain(enrollment.secret);
      for (const code of recoveryCodes) expect(mail.text).not.toContain(code);
    }
  });

  it('tells the old address when a method added with a newly verified address moves the notices, and from then on only the new one', async () => {
    const id = randomUUID().slice(0, 8);
    const sub = `moved-${id}`;
    const oldEmail = `old-${id}@example.com`;
    const newEmail = `new-${id}@example.org`;
    const oldToken = stack.identity.issueToken({ sub, email: oldEmail });
    const before = createCheckedClient(stack.url, () => oldToken);
    const enrollment = await before.startTotpEnrollment();
    await before.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    await inbox.waitFor(oldEmail, 1, 5_000);

    // The identity provider's verified address changed (or someone changed it); a sign-in with it adds a second app, with a proof.
    const newToken = stack.identity.issueToken({ sub, email: newEmail });
    const after = createCheckedClient(stack.url, () => newToken);
    clock.advance(30_000);
    const second = await after.startTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    await after.confirmTotpEnrollment({ code: codeAt(second.secret, clock) });
    const told = (await inbox.waitFor(oldEmail, 2, 5_000))[1]!;
    expect(told.text.split('\n\n').slice(0, 2)).toEqual([
      'A two-factor method was added to your account: an authenticator app.',
      'Security notices for your account now go to another address: n***@example.org.',
    ]);
    expect(told.text).not.toContain(newEmail);
    const [added] = await inbox.waitFor(newEmail, 1, 5_000);
    expect(added!.text.split('\n')[0]).toBe('A two-factor method was added to your account: an authenticator app.');
    expect(added!.text).not.toContain('another address');

    // From then on the notices go to the new address only.
    const [app] = (await after.getMfaStatus()).authenticators;
    await after.renameAuthenticator(app!.id, { name: 'Phone' });
    await inbox.waitFor(newEmail, 2, 5_000);
    expect(await inbox.to(oldEmail)).toHaveLength(2);
    // Neither address is on the bus.
    const events = await readFile(stack.eventsPath!, 'utf8');
    expect(events).toContain(sub);
    expect(events).not.toContain(oldEmail);
    expect(events).not.toContain(newEmail);
  });

  it('tells the user of renames at most once an hour however many a password holder sends, and a rename to the name it has is no change at all', async () => {
    const email = `renames-${randomUUID().slice(0, 8)}@example.com`;
    const sub = `renames-${email}`;
    const token = stack.identity.issueToken({ sub, email });
    const client = createCheckedClient(stack.url, () => token);
    const enrollment = await client.startTotpEnrollment();
    await client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    await inbox.waitFor(email, 1, 5_000);
    // A second sign-in with the password: renaming needs no proof.
    const attackerToken = stack.identity.issueToken({ sub, email });
    const attacker = createCheckedClient(stack.url, () => attackerToken);
    const [app] = (await client.getMfaStatus()).authenticators;
    const names = ['Work phone', 'Old phone, safe to remove'];
    for (let i = 0; i < 6; i++) await attacker.renameAuthenticator(app!.id, { name: names[i % 2]! });
    expect((await attacker.renameAuthenticator(app!.id, { name: names[1]! })).name).toBe(names[1]);
    // A later change of the same user: once its notice is in, the stream has passed every rename.
    clock.advance(30_000);
    await client.regenerateRecoveryCodes({ code: codeAt(enrollment.secret, clock) });
    const firstLines = async (count: number) => (await inbox.waitFor(email, count, 5_000)).map((mail) => mail.text.split('\n')[0]);
    expect(await firstLines(3)).toEqual([
      'A two-factor method was added to your account: an authenticator app.',
      'A two-factor method of your account was renamed: an authenticator app.',
      'New recovery codes were made for your account (10 codes); the old ones no longer work.',
    ]);
    // Every rename that changed the name is a change event; the one to the same name is not.
    const renames = (await readFile(stack.eventsPath!, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { detail: { event: string; userId: string } })
      .filter(({ detail }) => detail.userId === sub && detail.event === 'authenticator.renamed');
    expect(renames).toHaveLength(6);
    // The next hour, the next rename is told again.
    clock.advance(RENAME_NOTICE_PERIOD_MS);
    await attacker.renameAuthenticator(app!.id, { name: names[0]! });
    await client.regenerateRecoveryCodes({ code: codeAt(enrollment.secret, clock) });
    expect((await firstLines(5)).slice(3)).toEqual([
      'A two-factor method of your account was renamed: an authenticator app.',
      'New recovery codes were made for your account (10 codes); the old ones no longer work.',
    ]);
  });

  it('sends nothing to a user whose address is not verified', async () => {
    const email = `unverified-${randomUUID().slice(0, 8)}@example.com`;
    const token = stack.identity.issueToken({ sub: `unverified-${email}`, email, emailVerified: false });
    const client = createCheckedClient(stack.url, () => token);
    const enrollment = await client.startTotpEnrollment();
    await client.confirmTotpEnrollment({ code: codeAt(enrollment.secret, clock) });
    // A verified user's change after it: once its notice is in, the stream has passed the first change.
    const marker = `marker-${randomUUID().slice(0, 8)}@example.com`;
    const markerToken = stack.identity.issueToken({ sub: `marker-${marker}`, email: marker });
    const other = createCheckedClient(stack.url, () => markerToken);
    const second = await other.startTotpEnrollment();
    await other.confirmTotpEnrollment({ code: codeAt(second.secret, clock) });
    await inbox.waitFor(marker, 1, 5_000);
    expect(await inbox.to(email)).toEqual([]);
  });
});

describe('moving the notices while another write moves them', () => {
  it('tells the address the write replaced: a write that read another one is refused and evaluated again', async () => {
    const t = await createTestService();
    const first = { ...newActor('moved'), verifiedEmail: `a-${randomUUID().slice(0, 8)}@example.com` };
    const enrollment = await t.service.startTotpEnrollment(first);
    await t.service.confirmTotpEnrollment(first, codeAt(enrollment.secret, t.clock));
    const meanwhile = `x-${randomUUID().slice(0, 8)}@example.com`;
    // Between this request's read and its write, another write moves the notices (once).
    let moved = false;
    const store = new Proxy(t.deps.store, {
      get(target, name, receiver) {
        const member = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'commitProof' || typeof member !== 'function') return typeof member === 'function' ? member.bind(target) : member;
        return async (...args: Parameters<typeof target.commitProof>) => {
          if (!moved && args[2].kind === 'add_authenticator') {
            moved = true;
            await t.client.send(
              new UpdateItemCommand({ TableName: t.tableName, Key: userKey(first.userId), UpdateExpression: 'SET notifyAddress = :x', ExpressionAttributeValues: { ':x': { S: meanwhile } } }),
            );
          }
          return target.commitProof(...args);
        };
      },
    });
    const service = new MfaService({ ...t.deps, store });
    const second = { ...first, verifiedEmail: `b-${randomUUID().slice(0, 8)}@example.com` };
    t.clock.advance(30_000);
    const app = await service.startTotpEnrollment(second, { code: codeAt(enrollment.secret, t.clock) });
    await service.confirmTotpEnrollment(second, codeAt(app.secret, t.clock));
    expect(moved).toBe(true);
    const { Item } = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: userKey(first.userId), ConsistentRead: true }));
    const notices = securityNoticesOfImage(Item as StreamImage);
    expect(notices.map(({ to, change }) => [to, change.event, change.noticesNowGoTo])).toEqual([
      [second.verifiedEmail, 'authenticator.added', undefined],
      [meanwhile, 'authenticator.added', 'b***@example.com'],
    ]);
  });
});

/**
 * A user with a verified address who just turned MFA on, and the stream record of that write: the
 * item after it is exactly the record's new image.
 */
async function enrolledUser(name: string, sequence: string) {
  const { service, deps, client, tableName } = await createTestService();
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  const actor = { ...newActor(name), verifiedEmail: email };
  const enrollment = await service.startTotpEnrollment(actor);
  await service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, deps.clock as ManualClock));
  const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: userKey(actor.userId), ConsistentRead: true }));
  const item = Item as StreamImage;
  const event = { Records: [{ eventID: '1', dynamodb: { SequenceNumber: sequence, NewImage: item } }] } as unknown as DynamoDBStreamEvent;
  return { email, item, event, deps, ledger: new DynamoDbNoticeLedger(client, tableName) };
}

describe('security notifications when the stream redelivers', () => {
  it('sends a record\'s notice once however often it is delivered, and again after a failed send', async () => {
    const { email, event, ledger, deps } = await enrolledUser('redelivered', '100');
    const notifier = (mailer: Mailer) =>
      createNoticeHandler(createSecurityNotifier({ mailer, ledger, clock: deps.clock, serviceName: 'Acme', warn: () => undefined }));
    const failing: Mailer = { send: () => Promise.reject(new MailNotSentError('ECONNREFUSED')) };
    const smtp = new SmtpMailer(stack.env.MFA_SMTP_URL!, 'no-reply@acme.example');

    expect(await notifier(failing)(event)).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
    expect(await notifier(smtp)(event)).toEqual({ batchItemFailures: [] });
    expect(await notifier(smtp)(event)).toEqual({ batchItemFailures: [] });
    expect(await notifier(smtp)(event)).toEqual({ batchItemFailures: [] });
    // A last mail to the same inbox: once it is in, everything sent before it is too.
    await smtp.send({ to: email, subject: 'marker', text: 'marker', html: '<p>marker</p>' });
    const mails = await inbox.waitFor(email, 2, 5_000);
    expect(mails.map((mail) => mail.subject)).toEqual(['Acme: security notice about your sign-in settings', 'marker']);
  });

  it('retries, never skips, a notice another delivery still holds (a sender that timed out), and sends it once that lease ends', async () => {
    const { email, item, event, ledger } = await enrolledUser('held', '200');
    const [notice] = securityNoticesOfImage(item);
    const noticeClock = new ManualClock();
    // A first delivery claimed the notice and timed out before sending it.
    expect(await ledger.claim(notice!.id, noticeClock.now())).toBe('claimed');
    const smtp = new SmtpMailer(stack.env.MFA_SMTP_URL!, 'no-reply@acme.example');
    const notifier = createNoticeHandler(createSecurityNotifier({ mailer: smtp, ledger, clock: noticeClock, serviceName: 'Acme', warn: () => undefined }));
    expect(await notifier(event)).toEqual({ batchItemFailures: [{ itemIdentifier: '200' }] });
    noticeClock.advance(NOTICE_LEASE_MS + 1);
    expect(await notifier(event)).toEqual({ batchItemFailures: [] });
    expect(await ledger.claim(notice!.id, noticeClock.now())).toBe('sent');
    expect(await notifier(event)).toEqual({ batchItemFailures: [] });
    await smtp.send({ to: email, subject: 'marker', text: 'marker', html: '<p>marker</p>' });
    const mails = await inbox.waitFor(email, 2, 5_000);
    expect(mails.map((mail) => mail.subject)).toEqual(['Acme: security notice about your sign-in settings', 'marker']);
  });
});
