/**
 * A replay cache shared by every instance of a backend (Lambda functions, containers): one
 * conditional PutItem per accepted assertion. Its own entry point, so that the verifier alone
 * does not pull in the AWS SDK.
 *
 * The table needs a string partition key (default `pk`) and, for clean-up, DynamoDB TTL on a
 * number attribute (default `expiresAt`). It can be the app's own table: entries are keyed
 * `mfa-assertion#<jti>` (and take a fixed sort key value if the table has one).
 */
import { ConditionalCheckFailedException, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ReplayCache } from './replay-cache.js';

export interface DynamoDbReplayCacheOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Default `pk`. */
  partitionKey?: string;
  /** For a table with a sort key: its name and the value entries use. */
  sortKey?: { name: string; value: string };
  /** The table's TTL attribute (epoch seconds). Default `expiresAt`. */
  ttlAttribute?: string;
  /** Default `mfa-assertion#`. */
  keyPrefix?: string;
}

export function createDynamoDbReplayCache(options: DynamoDbReplayCacheOptions): ReplayCache {
  const partitionKey = options.partitionKey ?? 'pk';
  const ttlAttribute = options.ttlAttribute ?? 'expiresAt';
  const keyPrefix = options.keyPrefix ?? 'mfa-assertion#';
  return {
    async claim(jti, expiresAtSeconds) {
      const item: Record<string, AttributeValue> = {
        [partitionKey]: { S: `${keyPrefix}${jti}` },
        [ttlAttribute]: { N: String(Math.ceil(expiresAtSeconds)) },
      };
      if (options.sortKey) item[options.sortKey.name] = { S: options.sortKey.value };
      try {
        // A jti is random and never issued twice: any entry under it, expired or not, means a replay.
        await options.client.send(
          new PutItemCommand({
            TableName: options.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': partitionKey },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
