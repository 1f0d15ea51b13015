import { describe, expect, it } from 'vitest';
import { changeEventsOfImage, detailOf, RENAME_NOTICE_PERIOD_MS, securityNoticesOfImage, type StreamImage } from '../../functions/adapters/aws/change-event-stream.js';
import { securityNotificationMail } from '../../functions/mail/templates.js';

/** A stream record's new image: the item after a write that added a method, with that write's outbox. */
function imageOf(notifyAddress: string, added: { previousNotifyAddress?: string }): StreamImage {
  return {
    pk: { S: 'USER#u-1' },
    lastWriteId: { S: 'w-1' },
    notifyAddress: { S: notifyAddress },
    outbox: {
      L: [
        {
          M: {
            event: { S: 'authenticator.added' },
            requestId: { S: 'r-1' },
            at: { N: String(Date.parse('2026-12-03T10:00:00Z')) },
            method: { S: 'webauthn' },
            authenticatorId: { S: 'k-1' },
            sourceIp: { S: '203.0.113.9' },
            ...(added.previousNotifyAddress ? { previousNotifyAddress: { S: added.previousNotifyAddress } } : {}),
          },
        },
      ],
    },
  };
}

describe('security notices of a stream record', () => {
  it('tells the address notices went to before a change moved them, with the new one masked, under an id of its own', () => {
    const notices = securityNoticesOfImage(imageOf('new.person@example.org', { previousNotifyAddress: 'alice@example.com' }));
    expect(notices).toEqual([
      { id: 'w-1:0', to: 'new.person@example.org', change: { event: 'authenticator.added', at: '2026-12-03T10:00:00.000Z', method: 'webauthn', recoveryCodesRemaining: undefined, sourceIp: '203.0.113.9' } },
      {
        id: 'w-1:0:previous',
        to: 'alice@example.com',
        change: { event: 'authenticator.added', at: '2026-12-03T10:00:00.000Z', method: 'webauthn', recoveryCodesRemaining: undefined, sourceIp: '203.0.113.9', noticesNowGoTo: 'n***@example.org' },
      },
    ]);
  });

  it('sends one notice when the address did not change, or changed only in case', () => {
    expect(securityNoticesOfImage(imageOf('alice@example.com', {}))).toHaveLength(1);
    expect(securityNoticesOfImage(imageOf('Alice@Example.com', { previousNotifyAddress: 'alice@example.com' }))).toHaveLength(1);
  });

  it('never puts either address on the bus', () => {
    const image = imageOf('new.person@example.org', { previousNotifyAddress: 'alice@example.com' });
    const published = JSON.stringify(changeEventsOfImage(image).map(detailOf));
    expect(published).not.toContain('example.com');
    expect(published).not.toContain('example.org');
    expect(published).not.toContain('203.0.113.9');
  });

  it('says in the old mailbox where notices go now, masked, and nothing of it in the new one', () => {
    const [toNew, toOld] = securityNoticesOfImage(imageOf('new.person@example.org', { previousNotifyAddress: 'alice@example.com' }));
    const old = securityNotificationMail({ to: toOld!.to, change: toOld!.change, serviceName: 'Acme' });
    expect(old.text.split('\n\n').slice(0, 2)).toEqual([
      'A two-factor method was added to your account: a security key.',
      'Security notices for your account now go to another address: n***@example.org.',
    ]);
    expect(old.text).not.toContain('new.person');
    expect(old.html).toContain('n***@example.org');
    expect(securityNotificationMail({ to: toNew!.to, change: toNew!.change, serviceName: 'Acme' }).text).not.toContain('another address');
  });

  it('gives every rename of one user\'s methods of one kind in one hour the same notice id (so one mail), and any other event, kind, hour or user its own', () => {
    const renamed = (user: string, writeId: string, at: string, event = 'authenticator.renamed', method = 'totp'): StreamImage => ({
      pk: { S: `USER#${user}` },
      lastWriteId: { S: writeId },
      notifyAddress: { S: 'alice@example.com' },
      outbox: { L: [{ M: { event: { S: event }, requestId: { S: 'r' }, at: { N: String(Date.parse(at)) }, method: { S: method }, authenticatorId: { S: 'a-1' } } }] },
    });
    const idOf = (image: StreamImage) => securityNoticesOfImage(image).map((notice) => notice.id);
    const hour = Date.parse('2026-12-05T10:00:00Z');
    expect(hour % RENAME_NOTICE_PERIOD_MS).toBe(0);
    const first = idOf(renamed('u-1', 'w-1', '2026-12-05T10:00:00Z'));
    expect(idOf(renamed('u-1', 'w-2', '2026-12-05T10:59:59.999Z'))).toEqual(first);
    expect(idOf(renamed('u-1', 'w-3', '2026-12-05T11:00:00Z'))).not.toEqual(first);
    expect(idOf(renamed('u-2', 'w-4', '2026-12-05T10:00:00Z'))).not.toEqual(first);
    const key = idOf(renamed('u-1', 'w-7', '2026-12-05T10:30:00Z', 'authenticator.renamed', 'webauthn'));
    expect(key).not.toEqual(first);
    expect(idOf(renamed('u-1', 'w-8', '2026-12-05T10:45:00Z', 'authenticator.renamed', 'webauthn'))).toEqual(key);
    expect(idOf(renamed('u-1', 'w-5', '2026-12-05T10:00:00Z', 'authenticator.removed'))).toEqual(['w-5:0']);
    expect(idOf(renamed('u-1', 'w-6', '2026-12-05T10:00:00Z', 'authenticator.removed'))).toEqual(['w-6:0']);
  });
});
