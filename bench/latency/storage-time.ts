import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { elapsedMs } from '../stats.js';

/**
 * Time spent inside `DynamoDBClient.send` in this process, from the call to its answer (the SDK's
 * serialising, signing and parsing included, as the floor pays them): every client counts, the
 * handlers' in the local stack and the floors'. Only for operations run one at a time: with
 * several in flight, their storage times would add up into each other's.
 */
let spentMs = 0;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const send = DynamoDBClient.prototype.send as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(DynamoDBClient.prototype, 'send', {
    configurable: true,
    writable: true,
    value: async function timedSend(this: DynamoDBClient, ...args: unknown[]) {
      const started = performance.now();
      try {
        return await send.apply(this, args);
      } finally {
        spentMs += elapsedMs(started);
      }
    },
  });
}

/** Runs one operation alone and splits its latency into the time in DynamoDB calls and the rest. */
export async function splitByStorage(operation: () => Promise<number>): Promise<{ ms: number; storageMs: number }> {
  install();
  spentMs = 0;
  const ms = await operation();
  return { ms, storageMs: spentMs };
}
