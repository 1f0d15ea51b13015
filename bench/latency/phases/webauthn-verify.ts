import { PROOF_ATTEMPTS_PER_WINDOW, PROOF_WINDOW_MS } from '../../../functions/domain/lockout.js';
import { SoftwareAuthenticator } from '../../../harness/software-authenticator.js';
import { MINIMUM_AWS_CALLS } from '../../../harness/minimum-aws-calls.js';
import { median, repeated, summarize } from '../../stats.js';
import type { LatencyPhase } from '../context.js';
import { overhead } from '../figures.js';
import { keyVerifyStorageFloor, type KeyFloorUser } from '../floors.js';
import { expectOk } from '../load.js';

/** The storage calls of a verification with a key: two UpdateItems, as a TOTP code's (no KMS Decrypt), on the item of a user with a key. */
const WEBAUTHN_STORAGE_CALLS = MINIMUM_AWS_CALLS['verifyMfa (security key)'].calls.filter((call) => call.startsWith('dynamodb:'));
const KEY_USERS = 4;

/**
 * Verify with a security key (a software authenticator on node:crypto, ES256) at concurrency 1,
 * interleaved with its storage floor (the same two writes on the item of another user with a key:
 * keyVerifyStorageFloor), `rounds` rounds. The challenge is fetched (and the assertion signed)
 * before the clock starts, for the verification and its floor alike: the figure is the verify
 * request alone.
 */
export const webauthnVerifyPhase: LatencyPhase = {
  name: 'verify (security key), concurrency 1',
  async run(bench) {
    const { options, log, http } = bench;
    if (WEBAUTHN_STORAGE_CALLS.join() !== ['dynamodb:UpdateItem', 'dynamodb:UpdateItem'].join()) {
      throw new Error(`The key verification's storage calls changed (${WEBAUTHN_STORAGE_CALLS.join(' + ')}); its floor (keyVerifyStorageFloor, bench/latency/floors.ts) sends two UpdateItems: update it.`);
    }
    log(`latency: verify with a security key, ${options.rounds} x ${options.verifyPairs} rounds interleaved with the storage floor (${WEBAUTHN_STORAGE_CALLS.join(' + ')})`);
    const origin = `http://localhost:${http.port}`;
    /** A user who registered a key through the real routes. */
    const keyUser = async () => {
      const user = await bench.newUser('bench-key');
      const key = new SoftwareAuthenticator({ origin, rpId: 'localhost' });
      const started = await http.post('/v1/mfa/webauthn/registration', user.token, {});
      expectOk('start a key registration', started, 201);
      const confirmed = await http.post('/v1/mfa/webauthn/registration/confirm', user.token, { credential: key.register(JSON.parse(started.text).options) });
      expectOk('register a key', confirmed);
      return { sub: user.sub, token: user.token, key };
    };
    /** A key challenge for the user's session, through the real route; the bench's clock moves on first, as a real minute would (key checks are limited to 10 a minute per session). */
    const challengeFor = async (token: string) => {
      bench.clock.advance(PROOF_WINDOW_MS / PROOF_ATTEMPTS_PER_WINDOW);
      const challenge = await http.post('/v1/mfa/webauthn/challenge', token, {});
      expectOk('a key challenge', challenge, 201);
      return JSON.parse(challenge.text).options as { challenge: string };
    };
    /** Verifies with the user's key through the real route: the challenge is fetched and the assertion signed before the clock starts. */
    const verifyWithKey = async (user: { token: string; key: SoftwareAuthenticator }) => {
      const webauthn = user.key.assert(await challengeFor(user.token));
      const result = await http.post('/v1/mfa/verify', user.token, { webauthn });
      expectOk('verify with a key', result);
      return result.ms;
    };
    const users = await Promise.all(Array.from({ length: KEY_USERS }, keyUser));
    // The floor's users have keys too, and have checked one once through the route: their session's count is then the quiet write, as a verification's is.
    const floorUsers: KeyFloorUser[] = [];
    for (let i = 0; i < KEY_USERS; i++) {
      const user = await keyUser();
      await verifyWithKey(user);
      const sessions = Object.keys((await bench.store.get(user.sub))?.sessions ?? {});
      if (sessions.length !== 1) throw new Error(`A key floor user has ${sessions.length} sessions, not 1.`);
      floorUsers.push({ sub: user.sub, sessionId: sessions[0]!, challenge: async () => (await challengeFor(user.token)).challenge });
    }
    const floorOnce = keyVerifyStorageFloor(bench.store, floorUsers, bench.clock);
    let next = 0;
    const verifyOnce = () => verifyWithKey(users[next++ % users.length]!);
    // Beside its own floor, the TOTP verification's (a TOTP user's item, the guessable lane): the floor this figure was first measured against.
    const kinds = ['verify', 'floor', 'totpFloor'] as const;
    const operation = { verify: verifyOnce, floor: floorOnce, totpFloor: bench.floorOnce };
    for (let i = 0; i < options.warmup; i++) for (const kind of kinds) await operation[kind]();
    const all = { verify: [] as number[], floor: [] as number[], totpFloor: [] as number[] };
    const roundRatios: number[] = [];
    const totpFloorRatios: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const samples = { verify: [] as number[], floor: [] as number[], totpFloor: [] as number[] };
      for (let i = 0; i < options.verifyPairs; i++) {
        for (let k = 0; k < kinds.length; k++) {
          const kind = kinds[(i + k) % kinds.length]!;
          samples[kind].push(await operation[kind]());
        }
      }
      roundRatios.push(median(samples.verify) / median(samples.floor));
      totpFloorRatios.push(median(samples.verify) / median(samples.totpFloor));
      for (const kind of kinds) all[kind].push(...samples[kind]);
    }
    const ratioRuns = repeated(roundRatios);
    return {
      webauthnVerify: {
        ...overhead(all.verify, all.floor),
        ratio: ratioRuns.value,
        ratioRuns,
        floorCalls: WEBAUTHN_STORAGE_CALLS,
        againstTotpFloor: repeated(totpFloorRatios),
        totpFloorMs: summarize(all.totpFloor),
      },
    };
  },
};
