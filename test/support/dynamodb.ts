import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { ensureMfaTable } from '../../local/mfa-table.js';

export function testDynamoDbEndpoint(): string {
  return inject('dynamoDbEndpoint');
}

export function testDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: testDynamoDbEndpoint() });
}

/** A fresh table in the shared DynamoDB Local, so test files never see each other's data. */
export async function createTestTable(client: DynamoDBClient, prefix = 'mfa-test'): Promise<string> {
  const name = `${prefix}-${randomUUID()}`;
  await ensureMfaTable(client, name);
  return name;
}
