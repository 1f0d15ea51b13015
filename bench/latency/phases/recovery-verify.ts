import { findRecoveryCodeHash } from '../../../functions/methods/recovery-codes/recovery-codes.js';
import { elapsedMs, summarize } from '../../stats.js';
import type { LatencyPhase } from '../context.js';
import { expectOk } from '../load.js';

/** Verify with a recovery code: one KDF evaluation, measured on its own alongside, and the storage floor. */
export const recoveryVerifyPhase: LatencyPhase = {
  name: 'verify (recovery code)',
  async run(bench) {
    const { options, verifyUsers, sharedCodes, sharedHashes } = bench;
    bench.log(`latency: verify with a recovery code, ${options.recoverySamples} samples`);
    const request: number[] = [];
    const kdf: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < options.recoverySamples; i++) {
      const user = verifyUsers[i % verifyUsers.length]!;
      const result = await bench.http.post('/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes.shift()! });
      expectOk('verify with a recovery code', result);
      request.push(result.ms);
      const started = performance.now();
      await findRecoveryCodeHash(sharedCodes[i % sharedCodes.length]!, sharedHashes.slice(0, 1));
      kdf.push(elapsedMs(started));
      floor.push(await bench.floorOnce());
    }
    return { recoveryVerify: { requestMs: summarize(request), kdfMs: summarize(kdf), floorMs: summarize(floor) } };
  },
};
