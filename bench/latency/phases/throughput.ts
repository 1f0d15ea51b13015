import { join } from 'node:path';
import { profiled } from '../../profile.js';
import { median, ratio, repeated, round, summarize } from '../../stats.js';
import type { LatencyPhase, ThroughputFigure } from '../context.js';
import { runBlock, type Block } from '../load.js';

const perSecond = (blocks: Block[]) => blocks.reduce((sum, block) => sum + block.latencies.length, 0) / blocks.reduce((sum, block) => sum + block.seconds, 0);
const cpuPerOp = (blocks: Block[]) => blocks.reduce((sum, block) => sum + block.cpuMs, 0) / blocks.reduce((sum, block) => sum + block.latencies.length, 0);
const latencies = (blocks: Block[]) => blocks.flatMap((block) => block.latencies);

/**
 * Throughput at each concurrency: verify and floor blocks alternate (ABBA...) over the same
 * user pools, `rounds` rounds of `blocksPerConcurrency` blocks of each; the overhead ratio of
 * each round is the median verify latency over the median floor latency in it.
 */
export const throughputPhase: LatencyPhase = {
  name: 'throughput',
  async run(bench) {
    const { options, log } = bench;
    const throughput: ThroughputFigure[] = [];
    for (const concurrency of options.concurrency) {
      const ops = options.opsPerBlock(concurrency);
      log(`latency: throughput at concurrency ${concurrency}, ${options.rounds} x ${options.blocksPerConcurrency} x ${ops} operations of each kind`);
      await runBlock(concurrency, Math.min(ops, 4 * concurrency), bench.verifyOnce);
      await runBlock(concurrency, Math.min(ops, 4 * concurrency), bench.floorOnce);
      const verifyBlocks: Block[] = [];
      const floorBlocks: Block[] = [];
      const roundRatios: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        const verifyRound: Block[] = [];
        const floorRound: Block[] = [];
        for (let block = 0; block < options.blocksPerConcurrency; block++) {
          const verifyFirst = block % 2 === 0;
          if (verifyFirst) verifyRound.push(await runBlock(concurrency, ops, bench.verifyOnce));
          floorRound.push(await runBlock(concurrency, ops, bench.floorOnce));
          if (!verifyFirst) verifyRound.push(await runBlock(concurrency, ops, bench.verifyOnce));
        }
        roundRatios.push(median(latencies(verifyRound)) / median(latencies(floorRound)));
        verifyBlocks.push(...verifyRound);
        floorBlocks.push(...floorRound);
      }
      if (options.profileDir && concurrency === bench.maxConcurrency) {
        log(`latency: profiling a verify block at concurrency ${concurrency}`);
        await profiled(join(options.profileDir, `verify-c${concurrency}.cpuprofile`), () => runBlock(concurrency, ops, bench.verifyOnce));
      }
      const overheadRatioRuns = repeated(roundRatios);
      throughput.push({
        concurrency,
        verifyPerSecond: round(perSecond(verifyBlocks), 1),
        floorPerSecond: round(perSecond(floorBlocks), 1),
        throughputRatio: ratio(perSecond(floorBlocks), perSecond(verifyBlocks)),
        overheadRatio: overheadRatioRuns.value,
        overheadRatioRuns,
        verifyMs: summarize(latencies(verifyBlocks)),
        floorMs: summarize(latencies(floorBlocks)),
        nodeCpuMsPerVerify: round(cpuPerOp(verifyBlocks), 3),
        nodeCpuMsPerFloor: round(cpuPerOp(floorBlocks), 3),
      });
    }
    return { throughput };
  },
};
