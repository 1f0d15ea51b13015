import { GetItemCommand, PutItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { userKey } from '../../functions/adapters/aws/mfa-item.js';

export type Item = Record<string, AttributeValue>;

/** A stable text form of an item: attributes sorted, binaries as base64, sets sorted. */
export function canonicalItem(item: Item | undefined): string {
  if (!item) return 'null';
  return JSON.stringify(
    Object.keys(item)
      .sort()
      .map((name) => [name, canonicalValue(item[name]!)]),
  );
}

function canonicalValue(value: AttributeValue): unknown {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.SS !== undefined) return { SS: [...value.SS].sort() };
  if (value.NS !== undefined) return { NS: [...value.NS].sort() };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')).sort() };
  if (value.L !== undefined) return { L: value.L.map(canonicalValue) };
  if (value.M !== undefined) return { M: JSON.parse(canonicalItem(value.M)) };
  return value;
}

/** Every item of the table, in key order, as one string: equal strings mean byte-for-byte equal state. */
export async function snapshotTable(client: DynamoDBClient, tableName: string): Promise<string> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
    if (!startKey) break;
  }
  return items
    .map(canonicalItem)
    .sort()
    .join('\n');
}

export async function readUserItem(client: DynamoDBClient, tableName: string, userId: string): Promise<Item | undefined> {
  const { Item: item } = await client.send(new GetItemCommand({ TableName: tableName, Key: userKey(userId), ConsistentRead: true }));
  return item;
}

/** Puts an item back exactly as snapshotted (tests rewind a user to replay one operation from the same state). */
export async function restoreUserItem(client: DynamoDBClient, tableName: string, item: Item): Promise<void> {
  await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
}

/** The authenticator apps of a raw item, as stored (id, sealed secret, last accepted step). */
export function storedApps(item: Item | undefined): Array<{ id: string; secret: Uint8Array; lastStep: number }> {
  return Object.entries(item?.authenticators?.M ?? {})
    .filter(([, value]) => value.M?.kind?.S === 'totp')
    .map(([id, value]) => ({ id, secret: value.M!.secret!.B!, lastStep: Number(value.M!.lastStep!.N) }));
}
