import { PROOF_ATTEMPTS_PER_WINDOW, PROOF_WINDOW_MS } from '../../../functions/domain/lockout.js';
import { SoftwareAuthenticator } from '../../../harness/software-authenticator.js';
import { MINIMUM_AWS_CALLS } from '../../../harness/minimum-aws-calls.js';
import { median, repeated } from '../../stats.js';
import type { LatencyPhase } from '../context.js';
import { overhead } from '../figures.js';
import { expectOk } from '../load.js';

/** The storage calls of a verification with a key: the same two UpdateItems as a TOTP code's (no KMS Decrypt). */
const WEBAUTHN_STORAGE_CALLS = MINIMUM_AWS_CALLS['verifyMfa (security key)'].calls.filter((call) => call.startsWith('dynamodb:'));
const KEY_USERS = 4;

/**
 * Verify with a security key (a software authenticator on node:crypto, ES256) at concurrency 1,
 * interleaved with the storage floor, `rounds` rounds. The challenge is fetched and the
 * assertion signed before the clock starts: the figure is the verify request alone.
 */
export const webauthnVerifyPhase: LatencyPhase = {
  name: 'verify (security key), concurrency 1',
  async run(bench) {
    const { options, log, http } = bench;
    if (WEBAUTHN_STORAGE_CALLS.join() !== ['dynamodb:UpdateItem', 'dynamodb:UpdateItem'].join()) {
      throw new Error(`The key verification's storage calls changed (${WEBAUTHN_STORAGE_CALLS.join(' + ')}): give it its own floor.`);
    }
    log(`latency: verify with a security key, ${options.rounds} x ${options.verifyPairs} rounds interleaved with the storage floor (${WEBAUTHN_STORAGE_CALLS.join(' + ')})`);
    const origin = `http://localhost:${http.port}`;
    const users: Array<{ token: string; key: SoftwareAuthenticator }> = [];
    for (let i = 0; i < KEY_USERS; i++) {
      const user = await bench.newUser('bench-key');
      const key = new SoftwareAuthenticator({ origin, rpId: 'localhost' });
      const started = await http.post('/v1/mfa/webauthn/registration', user.token, {});
      expectOk('start a key registration', started, 201);
      const confirmed = await http.post('/v1/mfa/webauthn/registration/confirm', user.token, { credential: key.register(JSON.parse(started.text).options) });
      expectOk('register a key', confirmed);
      users.push({ token: user.token, key });
    }
    let next = 0;
    const verifyOnce = async () => {
      const user = users[next++ % users.length]!;
      // Key checks are limited to 10 a minute per user: the bench's clock moves on, as a real minute would.
      bench.clock.advance(PROOF_WINDOW_MS / PROOF_ATTEMPTS_PER_WINDOW);
      const challenge = await http.post('/v1/mfa/webauthn/challenge', user.token, {});
      expectOk('a key challenge', challenge, 201);
      const webauthn = user.key.assert(JSON.parse(challenge.text).options);
      const result = await http.post('/v1/mfa/verify', user.token, { webauthn });
      expectOk('verify with a key', result);
      return result.ms;
    };
    for (let i = 0; i < options.warmup; i++) {
      await verifyOnce();
      await bench.floorOnce();
    }
    const all = { verify: [] as number[], floor: [] as number[] };
    const roundRatios: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const samples = { verify: [] as number[], floor: [] as number[] };
      for (let i = 0; i < options.verifyPairs; i++) {
        if (i % 2 === 0) {
          samples.verify.push(await verifyOnce());
          samples.floor.push(await bench.floorOnce());
        } else {
          samples.floor.push(await bench.floorOnce());
          samples.verify.push(await verifyOnce());
        }
      }
      roundRatios.push(median(samples.verify) / median(samples.floor));
      all.verify.push(...samples.verify);
      all.floor.push(...samples.floor);
    }
    const ratioRuns = repeated(roundRatios);
    return { webauthnVerify: { ...overhead(all.verify, all.floor), ratio: ratioRuns.value, ratioRuns, floorCalls: WEBAUTHN_STORAGE_CALLS } };
  },
};
