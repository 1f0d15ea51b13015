import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { changeEventsOfImage, deliveredEventOf, type StreamImage } from '../adapters/aws/change-event-stream.js';
import { logger } from '../observability.js';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * The stream function: each MFA table stream record's change events to EventBridge. A record
 * whose events did not all get onto the bus is reported in `batchItemFailures`, so Lambda
 * retries from it (its events may then arrive twice: consumers de-duplicate on `detail.id`).
 */
export function createPublisher(client: Pick<EventBridgeClient, 'send'>, eventBusName: string) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const entries: Array<{ record: string; entry: PutEventsRequestEntry }> = [];
    for (const record of event.Records) {
      const sequence = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
      for (const change of changeEventsOfImage(record.dynamodb?.NewImage as StreamImage | undefined)) {
        const delivered = deliveredEventOf(change);
        entries.push({
          record: sequence,
          entry: { EventBusName: eventBusName, Source: delivered.source, DetailType: delivered['detail-type'], Time: new Date(delivered.time), Detail: JSON.stringify(delivered.detail) },
        });
      }
    }
    const failed = new Set<string>();
    for (let start = 0; start < entries.length; start += PUT_EVENTS_MAX_ENTRIES) {
      const chunk = entries.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
      try {
        const output = await client.send(new PutEventsCommand({ Entries: chunk.map(({ entry }) => entry) }));
        if ((output.FailedEntryCount ?? 0) > 0) {
          // Entries answer in request order; a failed one carries an ErrorCode.
          chunk.forEach(({ record }, i) => {
            const answer = output.Entries?.[i];
            if (!answer || answer.ErrorCode || !answer.EventId) failed.add(record);
          });
        }
      } catch (error) {
        logger.error('PutEvents failed', { errorName: (error as Error)?.name ?? typeof error, entries: chunk.length });
        for (const { record } of chunk) failed.add(record);
      }
    }
    if (failed.size > 0) logger.warn('change events not delivered; their records will be retried', { records: failed.size });
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** The bus from MFA_EVENT_BUS_NAME: without it the function refuses to start (it never drops events silently). */
export function eventBusNameFrom(env: NodeJS.ProcessEnv): string {
  const name = env.MFA_EVENT_BUS_NAME?.trim();
  // Not config.ts's ConfigurationError: importing that module would bundle zod and the route table into this function.
  if (!name) throw Object.assign(new Error('Missing configuration: MFA_EVENT_BUS_NAME.'), { name: 'ConfigurationError' });
  return name;
}

let built: ReturnType<typeof createPublisher> | undefined;
const build = () => createPublisher(new EventBridgeClient({ maxAttempts: 3 }), eventBusNameFrom(process.env));

// In Lambda, built at cold start: missing configuration fails the init, and the records stay in the stream.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) built = build();

export const handler = (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => (built ??= build())(event);
