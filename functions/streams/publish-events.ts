import type { DynamoDBStreamEvent } from 'aws-lambda';

/**
 * PLACEHOLDER so the stack can bundle the change-event publisher: publishes MFA change events
 * from the table's stream (NEW_IMAGE) to the stack's EventBridge bus (env MFA_EVENT_BUS_NAME).
 * The real handler replaces this file; until then every batch fails and lands in the
 * dead-letter queue after the retries.
 */
export async function handler(_event: DynamoDBStreamEvent): Promise<never> {
  throw new Error('publish-events: not implemented');
}
