import { PROOF_TIME_FRACTIONS, proofAttemptTime, quietAttemptGuard, quietProofGuard } from '../../functions/domain/lockout.js';
import type { Clock } from '../../functions/domain/clock.js';
import { authenticatorsOf, type TotpAuthenticator } from '../../functions/domain/mfa-record.js';
import { stepAt } from '../../functions/methods/totp/totp.js';
import { openChallenge } from '../../functions/methods/webauthn/challenges.js';
import type { MfaRecord, MfaStore } from '../../functions/ports/mfa-store.js';
import { MINIMUM_AWS_CALLS } from '../../harness/minimum-aws-calls.js';
import { elapsedMs } from '../stats.js';
import type { UserPool } from './load.js';

/**
 * The floors a request is measured against: the storage calls its route needs, sent straight
 * to the same DynamoDB Local through the same store adapter and SDK client configuration.
 * Every direct store call of the latency benchmark is here (the floors, and seeding users):
 * the verify floor follows the route's minimum-call table (the one the integration test holds
 * `verifyMfa` to), and refuses to run when that table changes, rather than going stale.
 */

/** The DynamoDB calls a TOTP verification needs, from the minimum-call table. */
export const VERIFY_STORAGE_CALLS: readonly string[] = MINIMUM_AWS_CALLS['verifyMfa (TOTP)'].calls.filter((call) => call.startsWith('dynamodb:'));
const EXPECTED_VERIFY_STORAGE = ['dynamodb:UpdateItem', 'dynamodb:UpdateItem'];
if (VERIFY_STORAGE_CALLS.join() !== EXPECTED_VERIFY_STORAGE.join()) {
  throw new Error(`verifyMfa's storage calls are now ${VERIFY_STORAGE_CALLS.join(' + ')}; bench/latency/floors.ts sends ${EXPECTED_VERIFY_STORAGE.join(' + ')}: update the floor.`);
}

export type Floor = () => Promise<number>;

/** The floors count in one session of their own: its id names the pending enrollment a confirmation needs. */
const FLOOR_SESSION = 'bench-floor-session';

const codeGuard = (now: number, requires: 'mfa-enabled' | 'pending-enrollment', sessionId = FLOOR_SESSION) => ({
  requires,
  sessionId,
  lane: 'guessable' as const,
  ...quietAttemptGuard(now),
});

/** The one pending enrollment of a bench user (started by the enrollment route in the user's one session), with that session's id. */
export function onlyPendingEnrollment(record: MfaRecord | undefined): { sessionId: string; sealedSecret: Uint8Array } {
  const [entry] = Object.entries(record?.pendingEnrollments ?? {});
  if (!entry) throw new Error('A bench user has no pending enrollment.');
  return { sessionId: entry[0], sealedSecret: entry[1].sealedSecret };
}

function onlyApp(record: MfaRecord | undefined): TotpAuthenticator {
  const app = authenticatorsOf(record, 'totp')[0];
  if (!app) throw new Error('A floor user has no authenticator app.');
  return app;
}

/** Spends the next step of the user's app, as a verification's last write does. */
async function spendNextStep(store: MfaStore, userId: string, app: TotpAuthenticator, now: number): Promise<void> {
  const result = await store.commitProof(userId, { kind: 'totp', authenticatorId: app.id, sealedSecret: app.sealedSecret, step: app.lastStep + 1, codeDigest: `bench-${app.lastStep + 1}` }, { kind: 'none' }, now);
  if (result !== 'ok') throw new Error('The storage floor write was refused.');
}

/**
 * A TOTP verification's storage: the conditional UpdateItem that counts the attempt and
 * returns the item, then the conditional UpdateItem that spends the step.
 */
export function verifyStorageFloor(store: MfaStore, pool: UserPool, clock: Clock): Floor {
  return () =>
    pool.with(async (user) => {
      const started = performance.now();
      const now = clock.now();
      const quiet = await store.countQuietAttempt(user.sub, codeGuard(now, 'mfa-enabled'), now);
      if (!quiet.counted) throw new Error('The storage floor count write was refused.');
      await spendNextStep(store, user.sub, onlyApp(quiet.record), now);
      return elapsedMs(started);
    });
}

/** A user with a registered key, the session their token signs in with, and a way to ask for that session's next authentication challenge. */
export interface KeyFloorUser {
  sub: string;
  sessionId: string;
  /** Asks for a challenge through the real route, untimed, as a key verification's client does first; resolves to it. */
  challenge(): Promise<string>;
}

/**
 * A key verification's storage, on the item of a user with a registered key, in the session the
 * user has already checked a key in (so its count is the quiet write, as a verification's is):
 * the conditional UpdateItem that counts the check in the session's and the user's windows and
 * returns the item, then the conditional UpdateItem that spends the challenge and moves the
 * key's counter. The challenge is asked for first, untimed, as the verification's is, and opened
 * untimed with the user's challenge key (read once per user), as the verification opens it in
 * the time between its two writes.
 */
export function keyVerifyStorageFloor(store: MfaStore, users: readonly KeyFloorUser[], clock: Clock): Floor {
  let next = 0;
  const challengeKeys = new Map<string, Uint8Array>();
  return async () => {
    const user = users[next++ % users.length]!;
    const challenge = await user.challenge();
    if (!challengeKeys.has(user.sub)) {
      const stored = (await store.get(user.sub))?.webauthnChallengeKey;
      if (!stored) throw new Error('A key floor user has no challenge key.');
      challengeKeys.set(user.sub, stored);
    }
    const minted = openChallenge(challengeKeys.get(user.sub)!, { userId: user.sub, sessionId: user.sessionId }, challenge);
    if (!minted) throw new Error('The route handed the key floor a challenge that does not open.');
    const started = performance.now();
    const now = clock.now();
    const guard = { lane: 'unguessable' as const, requires: 'mfa-enabled' as const, sessionId: user.sessionId, at: proofAttemptTime(now, 1 + (next % (PROOF_TIME_FRACTIONS - 1))), ...quietProofGuard(now) };
    const quiet = await store.countQuietAttempt(user.sub, guard, now);
    if (!quiet.counted || !quiet.record) throw new Error('The key floor count write was refused.');
    const key = authenticatorsOf(quiet.record, 'webauthn')[0];
    if (!key) throw new Error('A key floor user has no key.');
    const proof = {
      kind: 'webauthn' as const,
      authenticatorId: key.id,
      sessionId: user.sessionId,
      challengeNonce: minted.nonce,
      challengeExpiresAt: minted.expiresAt,
      spentRead: quiet.record.spentChallenges,
      previousCounter: key.counter,
      counter: key.counter + 1,
      backedUp: false,
    };
    const result = await store.commitProof(user.sub, proof, { kind: 'none' }, now);
    const ms = elapsedMs(started);
    if (result !== 'ok') throw new Error('The key floor write was refused.');
    return ms;
  };
}

/** The floor as the issue first defined it: GetItem + one conditional UpdateItem. Reported beside the verify ratio. */
export function getItemPlusOneWriteFloor(store: MfaStore, pool: UserPool, clock: Clock): Floor {
  return () =>
    pool.with(async (user) => {
      const started = performance.now();
      const now = clock.now();
      await spendNextStep(store, user.sub, onlyApp(await store.get(user.sub)), now);
      return elapsedMs(started);
    });
}

/** Confirms a user's pending enrollment in storage, with a given recovery-code set: seeding without a KDF per user. */
export async function enableSeededTotp(
  store: MfaStore,
  userId: string,
  input: { pending: { sessionId: string; sealedSecret: Uint8Array }; step: number; recoveryCodeHashes: string[] },
  now: number,
): Promise<void> {
  const app: TotpAuthenticator = { id: `bench-${input.step}`, kind: 'totp', name: 'Bench app', createdAt: now, sealedSecret: input.pending.sealedSecret, lastStep: input.step };
  const result = await store.commitProof(
    userId,
    { kind: 'pending_totp', sessionId: input.pending.sessionId, sealedSecret: input.pending.sealedSecret, step: input.step },
    { kind: 'add_authenticator', authenticator: app, authenticatorCount: 0, recoveryCodeHashes: input.recoveryCodeHashes },
    now,
  );
  if (result !== 'ok') throw new Error('Could not seed an enrolled user.');
}

/**
 * A confirm's storage for a user with a pending enrollment (written untimed first, as the
 * enrollment route would): the read before counting, the count write that reads the pending
 * secret, the enabling write.
 */
export async function confirmStorageFloor(
  store: MfaStore,
  user: { sub: string; sealedSecret: Uint8Array },
  recoveryCodeHashes: string[],
  clock: Clock,
): Promise<number> {
  await store.putPendingEnrollment(user.sub, FLOOR_SESSION, { sealedSecret: user.sealedSecret, createdAt: clock.now(), expiresAt: clock.now() + 600_000, proved: false }, clock.now());
  const started = performance.now();
  const now = clock.now();
  // The route reads the pending app before counting (harness/minimum-aws-calls.ts): a refused confirmation counts nothing.
  await store.get(user.sub);
  const quiet = await store.countQuietAttempt(user.sub, codeGuard(now, 'pending-enrollment'), now);
  if (!quiet.counted) throw new Error('The confirm floor count write was refused.');
  const step = stepAt(now);
  const pending = quiet.record!.pendingEnrollments![FLOOR_SESSION]!;
  const app: TotpAuthenticator = { id: `bench-confirm-${step}`, kind: 'totp', name: 'Bench app', createdAt: now, sealedSecret: pending.sealedSecret, lastStep: step };
  const enabled = await store.commitProof(
    user.sub,
    { kind: 'pending_totp', sessionId: FLOOR_SESSION, sealedSecret: pending.sealedSecret, step },
    { kind: 'add_authenticator', authenticator: app, authenticatorCount: 0, recoveryCodeHashes },
    now,
  );
  const ms = elapsedMs(started);
  if (enabled !== 'ok') throw new Error('The confirm floor write was refused.');
  return ms;
}
