import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { NoticeClaim, NoticeLedger } from '../../ports/notice-ledger.js';
import { MFA_TABLE, NOTICE, noticeKey, num } from './mfa-item.js';

/**
 * How long a sender holds an event it claimed before another delivery may take it over: a little
 * more than the notice function's 10 s timeout (lib/constructs/mfa-function.ts), so that a sender
 * that timed out frees its events for the stream's next retry, and no two senders ever overlap.
 */
export const NOTICE_LEASE_MS = 12_000;
/** Idempotency records outlive the stream's retention (24 h) several times over, then expire. */
export const NOTICE_TTL_SECONDS = 7 * 24 * 3600;

/** NoticeLedger on the MFA table: one small item per notice (mfa-item.ts, NOTICE), each change a conditional UpdateItem. */
export class DynamoDbNoticeLedger implements NoticeLedger {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
  ) {}

  async claim(noticeId: string, now: number): Promise<NoticeClaim> {
    const claimed = await this.update(noticeId, {
      UpdateExpression: 'SET #state = :sending, #leaseUntil = :leaseUntil, #ttl = :ttl',
      // New, or claimed by a sender whose lease ran out (it failed or died before sending).
      ConditionExpression: 'attribute_not_exists(#pk) OR (#state = :sending AND #leaseUntil < :now)',
      ExpressionAttributeNames: { '#pk': MFA_TABLE.partitionKey, '#state': NOTICE.state, '#leaseUntil': NOTICE.leaseUntil, '#ttl': MFA_TABLE.timeToLiveAttribute },
      ExpressionAttributeValues: {
        ':sending': { S: 'sending' },
        ':leaseUntil': num(now + NOTICE_LEASE_MS),
        ':now': num(now),
        ':ttl': num(Math.ceil(now / 1000) + NOTICE_TTL_SECONDS),
      },
    });
    if (claimed) return 'claimed';
    // Whether the mail went out: a write that changes nothing, on condition that it did (the function may only UpdateItem).
    const sent = await this.update(noticeId, {
      UpdateExpression: 'SET #state = :sent',
      ConditionExpression: '#state = :sent',
      ExpressionAttributeNames: { '#state': NOTICE.state },
      ExpressionAttributeValues: { ':sent': { S: 'sent' } },
    });
    return sent ? 'sent' : 'held';
  }

  async sent(noticeId: string): Promise<void> {
    await this.update(noticeId, {
      UpdateExpression: 'SET #state = :sent REMOVE #leaseUntil',
      ExpressionAttributeNames: { '#state': NOTICE.state, '#leaseUntil': NOTICE.leaseUntil },
      ExpressionAttributeValues: { ':sent': { S: 'sent' } },
    });
  }

  async release(noticeId: string): Promise<void> {
    await this.update(noticeId, {
      UpdateExpression: 'SET #leaseUntil = :zero',
      ConditionExpression: '#state = :sending',
      ExpressionAttributeNames: { '#state': NOTICE.state, '#leaseUntil': NOTICE.leaseUntil },
      ExpressionAttributeValues: { ':zero': num(0), ':sending': { S: 'sending' } },
    });
  }

  /** One UpdateItem of the event's notice record: false when its condition does not hold. */
  private async update(noticeId: string, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>): Promise<boolean> {
    try {
      await this.client.send(new UpdateItemCommand({ TableName: this.tableName, Key: noticeKey(noticeId), ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error | undefined)?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
