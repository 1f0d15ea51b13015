import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type StreamSpecification,
} from '@aws-sdk/client-dynamodb';
import { MFA_TABLE } from '../functions/adapters/aws/mfa-item.js';

/** The table's stream, as the stack has it: each write's new image (its outbox: the change events). */
export const MFA_TABLE_STREAM: StreamSpecification = { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' };

/** Creates the MFA table (as the CDK stack defines it) if it does not exist yet; gives an older one its stream. */
export async function ensureMfaTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: MFA_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: MFA_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: MFA_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: MFA_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        StreamSpecification: MFA_TABLE_STREAM,
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: MFA_TABLE.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException || (error as Error).name === 'ResourceInUseException')) throw error;
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!table?.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: MFA_TABLE_STREAM }));
    }
  }
}
