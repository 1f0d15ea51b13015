import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbMfaStore } from '../../functions/adapters/aws/dynamodb-mfa-store.js';
import { LocalSecretSealer } from '../../functions/adapters/local/local-secret-sealer.js';
import { dynamoDbClientConfig } from '../../functions/composition.js';
import { cryptoRandom } from '../../functions/domain/random.js';
import { generateRecoveryCodes, hashRecoveryCodes } from '../../functions/methods/recovery-codes/recovery-codes.js';
import { stepAt } from '../../functions/methods/totp/totp.js';
import { ManualClock } from '../../harness/manual-clock.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import type { Repeated, LatencySummary } from '../stats.js';
import type { OverheadFigure } from './figures.js';
import { enableSeededTotp, getItemPlusOneWriteFloor, onlyPendingEnrollment, verifyStorageFloor, type Floor } from './floors.js';
import { expectOk, HttpClient, seedUsers, totpCodeFor, UserPool, type BenchUser } from './load.js';

export interface LatencyOptions {
  dynamoDbEndpoint: string;
  /** Rounds of each latency figure in one run: the figure is their median, their spread is reported. */
  rounds: number;
  /** Interleaved verify / storage-floor pairs at concurrency 1 per round, after `warmup` pairs. */
  verifyPairs: number;
  warmup: number;
  confirmSamples: number;
  recoverySamples: number;
  concurrency: readonly number[];
  /** Alternating verify and floor blocks per concurrency and round, and operations per block. */
  blocksPerConcurrency: number;
  opsPerBlock: (concurrency: number) => number;
  /** Direct handler invocations with the AWS adapters (the Lambda duration), interleaved with the floor. */
  handlerPairs: number;
  /** Also profile 200 verifications at concurrency 1 and one block at the highest concurrency, as .cpuprofile files here. */
  profileDir?: string | undefined;
  log?: (line: string) => void;
}

export interface ThroughputFigure {
  concurrency: number;
  verifyPerSecond: number;
  floorPerSecond: number;
  /** Floor operations per second over verifications per second. */
  throughputRatio: number;
  /** Median verify latency over median floor latency at this concurrency: the median of `overheadRatioRuns`. */
  overheadRatio: number;
  overheadRatioRuns: Repeated;
  verifyMs: LatencySummary;
  floorMs: LatencySummary;
  /** CPU of this Node process (load generator, API Gateway stand-in, handlers, SDK) per operation; DynamoDB Local's JVM not included. */
  nodeCpuMsPerVerify: number;
  nodeCpuMsPerFloor: number;
}

export interface LatencyResults {
  /** The Node.js the local stack and its handlers ran on (`process.version`). */
  node: string;
  /**
   * `ratio`: the median of `ratioRuns` (one per round); `floorCalls`: the storage calls of the
   * floor; `againstOneWriteFloor`: the ratio over GetItem + one UpdateItem.
   */
  verify: OverheadFigure & {
    ratioRuns: Repeated;
    floorCalls: readonly string[];
    againstOneWriteFloor: number;
    /** A request through the same client and local API Gateway stand-in that touches no storage or key (the discovery document). */
    httpHopMs: LatencySummary;
    /** (median verify - median HTTP hop) over the median floor: the function's own overhead, the hop the floor does not make taken out. */
    withoutHttpHop: number;
    /**
     * Medians of each sample's time inside DynamoDB calls (bench/latency/storage-time.ts) and of
     * the rest, for verify and its floor: what a verification adds beyond the storage it shares.
     */
    storageSplit: { verify: { storageMs: number; restMs: number }; floor: { storageMs: number; restMs: number } };
  };
  /** `kdfShare`: hashing a fresh recovery-code set alone (median), over the confirm request (median). */
  confirm: OverheadFigure & { kdfMs: LatencySummary; kdfShare: number };
  recoveryVerify: { requestMs: LatencySummary; kdfMs: LatencySummary; floorMs: LatencySummary };
  throughput: ThroughputFigure[];
  /**
   * The verify handler as Lambda runs it (AWS adapters; KMS answered in-process, DynamoDB Local)
   * and its storage floor (the same two UpdateItems as `verify`); computeMs is the median of
   * each invocation's time minus its DynamoDB round trips.
   */
  lambdaVerify: { handlerMs: LatencySummary; floorMs: LatencySummary; computeMs: number };
  /** Sizes of a verifying user's item, for the request units it costs. */
  item: { bytesWithKmsCiphertext: number };
  /**
   * Verify with a WebAuthn assertion over its storage floor (keyVerifyStorageFloor): its phase
   * (bench/latency/phases/webauthn-verify.ts, listed in LATENCY_PHASES) returns this, and
   * bench/report.ts reports it as `webauthnVerifyOverheadRatio` against
   * TARGETS.webauthnVerifyOverheadRatio.
   */
  webauthnVerify?: OverheadFigure & {
    ratioRuns: Repeated;
    floorCalls: readonly string[];
    /** Over the TOTP verification's floor (a TOTP user's item), sampled in the same rounds: the floor of the runs before 2026-12-04; per round, as `ratioRuns`. */
    againstTotpFloor: Repeated;
    totpFloorMs: LatencySummary;
  };
}

/** What every phase of the latency benchmark shares: the local stack, its clock, users and floors. */
export interface LatencyBench {
  options: LatencyOptions;
  log: (line: string) => void;
  clock: ManualClock;
  http: HttpClient;
  /** The storage adapter over the local stack's table, for the floors and for seeding. */
  store: DynamoDbMfaStore;
  sealer: LocalSecretSealer;
  /** One recovery-code set shared by the seeded users (hashing is the confirm's KDF work, measured on its own). */
  sharedCodes: string[];
  sharedHashes: string[];
  maxConcurrency: number;
  verifyUsers: BenchUser[];
  /** A user who started enrollment through the real route (not confirmed), with the pending sealed secret. */
  newUser(prefix: string): Promise<BenchUser & { pending: { sessionId: string; sealedSecret: Uint8Array } }>;
  /** One successful TOTP verification over HTTP; resolves to its latency. */
  verifyOnce(): Promise<number>;
  /** The verification's storage floor (bench/latency/floors.ts). */
  floorOnce: Floor;
  /** GetItem + one UpdateItem: the issue's first floor. */
  oneWriteFloorOnce: Floor;
  /** The discovery document over HTTP: the hop every verification makes and the storage floor does not. */
  httpHopOnce(): Promise<number>;
}

/**
 * One latency phase: measures one figure (or a few) and returns its part of the results.
 * The list in bench/latency/index.ts is the place to add a method's phase (WebAuthn, say).
 */
export interface LatencyPhase {
  name: string;
  run(bench: LatencyBench): Promise<Partial<LatencyResults>>;
}

/** Starts the local stack over the bench's DynamoDB Local and seeds the verifying and floor users. */
export async function openLatencyBench(options: LatencyOptions): Promise<LatencyBench & { close(): Promise<void> }> {
  const log = options.log ?? (() => {});
  const dataDir = await mkdtemp(join(tmpdir(), 'mfa-bench-'));
  const clock = new ManualClock(Date.now());
  const tableName = `mfa-bench-${randomUUID()}`;
  let stack: LocalStack | undefined;
  let http: HttpClient | undefined;
  const dynamoDb = new DynamoDBClient(dynamoDbClientConfig({ dynamoDbEndpoint: options.dynamoDbEndpoint }));
  const close = async () => {
    http?.close();
    dynamoDb.destroy();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    stack = await startLocalStack({ dataDir, dynamoDbEndpoint: options.dynamoDbEndpoint, tableName, overrides: { clock } });
    const client = (http = new HttpClient(stack.port));
    const identity = stack.identity;
    const store = new DynamoDbMfaStore(dynamoDb, tableName);
    const sharedCodes = generateRecoveryCodes(cryptoRandom);
    const sharedHashes = await hashRecoveryCodes(sharedCodes, cryptoRandom);

    const newUser = async (prefix: string) => {
      const sub = `${prefix}-${randomUUID()}`;
      const token = await identity.issueToken({ sub, email: `${sub}@example.com` });
      const started = await client.post('/v1/mfa/totp/enrollment', token, {});
      expectOk('start enrollment', started, 201);
      const record = await store.get(sub);
      return { sub, token, secret: JSON.parse(started.text).secret as string, lastStep: -1, recoveryCodes: [], pending: onlyPendingEnrollment(record) };
    };
    /** Enrolled through the real enrollment route, confirmed in storage with the shared code set (no KDF per user). */
    const seededUser = async (prefix: string): Promise<BenchUser> => {
      const user = await newUser(prefix);
      const step = stepAt(clock.now()) - 2;
      await enableSeededTotp(store, user.sub, { pending: user.pending, step, recoveryCodeHashes: sharedHashes }, clock.now());
      return { ...user, lastStep: step, recoveryCodes: [...sharedCodes] };
    };

    const maxConcurrency = Math.max(...options.concurrency);
    log(`latency: on Node ${process.version}, enrolling ${4 * maxConcurrency} verifying users and ${2 * maxConcurrency} storage-floor users`);
    const verifyUsers = await seedUsers(4 * maxConcurrency, () => seededUser('bench-verify'));
    const verifyPool = new UserPool(verifyUsers);
    const floorPool = new UserPool(await seedUsers(2 * maxConcurrency, () => seededUser('bench-floor')));

    return {
      options,
      log,
      clock,
      http: client,
      store,
      sealer: LocalSecretSealer.inDataDir(dataDir),
      sharedCodes,
      sharedHashes,
      maxConcurrency,
      verifyUsers,
      newUser,
      verifyOnce: () =>
        verifyPool.with(async (user) => {
          const result = await client.post('/v1/mfa/verify', user.token, { code: totpCodeFor(user, clock) });
          expectOk('verify', result);
          return result.ms;
        }),
      floorOnce: verifyStorageFloor(store, floorPool, clock),
      oneWriteFloorOnce: getItemPlusOneWriteFloor(store, floorPool, clock),
      httpHopOnce: async () => {
        const result = await client.get('/.well-known/openid-configuration');
        expectOk('discovery document', result);
        return result.ms;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
