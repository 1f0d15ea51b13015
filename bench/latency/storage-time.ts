import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { elapsedMs } from '../stats.js';

/** Splits one operation's latency into the time inside DynamoDB calls and the rest. */
export type StorageSplit = (operation: () => Promise<number>) => Promise<{ ms: number; storageMs: number }>;

/**
 * Runs `work` with every `DynamoDBClient.send` of this process timed, from the call to its answer
 * (the SDK's serialising, signing and parsing included, as the floor pays them), the handlers'
 * clients in the local stack and the floors' alike; `send` is itself again afterwards, so no other
 * figure pays for the timing. `split` is only for operations run one at a time: with several in
 * flight, their storage times would add up into each other's.
 */
export async function withStorageTiming<T>(work: (split: StorageSplit) => Promise<T>): Promise<T> {
  const prototype = DynamoDBClient.prototype as { send: (...args: unknown[]) => Promise<unknown> };
  const send = prototype.send;
  let spentMs = 0;
  prototype.send = async function timedSend(this: DynamoDBClient, ...args: unknown[]) {
    const started = performance.now();
    try {
      return await send.apply(this, args);
    } finally {
      spentMs += elapsedMs(started);
    }
  };
  try {
    return await work(async (operation) => {
      spentMs = 0;
      const ms = await operation();
      return { ms, storageMs: spentMs };
    });
  } finally {
    prototype.send = send;
  }
}
