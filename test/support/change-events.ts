import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { changeEventsOfImage, type StreamImage } from '../../functions/adapters/aws/change-event-stream.js';
import type { PublishedChangeEvent } from '../../functions/domain/change-events.js';
import { testDynamoDbClient, testDynamoDbEndpoint } from './dynamodb.js';

/**
 * Everything the table's stream holds so far (DynamoDB Local), read from the oldest record,
 * and the change events in it as the stream function would publish them.
 */
export async function streamOf(tableName: string): Promise<{ records: _Record[]; events: PublishedChangeEvent[] }> {
  const dynamo = testDynamoDbClient();
  const streams = new DynamoDBStreamsClient({ endpoint: testDynamoDbEndpoint() });
  try {
    const { Table: table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = table!.LatestStreamArn!;
    const { StreamDescription: description } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records: _Record[] = [];
    for (const shard of description?.Shards ?? []) {
      let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
      let empty = 0;
      while (iterator && empty < 2) {
        const output = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(output.Records ?? []));
        empty = (output.Records ?? []).length === 0 ? empty + 1 : 0;
        iterator = output.NextShardIterator;
      }
    }
    return { records, events: records.flatMap((record) => changeEventsOfImage(record.dynamodb?.NewImage as StreamImage | undefined)) };
  } finally {
    dynamo.destroy();
    streams.destroy();
  }
}

/** The change events of one user, in commit order. */
export async function changeEventsOf(tableName: string, userId: string): Promise<PublishedChangeEvent[]> {
  return (await streamOf(tableName)).events.filter((event) => event.userId === userId);
}
