import { join } from 'node:path';
import { profiled } from '../../profile.js';
import { median, ratio, repeated, round, summarize } from '../../stats.js';
import type { LatencyPhase } from '../context.js';
import { overhead } from '../figures.js';
import { VERIFY_STORAGE_CALLS } from '../floors.js';
import { runBlock } from '../load.js';
import { withStorageTiming } from '../storage-time.js';

/**
 * Verify with a TOTP code at concurrency 1, one by one, interleaved with its storage floor, the
 * one-write floor and the HTTP hop (the discovery document through the same client and local
 * API Gateway stand-in: no storage, no KMS), the order rotating; `rounds` rounds, each giving a ratio.
 */
export const verifyPhase: LatencyPhase = {
  name: 'verify (TOTP), concurrency 1',
  async run(bench) {
    const { options, log } = bench;
    log(`latency: verify with a TOTP code, ${options.rounds} x ${options.verifyPairs} rounds interleaved with the storage floor (${VERIFY_STORAGE_CALLS.join(' + ')})`);
    const kinds = ['verify', 'floor', 'oneWrite', 'hop'] as const;
    const operation = { verify: bench.verifyOnce, floor: bench.floorOnce, oneWrite: bench.oneWriteFloorOnce, hop: bench.httpHopOnce };
    const all = { verify: [] as number[], floor: [] as number[], oneWrite: [] as number[], hop: [] as number[] };
    // Each sample's time inside DynamoDB calls: the storage part of a verification beside its floor's.
    const storage = { verify: [] as number[], floor: [] as number[], oneWrite: [] as number[], hop: [] as number[] };
    const roundRatios: number[] = [];
    for (let i = 0; i < options.warmup; i++) for (const kind of kinds) await operation[kind]();
    await withStorageTiming(async (split) => {
      for (let round = 0; round < options.rounds; round++) {
        const samples = { verify: [] as number[], floor: [] as number[], oneWrite: [] as number[], hop: [] as number[] };
        for (let i = 0; i < options.verifyPairs; i++) {
          for (let k = 0; k < kinds.length; k++) {
            const kind = kinds[(i + k) % kinds.length]!;
            const { ms, storageMs } = await split(operation[kind]);
            samples[kind].push(ms);
            storage[kind].push(storageMs);
          }
        }
        roundRatios.push(median(samples.verify) / median(samples.floor));
        for (const kind of kinds) all[kind].push(...samples[kind]);
      }
    });
    if (options.profileDir) {
      log('latency: profiling 200 verifications at concurrency 1');
      await profiled(join(options.profileDir, 'verify-c1.cpuprofile'), () => runBlock(1, 200, bench.verifyOnce));
    }
    const ratioRuns = repeated(roundRatios);
    return {
      verify: {
        ...overhead(all.verify, all.floor),
        ratio: ratioRuns.value,
        ratioRuns,
        floorCalls: VERIFY_STORAGE_CALLS,
        againstOneWriteFloor: ratio(median(all.verify), median(all.oneWrite)),
        httpHopMs: summarize(all.hop),
        withoutHttpHop: ratio(median(all.verify) - median(all.hop), median(all.floor)),
        storageSplit: {
          verify: splitOf(all.verify, storage.verify),
          floor: splitOf(all.floor, storage.floor),
        },
      },
    };
  },
};

/** Medians of the time inside DynamoDB calls and of the rest, over the same samples. */
function splitOf(latencies: readonly number[], storageMs: readonly number[]): { storageMs: number; restMs: number } {
  return { storageMs: round(median(storageMs)), restMs: round(median(latencies.map((ms, i) => ms - storageMs[i]!))) };
}
