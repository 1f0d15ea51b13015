import { randomUUID } from 'node:crypto';
import { cryptoRandom } from '../../../functions/domain/random.js';
import { generateRecoveryCodes, hashRecoveryCodes } from '../../../functions/methods/recovery-codes/recovery-codes.js';
import { codeAt } from '../../../harness/authenticator.js';
import { elapsedMs, median, ratio, summarize } from '../../stats.js';
import type { LatencyPhase } from '../context.js';
import { overhead } from '../figures.js';
import { confirmStorageFloor } from '../floors.js';
import { expectOk } from '../load.js';

/** Confirm enrollment: the route, its storage floor and its KDF work (hashing ten recovery codes), interleaved. */
export const confirmPhase: LatencyPhase = {
  name: 'confirm enrollment',
  async run(bench) {
    const { options, clock, http, store, sealer } = bench;
    bench.log(`latency: confirm enrollment, ${options.confirmSamples} samples (each hashes 10 recovery codes)`);
    const request: number[] = [];
    const floor: number[] = [];
    const kdf: number[] = [];
    for (let i = 0; i < options.confirmSamples; i++) {
      const user = await bench.newUser('bench-confirm');
      const confirmed = await http.post('/v1/mfa/totp/enrollment/confirm', user.token, { code: codeAt(user.secret, clock.now()) });
      expectOk('confirm', confirmed);
      request.push(confirmed.ms);

      const floorSub = `bench-confirm-floor-${randomUUID()}`;
      const sealedSecret = await sealer.seal(cryptoRandom.bytes(20), { purpose: 'totp-secret', userId: floorSub });
      floor.push(await confirmStorageFloor(store, { sub: floorSub, sealedSecret }, bench.sharedHashes, clock));

      const started = performance.now();
      await hashRecoveryCodes(generateRecoveryCodes(cryptoRandom), cryptoRandom);
      kdf.push(elapsedMs(started));
    }
    return { confirm: { ...overhead(request, floor), kdfMs: summarize(kdf), kdfShare: ratio(median(kdf), median(request)) } };
  },
};
