import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { changeEventsOfImage } from '../../functions/adapters/aws/change-event-stream.js';
import { createPublisher, eventBusNameFrom, PUT_EVENTS_MAX_ENTRIES } from '../../functions/streams/publish-events.js';

const BUS = 'serverless-mfa-events';
const eventBridge = mockClient(EventBridgeClient);
afterEach(() => eventBridge.reset());

type Outbox = Array<{ event: string; at: number; method?: string; authenticatorId?: string; recoveryCodesRemaining?: number }>;

/** A stream record as Lambda hands it over (JSON attribute values), of a write with this outbox. */
function streamRecord(sequence: string, userId: string, writeId: string, outbox: Outbox | undefined): DynamoDBRecord {
  const image: Record<string, unknown> = {
    pk: { S: `USER#${userId}` },
    sk: { S: 'MFA' },
    lastWriteId: { S: writeId },
    authenticators: { M: { app1: { M: { kind: { S: 'totp' }, secret: { B: 'c2VhbGVkLXNlY3JldA==' } } } } },
    recoveryCodes: { SS: ['scrypt$hash-a', 'scrypt$hash-b'] },
  };
  if (outbox) {
    image.outbox = {
      L: outbox.map((entry) => ({
        M: {
          event: { S: entry.event },
          requestId: { S: `req-${sequence}` },
          at: { N: String(entry.at) },
          ...(entry.method ? { method: { S: entry.method } } : {}),
          ...(entry.authenticatorId ? { authenticatorId: { S: entry.authenticatorId } } : {}),
          ...(entry.recoveryCodesRemaining !== undefined ? { recoveryCodesRemaining: { N: String(entry.recoveryCodesRemaining) } } : {}),
        },
      })),
    };
  }
  return { eventID: `e-${sequence}`, eventName: 'MODIFY', eventSource: 'aws:dynamodb', dynamodb: { SequenceNumber: sequence, NewImage: image as never, StreamViewType: 'NEW_IMAGE' } };
}

const AT = Date.UTC(2026, 11, 1, 12, 0, 0);
const streamEvent = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const sentEntries = () => eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

describe('change events of a stream image', () => {
  it('reads the outbox: id from the write id and index, user from the key, time as ISO 8601', () => {
    const record = streamRecord('100', 'alice', 'w-1', [
      { event: 'mfa.enabled', at: AT, method: 'totp', authenticatorId: 'app1' },
      { event: 'authenticator.added', at: AT, method: 'totp', authenticatorId: 'app1' },
    ]);
    expect(changeEventsOfImage(record.dynamodb!.NewImage as never)).toEqual([
      { id: 'w-1:0', event: 'mfa.enabled', userId: 'alice', method: 'totp', authenticatorId: 'app1', at: '2026-12-01T12:00:00.000Z', requestId: 'req-100' },
      { id: 'w-1:1', event: 'authenticator.added', userId: 'alice', method: 'totp', authenticatorId: 'app1', at: '2026-12-01T12:00:00.000Z', requestId: 'req-100' },
    ]);
  });

  it('finds none in a write without outbox, an image without key, or an unknown event name', () => {
    expect(changeEventsOfImage(streamRecord('1', 'alice', 'w', undefined).dynamodb!.NewImage as never)).toEqual([]);
    expect(changeEventsOfImage(undefined)).toEqual([]);
    expect(changeEventsOfImage(streamRecord('2', 'alice', 'w', [{ event: 'mfa.exploded', at: AT }]).dynamodb!.NewImage as never)).toEqual([]);
  });
});

describe('the stream function', () => {
  it('puts each event on the bus with the source, the detail-type of its kind and exactly the documented detail', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })) }));
    const publish = createPublisher(new EventBridgeClient({ region: 'eu-west-1' }), BUS);
    const result = await publish(streamEvent(streamRecord('100', 'alice', 'w-1', [{ event: 'recovery_code.used', at: AT, method: 'recovery_code', recoveryCodesRemaining: 9 }])));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sentEntries()).toEqual([
      [
        {
          EventBusName: BUS,
          Source: 'serverless-mfa',
          DetailType: 'MFA Recovery Code Used',
          Time: new Date(AT),
          Detail: JSON.stringify({ id: 'w-1:0', event: 'recovery_code.used', userId: 'alice', method: 'recovery_code', recoveryCodesRemaining: 9, at: '2026-12-01T12:00:00.000Z', requestId: 'req-100' }),
        },
      ],
    ]);
    const detail = sentEntries()[0]![0]!.Detail!;
    for (const secret of ['c2VhbGVkLXNlY3JldA==', 'scrypt$hash', 'sealed-secret']) expect(detail).not.toContain(secret);
  });

  it('sends at most 10 entries per PutEvents call, in stream order, and nothing for records without events', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
    const records = Array.from({ length: 12 }, (_, i) => streamRecord(String(200 + i), `user-${i}`, `w-${i}`, [{ event: 'authenticator.renamed', at: AT + i, authenticatorId: `a${i}` }]));
    records.splice(5, 0, streamRecord('199', 'quiet', 'w-quiet', undefined));
    await createPublisher(new EventBridgeClient({ region: 'eu-west-1' }), BUS)(streamEvent(...records));
    const sent = sentEntries();
    expect(sent.map((entries) => entries.length)).toEqual([PUT_EVENTS_MAX_ENTRIES, 2]);
    expect(sent.flat().map((entry) => JSON.parse(entry.Detail!).userId)).toEqual(Array.from({ length: 12 }, (_, i) => `user-${i}`));
  });

  it('reports the records of entries EventBridge refused, so that Lambda retries them', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'ok-0' }, { EventId: 'ok-1' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const result = await createPublisher(new EventBridgeClient({ region: 'eu-west-1' }), BUS)(
      streamEvent(
        streamRecord('300', 'alice', 'w-a', [
          { event: 'mfa.enabled', at: AT },
          { event: 'authenticator.added', at: AT },
        ]),
        streamRecord('301', 'bob', 'w-b', [{ event: 'admin.unlock', at: AT }]),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '301' }] });
  });

  it('reports every record of a call that failed as a whole', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException', $fault: 'client', $metadata: {} }))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] });
    const records = Array.from({ length: 11 }, (_, i) => streamRecord(String(400 + i), 'carol', `w-${i}`, [{ event: 'lockout.started', at: AT }]));
    const result = await createPublisher(new EventBridgeClient({ region: 'eu-west-1', maxAttempts: 1 }), BUS)(streamEvent(...records));
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(Array.from({ length: 10 }, (_, i) => String(400 + i)));
  });

  it('refuses to start without MFA_EVENT_BUS_NAME', () => {
    expect(() => eventBusNameFrom({})).toThrow(/MFA_EVENT_BUS_NAME/);
    expect(() => eventBusNameFrom({ MFA_EVENT_BUS_NAME: '  ' })).toThrow(/MFA_EVENT_BUS_NAME/);
    expect(eventBusNameFrom({ MFA_EVENT_BUS_NAME: BUS })).toBe(BUS);
  });

  it('fails its cold start in Lambda when the bus is not configured (the records stay in the stream)', async () => {
    vi.resetModules();
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'serverless-mfa-publish-events');
    vi.stubEnv('MFA_EVENT_BUS_NAME', '');
    try {
      await expect(import('../../functions/streams/publish-events.js')).rejects.toThrow(/MFA_EVENT_BUS_NAME/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
