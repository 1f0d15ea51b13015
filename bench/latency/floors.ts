import { quietAttemptGuard } from '../../functions/domain/lockout.js';
import { stepAt } from '../../functions/domain/totp.js';
import type { Clock } from '../../functions/domain/clock.js';
import type { MfaStore } from '../../functions/ports/mfa-store.js';
import { MINIMUM_AWS_CALLS } from '../../harness/minimum-aws-calls.js';
import { elapsedMs } from '../stats.js';
import type { UserPool } from './load.js';

/**
 * The floors a request is measured against: the storage calls its route needs, sent straight
 * to the same DynamoDB Local through the same store adapter and SDK client configuration.
 * Every floor the latency benchmark uses is here, and only here calls the store directly: the
 * verify floor follows the route's minimum-call table (the one the integration test holds
 * `verifyMfa` to), so when the route's calls change, the floor fails loudly rather than going stale.
 */

/** The DynamoDB calls a TOTP verification needs, from the minimum-call table. */
export const VERIFY_STORAGE_CALLS: readonly string[] = MINIMUM_AWS_CALLS['verifyMfa (TOTP)'].calls.filter((call) => call.startsWith('dynamodb:'));
const EXPECTED_VERIFY_STORAGE = ['dynamodb:UpdateItem', 'dynamodb:UpdateItem'];
if (VERIFY_STORAGE_CALLS.join() !== EXPECTED_VERIFY_STORAGE.join()) {
  throw new Error(`verifyMfa's storage calls are now ${VERIFY_STORAGE_CALLS.join(' + ')}; bench/latency/floors.ts sends ${EXPECTED_VERIFY_STORAGE.join(' + ')}: update the floor.`);
}

export type Floor = () => Promise<number>;

/**
 * A TOTP verification's storage: the conditional UpdateItem that counts the attempt and
 * returns the item, then the conditional UpdateItem that spends the step.
 */
export function verifyStorageFloor(store: MfaStore, pool: UserPool, clock: Clock): Floor {
  return () =>
    pool.with(async (user) => {
      const started = performance.now();
      const now = clock.now();
      const quiet = await store.countQuietAttempt(user.sub, { ...quietAttemptGuard(now), requires: 'totp' }, now);
      if (!quiet.counted) throw new Error('The storage floor count write was refused.');
      const totp = quiet.record!.totp!;
      const result = await store.commitProof(user.sub, { kind: 'totp', sealedSecret: totp.sealedSecret, step: totp.lastStep + 1 }, { kind: 'none' }, now);
      const ms = elapsedMs(started);
      if (result !== 'ok') throw new Error('The storage floor write was refused.');
      return ms;
    });
}

/** The floor as the issue first defined it: GetItem + one conditional UpdateItem. Reported beside the verify ratio. */
export function getItemPlusOneWriteFloor(store: MfaStore, pool: UserPool, clock: Clock): Floor {
  return () =>
    pool.with(async (user) => {
      const started = performance.now();
      const now = clock.now();
      const totp = (await store.get(user.sub))!.totp!;
      const result = await store.commitProof(user.sub, { kind: 'totp', sealedSecret: totp.sealedSecret, step: totp.lastStep + 1 }, { kind: 'none' }, now);
      const ms = elapsedMs(started);
      if (result !== 'ok') throw new Error('The one-write floor write was refused.');
      return ms;
    });
}

/**
 * A confirm's storage for a user with a pending enrollment (written untimed first, as the
 * enrollment route would): the count write that reads the pending secret, the enabling write.
 */
export async function confirmStorageFloor(
  store: MfaStore,
  user: { sub: string; sealedSecret: Uint8Array },
  recoveryCodeHashes: string[],
  clock: Clock,
): Promise<number> {
  await store.putPendingEnrollment(user.sub, { sealedSecret: user.sealedSecret, expiresAt: clock.now() + 600_000 }, clock.now());
  const started = performance.now();
  const quiet = await store.countQuietAttempt(user.sub, { ...quietAttemptGuard(clock.now()), requires: 'pending-enrollment' }, clock.now());
  if (!quiet.counted) throw new Error('The confirm floor count write was refused.');
  const enabled = await store.enableTotp(user.sub, { pendingSealedSecret: quiet.record!.pending!.sealedSecret, step: stepAt(clock.now()), recoveryCodeHashes }, clock.now());
  const ms = elapsedMs(started);
  if (enabled !== 'ok') throw new Error('The confirm floor write was refused.');
  return ms;
}
