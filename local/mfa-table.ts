import {
  CreateTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { MFA_TABLE } from '../functions/adapters/aws/mfa-item.js';

/** Creates the MFA table (as the CDK stack defines it) if it does not exist yet. */
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
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: MFA_TABLE.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException || (error as Error).name === 'ResourceInUseException') return;
    throw error;
  }
}
