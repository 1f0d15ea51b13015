import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { changeEventsOfImage, deliveredEventOf, type StreamImage } from '../functions/adapters/aws/change-event-stream.js';
import { LOCAL_AWS_ENV } from './dynamodb-local.js';

export const EVENTS_FILE = 'events.jsonl';
export const EVENTS_CHECKPOINT_FILE = 'events-checkpoint.json';

/** How far the reader got: the stream it read and the last sequence number handled per shard. */
interface Checkpoint {
  streamArn: string;
  shards: Record<string, string>;
  /** Shards read to their end (closed by DynamoDB). */
  finished: string[];
}

export interface ChangeEventLogOptions {
  dynamoDbEndpoint: string;
  tableName: string;
  /** events.jsonl and the checkpoint live here (MFA_DATA_DIR). */
  dataDir: string;
  pollIntervalMs?: number;
  /**
   * Also hands each batch of new images to this consumer (the local security notifier), before
   * the checkpoint moves past them: a consumer that throws gets the batch again on the next read.
   */
  consumer?: (images: Array<StreamImage | undefined>) => Promise<void>;
}

const credentials = { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY };

/**
 * The local stand-in for the stream function and the bus: reads DynamoDB Local's stream of
 * the MFA table and appends each change event, as an EventBridge target would receive it, as
 * one JSON line to `events.jsonl`. Lines are written before the checkpoint moves past their
 * record, so a reader stopped at any moment loses nothing on restart; at worst it writes a
 * record's events again (the same `detail.id`: at least once, as in the cloud).
 */
export class ChangeEventLog {
  private readonly streams: DynamoDBStreamsClient;
  private readonly eventsPath: string;
  private readonly checkpointPath: string;
  private checkpoint!: Checkpoint;
  private readonly iterators = new Map<string, string>();
  private shards: Shard[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly options: ChangeEventLogOptions) {
    this.streams = new DynamoDBStreamsClient({ endpoint: options.dynamoDbEndpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials });
    this.eventsPath = join(options.dataDir, EVENTS_FILE);
    this.checkpointPath = join(options.dataDir, EVENTS_CHECKPOINT_FILE);
  }

  get path(): string {
    return this.eventsPath;
  }

  static async start(options: ChangeEventLogOptions): Promise<ChangeEventLog> {
    const log = new ChangeEventLog(options);
    await log.open();
    log.loop = log.run();
    return log;
  }

  /** Stops after the read in progress; everything read so far is in the file and the checkpoint. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    this.streams.destroy();
  }

  private async open(): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    const dynamo = new DynamoDBClient({ endpoint: this.options.dynamoDbEndpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials });
    try {
      const { Table: table } = await dynamo.send(new DescribeTableCommand({ TableName: this.options.tableName }));
      const streamArn = table?.LatestStreamArn;
      if (!streamArn) throw new Error(`The table ${this.options.tableName} has no stream: create it with StreamSpecification (local/mfa-table.ts).`);
      const saved = await readCheckpoint(this.checkpointPath);
      // Another stream (the table was created again): its sequence numbers mean nothing here.
      this.checkpoint = saved?.streamArn === streamArn ? saved : { streamArn, shards: {}, finished: [] };
    } finally {
      dynamo.destroy();
    }
  }

  private async run(): Promise<void> {
    let round = 0;
    while (!this.stopped) {
      try {
        if (round++ % 20 === 0 || this.iterators.size === 0) await this.refreshShards();
        for (const shard of this.shards) {
          if (this.stopped) break;
          await this.readShard(shard.ShardId!);
        }
      } catch (error) {
        if (!this.stopped) console.error(`change event log: ${(error as Error).message}`);
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.pollIntervalMs ?? 250);
      });
    }
  }

  /** The stream's shards, parents before children, without those read to their end. */
  private async refreshShards(): Promise<void> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription: description } = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.checkpoint.streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      shards.push(...(description?.Shards ?? []));
      start = description?.LastEvaluatedShardId;
    } while (start);
    this.shards = shards.filter((shard) => shard.ShardId && !this.checkpoint.finished.includes(shard.ShardId));
  }

  private async iteratorOf(shardId: string): Promise<string | undefined> {
    const known = this.iterators.get(shardId);
    if (known) return known;
    const after = this.checkpoint.shards[shardId];
    const get = (fromStart: boolean) =>
      this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: this.checkpoint.streamArn,
          ShardId: shardId,
          ...(fromStart ? { ShardIteratorType: 'TRIM_HORIZON' as const } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: after }),
        }),
      );
    let iterator: string | undefined;
    try {
      ({ ShardIterator: iterator } = await get(after === undefined));
    } catch (error) {
      // The checkpoint's record aged out of the stream (24 h): start from the oldest still there.
      if ((error as Error).name !== 'TrimmedDataAccessException') throw error;
      ({ ShardIterator: iterator } = await get(true));
    }
    if (iterator) this.iterators.set(shardId, iterator);
    return iterator;
  }

  private async readShard(shardId: string): Promise<void> {
    const iterator = await this.iteratorOf(shardId);
    if (!iterator) return;
    let output;
    try {
      output = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    } catch (error) {
      if ((error as Error).name === 'ExpiredIteratorException' || (error as Error).name === 'TrimmedDataAccessException') {
        this.iterators.delete(shardId);
        return;
      }
      throw error;
    }
    const records = output.Records ?? [];
    if (records.length > 0) {
      const lines = records.flatMap((record) =>
        changeEventsOfImage(record.dynamodb?.NewImage as StreamImage | undefined).map((event) => `${JSON.stringify(deliveredEventOf(event))}\n`),
      );
      if (this.options.consumer) {
        try {
          await this.options.consumer(records.map((record) => record.dynamodb?.NewImage as StreamImage | undefined));
        } catch (error) {
          // Nothing of this batch is written yet: the next read starts again from the checkpoint.
          this.iterators.delete(shardId);
          throw error;
        }
      }
      if (lines.length > 0) await appendFile(this.eventsPath, lines.join(''));
      this.checkpoint.shards[shardId] = records.at(-1)!.dynamodb!.SequenceNumber!;
    }
    if (output.NextShardIterator) {
      this.iterators.set(shardId, output.NextShardIterator);
    } else {
      this.iterators.delete(shardId);
      this.checkpoint.finished.push(shardId);
      this.shards = this.shards.filter((shard) => shard.ShardId !== shardId);
    }
    if (records.length > 0 || !output.NextShardIterator) await this.saveCheckpoint();
  }

  private async saveCheckpoint(): Promise<void> {
    const temporary = `${this.checkpointPath}.tmp`;
    await writeFile(temporary, JSON.stringify(this.checkpoint));
    await rename(temporary, this.checkpointPath);
  }
}

async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Checkpoint>;
    if (typeof parsed.streamArn !== 'string' || typeof parsed.shards !== 'object' || parsed.shards === null) return undefined;
    return { streamArn: parsed.streamArn, shards: parsed.shards as Record<string, string>, finished: Array.isArray(parsed.finished) ? parsed.finished : [] };
  } catch {
    return undefined;
  }
}
