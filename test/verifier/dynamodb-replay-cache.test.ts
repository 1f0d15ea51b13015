import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, GetItemCommand, UpdateTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbReplayCache } from '../../verifier/dynamodb-replay-cache.js';
import { createMfaVerifier, MfaAssertionError, MfaVerifierUnavailableError } from '../../verifier/index.js';
import { startAssertionIssuer, type AssertionIssuer } from '../support/assertion-issuer.js';
import { testDynamoDbClient } from '../support/dynamodb.js';

let client: DynamoDBClient;
let issuer: AssertionIssuer;
const tables: string[] = [];

/** A table as an app would define one for the cache: string partition key, TTL on expiresAt. */
async function createReplayTable(withSortKey = false): Promise<string> {
  const tableName = `mfa-replay-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, ...(withSortKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : [])],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(withSortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
  tables.push(tableName);
  return tableName;
}

beforeAll(async () => {
  client = testDynamoDbClient();
  issuer = await startAssertionIssuer();
});
afterAll(async () => {
  for (const TableName of tables) await client.send(new DeleteTableCommand({ TableName }));
  client.destroy();
  await issuer?.stop();
});

describe('createDynamoDbReplayCache (DynamoDB Local)', () => {
  it('claims a jti once, with a conditional put that stores the TTL', async () => {
    const tableName = await createReplayTable();
    const cache = createDynamoDbReplayCache({ client, tableName });
    const jti = randomUUID();
    expect(await cache.claim(jti, 1_800_000_000)).toBe(true);
    expect(await cache.claim(jti, 1_800_000_000)).toBe(false);
    expect(await cache.claim(randomUUID(), 1_800_000_000)).toBe(true);
    const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `mfa-assertion#${jti}` } } }));
    expect(Item).toEqual({ pk: { S: `mfa-assertion#${jti}` }, expiresAt: { N: '1800000000' } });
  });

  it('lets exactly one of many concurrent claims of the same jti win', async () => {
    const cache = createDynamoDbReplayCache({ client, tableName: await createReplayTable() });
    const jti = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => cache.claim(jti, 1_800_000_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("works in an app's own table with a sort key", async () => {
    const tableName = await createReplayTable(true);
    const cache = createDynamoDbReplayCache({ client, tableName, sortKey: { name: 'sk', value: 'MFA_ASSERTION' } });
    const jti = randomUUID();
    expect(await cache.claim(jti, 1_800_000_000)).toBe(true);
    expect(await cache.claim(jti, 1_800_000_000)).toBe(false);
  });

  it('refuses an assertion replayed to another instance of the backend (two verifiers, one table)', async () => {
    const tableName = await createReplayTable();
    const [first, second] = [1, 2].map(() =>
      createMfaVerifier({ issuer: issuer.issuer, audience: 'app-one', clockToleranceSeconds: 5, replayCache: createDynamoDbReplayCache({ client, tableName }) }),
    );
    const token = await issuer.sign();
    const claims = await first!.verify(token);
    const replay = await second!.verify(token).catch((error: unknown) => error);
    expect(replay).toBeInstanceOf(MfaAssertionError);
    expect((replay as MfaAssertionError).reason).toBe('replayed');
    const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `mfa-assertion#${claims.jti}` } } }));
    // Kept until the assertion can no longer be accepted: its exp plus the clock tolerance.
    expect(Item?.expiresAt).toEqual({ N: String(claims.exp + 5) });
  });

  it('reports a cache it cannot write as unavailable, never as accepted', async () => {
    const verifier = createMfaVerifier({
      issuer: issuer.issuer,
      audience: 'app-one',
      replayCache: createDynamoDbReplayCache({ client, tableName: `no-such-table-${randomUUID()}` }),
    });
    await expect(verifier.verify(await issuer.sign())).rejects.toBeInstanceOf(MfaVerifierUnavailableError);
  });
});
