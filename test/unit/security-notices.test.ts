import { describe, expect, it } from 'vitest';
import { changeEventsOfImage, detailOf, securityNoticesOfImage, type StreamImage } from '../../functions/adapters/aws/change-event-stream.js';
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
});
