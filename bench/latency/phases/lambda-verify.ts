import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { userKey } from '../../../functions/adapters/aws/mfa-item.js';
import { stepAt } from '../../../functions/methods/totp/totp.js';
import { startAwsHarness } from '../../../harness/aws-calls.js';
import { ManualClock } from '../../../harness/manual-clock.js';
import { elapsedMs, median, round, summarize } from '../../stats.js';
import type { LatencyPhase } from '../context.js';
import { itemBytes } from '../figures.js';
import { enableSeededTotp, onlyPendingEnrollment, verifyStorageFloor } from '../floors.js';
import { seedUsers, totpCodeFor, UserPool, type BenchUser } from '../load.js';

/**
 * The verify handler as Lambda runs it: AWS adapters (KMS answered in-process), invoked
 * directly without HTTP, interleaved with the same storage floor as the HTTP figures. Also
 * sizes the item a verification reads and rewrites, with KMS-sized ciphertext.
 */
export const lambdaVerifyPhase: LatencyPhase = {
  name: 'verify handler with the AWS adapters',
  async run(bench) {
    const { options } = bench;
    bench.log(`latency: verify handler with the AWS adapters, ${options.handlerPairs} pairs`);
    const clock = new ManualClock(Date.now());
    const harness = await startAwsHarness({ dynamoDbEndpoint: options.dynamoDbEndpoint, clock });
    try {
      const awsUser = async (): Promise<BenchUser> => {
        const sub = `bench-aws-${randomUUID()}`;
        const started = await harness.invoke('startTotpEnrollment', { sub, body: {} });
        if (started.status !== 201) throw new Error(`aws enrollment: ${started.status}`);
        const record = await harness.store.get(sub);
        const step = stepAt(clock.now()) - 2;
        await enableSeededTotp(harness.store, sub, { pending: onlyPendingEnrollment(record), step, recoveryCodeHashes: bench.sharedHashes }, clock.now());
        return { sub, token: '', secret: started.json.secret, lastStep: step, recoveryCodes: [...bench.sharedCodes] };
      };
      const verifyUsers = await seedUsers(4, awsUser);
      const verifyPool = new UserPool(verifyUsers);
      const floorOnce = verifyStorageFloor(harness.store, new UserPool(await seedUsers(2, awsUser)), clock);
      const compute: number[] = [];
      const verifyOnce = () =>
        verifyPool.with(async (user) => {
          const started = performance.now();
          const result = await harness.invoke('verifyMfa', { sub: user.sub, body: { code: totpCodeFor(user, clock) } });
          const ms = elapsedMs(started);
          if (result.status !== 200) throw new Error(`aws verify: ${result.status} ${JSON.stringify(result.json)}`);
          compute.push(ms - result.dynamoDbMs);
          return ms;
        });
      const handler: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < options.warmup + options.handlerPairs; i++) {
        const verifyFirst = i % 2 === 0;
        const a = verifyFirst ? await verifyOnce() : await floorOnce();
        const b = verifyFirst ? await floorOnce() : await verifyOnce();
        if (i < options.warmup) continue;
        handler.push(verifyFirst ? a : b);
        floor.push(verifyFirst ? b : a);
      }
      const { Item } = await harness.dynamoDb.send(new GetItemCommand({ TableName: harness.tableName, Key: userKey(verifyUsers[0]!.sub), ConsistentRead: true }));
      return {
        lambdaVerify: { handlerMs: summarize(handler), floorMs: summarize(floor), computeMs: round(median(compute.slice(options.warmup)), 3) },
        item: { bytesWithKmsCiphertext: Item ? itemBytes(Item as Parameters<typeof itemBytes>[0]) : 0 },
      };
    } finally {
      harness.close();
    }
  },
};
