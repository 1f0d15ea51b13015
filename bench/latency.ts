import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbMfaStore } from '../functions/adapters/aws/dynamodb-mfa-store.js';
import { userKey } from '../functions/adapters/aws/mfa-item.js';
import { LocalSecretSealer } from '../functions/adapters/local/local-secret-sealer.js';
import { dynamoDbClientConfig } from '../functions/composition.js';
import { cryptoRandom } from '../functions/domain/random.js';
import { findRecoveryCodeHash, generateRecoveryCodes, hashRecoveryCodes } from '../functions/methods/recovery-codes/recovery-codes.js';
import { stepAt } from '../functions/methods/totp/totp.js';
import { startLocalStack, type LocalStack } from '../local/local-stack.js';
import { ManualClock } from '../test/support/fakes.js';
import { startAwsHarness, type AwsHarness } from './aws-calls.js';
import { codeAt } from './authenticator.js';
import { MINIMUM_AWS_CALLS } from './minimum-aws-calls.js';
import { profiled } from './profile.js';

/** The DynamoDB calls a TOTP verification needs, from the minimum-call table the integration test holds the route to. */
const VERIFY_STORAGE_CALLS: readonly string[] = MINIMUM_AWS_CALLS['verifyMfa (TOTP)'].calls.filter((call) => call.startsWith('dynamodb:'));
const VERIFY_STORAGE_WRITES = VERIFY_STORAGE_CALLS.filter((call) => call === 'dynamodb:UpdateItem').length;
import { elapsedMs, median, ratio, round, summarize, type LatencySummary } from './stats.js';
import { quietAttemptGuard } from '../functions/domain/lockout.js';

export interface LatencyOptions {
  dynamoDbEndpoint: string;
  /** Interleaved verify / storage-floor pairs at concurrency 1, after `warmup` pairs. */
  verifyPairs: number;
  warmup: number;
  confirmSamples: number;
  recoverySamples: number;
  concurrency: readonly number[];
  /** Alternating verify and floor blocks per concurrency, and operations per block. */
  blocksPerConcurrency: number;
  opsPerBlock: (concurrency: number) => number;
  /** Direct handler invocations with the AWS adapters (the Lambda duration), interleaved with the floor. */
  handlerPairs: number;
  /** Also profile 200 verifications at concurrency 1 and one block at the highest concurrency, as .cpuprofile files here. */
  profileDir?: string | undefined;
  log?: (line: string) => void;
}

export interface OverheadFigure {
  ratio: number;
  p95Ratio: number;
  p99Ratio: number;
  requestMs: LatencySummary;
  floorMs: LatencySummary;
}

export interface ThroughputFigure {
  concurrency: number;
  verifyPerSecond: number;
  floorPerSecond: number;
  /** Floor operations per second over verifications per second. */
  throughputRatio: number;
  /** Median verify latency over median floor latency, both at this concurrency. */
  overheadRatio: number;
  verifyMs: LatencySummary;
  floorMs: LatencySummary;
  /** CPU of this Node process (load generator, API Gateway stand-in, handlers, SDK) per operation; DynamoDB Local's JVM not included. */
  nodeCpuMsPerVerify: number;
  nodeCpuMsPerFloor: number;
}

export interface LatencyResults {
  /** `floorCalls`: the storage calls of the floor; `againstOneWriteFloor`: the ratio over GetItem + one UpdateItem. */
  verify: OverheadFigure & { floorCalls: readonly string[]; againstOneWriteFloor: number };
  /** `kdfShare`: hashing a fresh recovery-code set alone (median), over the confirm request (median). */
  confirm: OverheadFigure & { kdfMs: LatencySummary; kdfShare: number };
  recoveryVerify: { requestMs: LatencySummary; kdfMs: LatencySummary; floorMs: LatencySummary };
  throughput: ThroughputFigure[];
  /**
   * The verify handler as Lambda runs it (AWS adapters; KMS answered in-process, DynamoDB Local)
   * and its storage floor; computeMs is the median of each invocation's time minus its DynamoDB round trips.
   */
  lambdaVerify: { handlerMs: LatencySummary; floorMs: LatencySummary; computeMs: number };
  /** Sizes of a verifying user's item, for the request units it costs. */
  item: { bytesWithKmsCiphertext: number };
}

interface BenchUser {
  sub: string;
  token: string;
  secret: string;
  lastStep: number;
  recoveryCodes: string[];
}

/** A set of users handed out least recently used first, each to one request at a time. */
class UserPool {
  private readonly idle: BenchUser[];
  constructor(users: BenchUser[]) {
    this.idle = [...users];
  }
  async with<T>(use: (user: BenchUser) => Promise<T>): Promise<T> {
    const user = this.idle.shift();
    if (!user) throw new Error('User pool exhausted: more concurrent requests than users.');
    try {
      return await use(user);
    } finally {
      this.idle.push(user);
    }
  }
}

/**
 * Hands out TOTP codes so that every verification is a real success: a step newer than the
 * user's last, within the drift window of the shared manual clock. The clock moves 30 s when
 * the next user has already used the current step; with four users per concurrent request, a
 * code in flight is never more than one step behind the clock, which the window accepts.
 */
function totpCodeFor(user: BenchUser, clock: ManualClock): string {
  let step = stepAt(clock.now());
  if (user.lastStep >= step) {
    clock.advance(30_000);
    step = stepAt(clock.now());
  }
  user.lastStep = step;
  return codeAt(user.secret, clock.now());
}

class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  constructor(private readonly port: number) {}

  post(path: string, token: string, body: unknown): Promise<{ status: number; text: string; ms: number }> {
    const payload = JSON.stringify(body);
    return new Promise((resolvePost, reject) => {
      const started = performance.now();
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolvePost({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: elapsedMs(started) }));
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function expectOk(what: string, result: { status: number; text: string }, status = 200): void {
  if (result.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${result.status}: ${result.text.slice(0, 300)}`);
}

function overhead(request: number[], floor: number[]): OverheadFigure {
  const requestMs = summarize(request);
  const floorMs = summarize(floor);
  return {
    ratio: ratio(median(request), median(floor)),
    p95Ratio: ratio(requestMs.p95Ms, floorMs.p95Ms),
    p99Ratio: ratio(requestMs.p99Ms, floorMs.p99Ms),
    requestMs,
    floorMs,
  };
}

/** Runs `ops` operations with `concurrency` in flight; returns each one's latency and the wall time. */
async function runBlock(concurrency: number, ops: number, operation: () => Promise<number>): Promise<{ latencies: number[]; seconds: number; cpuMs: number }> {
  let remaining = ops;
  const latencies: number[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining > 0) {
        remaining -= 1;
        latencies.push(await operation());
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { latencies, seconds: elapsedMs(started) / 1000, cpuMs: (used.user + used.system) / 1000 };
}

/** Approximate DynamoDB item size (attribute names plus values), as request units are billed. */
function itemBytes(item: Record<string, { S?: string; N?: string; B?: Uint8Array; SS?: string[] }>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.replace(/^-/, '').replace('.', '').length / 2) + 1;
    else if (value.B !== undefined) bytes += value.B.length;
    else if (value.SS !== undefined) bytes += value.SS.reduce((sum, entry) => sum + Buffer.byteLength(entry), 0);
  }
  return bytes;
}

/**
 * Latency of the verify path through the local HTTP server against the bare DynamoDB work it
 * needs (the same GetItem and conditional UpdateItem through the same adapter and SDK client
 * configuration, against the same DynamoDB Local), always measured interleaved in one run.
 */
export async function measureLatency(options: LatencyOptions): Promise<LatencyResults> {
  const log = options.log ?? (() => {});
  const dataDir = await mkdtemp(join(tmpdir(), 'mfa-bench-'));
  const clock = new ManualClock(Date.now());
  const tableName = `mfa-bench-${randomUUID()}`;
  const stack: LocalStack = await startLocalStack({ dataDir, dynamoDbEndpoint: options.dynamoDbEndpoint, tableName, overrides: { clock } });
  const http = new HttpClient(stack.port);
  const dynamoDb = new DynamoDBClient(dynamoDbClientConfig({ dynamoDbEndpoint: options.dynamoDbEndpoint }));
  const store = new DynamoDbMfaStore(dynamoDb, tableName);
  const sealer = LocalSecretSealer.inDataDir(dataDir);
  let harness: AwsHarness | undefined;

  try {
    // One recovery-code set shared by the seeded users: hashing is the confirm's KDF work, measured on its own below.
    const sharedCodes = generateRecoveryCodes(cryptoRandom);
    const sharedHashes = await hashRecoveryCodes(sharedCodes, cryptoRandom);

    const newUser = async (prefix: string): Promise<BenchUser & { pendingSealed: Uint8Array }> => {
      const sub = `${prefix}-${randomUUID()}`;
      const token = await stack.identity.issueToken({ sub, email: `${sub}@example.com` });
      const started = await http.post('/v1/mfa/totp/enrollment', token, {});
      expectOk('start enrollment', started, 201);
      const record = await store.get(sub);
      return { sub, token, secret: JSON.parse(started.text).secret, lastStep: -1, recoveryCodes: [], pendingSealed: record!.pending!.sealedSecret };
    };
    /** Enrolled through the real enrollment route, confirmed in storage with the shared code set (no KDF per user). */
    const seededUser = async (prefix: string): Promise<BenchUser> => {
      const user = await newUser(prefix);
      const step = stepAt(clock.now()) - 2;
      if ((await store.enableTotp(user.sub, { pendingSealedSecret: user.pendingSealed, step, recoveryCodeHashes: sharedHashes }, clock.now())) !== 'ok') {
        throw new Error('Could not seed an enrolled user.');
      }
      return { ...user, lastStep: step, recoveryCodes: [...sharedCodes] };
    };

    const maxConcurrency = Math.max(...options.concurrency);
    log(`latency: enrolling ${4 * maxConcurrency} verifying users and ${2 * maxConcurrency} storage-floor users`);
    const verifyUsers = await seedUsers(4 * maxConcurrency, () => seededUser('bench-verify'));
    const floorUsers = await seedUsers(2 * maxConcurrency, () => seededUser('bench-floor'));
    const verifyPool = new UserPool(verifyUsers);
    const floorPool = new UserPool(floorUsers);

    const verifyOnce = () =>
      verifyPool.with(async (user) => {
        const result = await http.post('/v1/mfa/verify', user.token, { code: totpCodeFor(user, clock) });
        expectOk('verify', result);
        return result.ms;
      });
    /**
     * The storage work a verification needs, as the route's minimum-call table lists it: the
     * conditional UpdateItem that counts the attempt and returns the item, and the conditional
     * UpdateItem that spends the step. `writes` = 1 is the issue's GetItem + UpdateItem.
     */
    const storageFloor = (writes: number) => () =>
      floorPool.with(async (user) => {
        const started = performance.now();
        const now = clock.now();
        let record;
        if (writes === 1) {
          record = await store.get(user.sub);
        } else {
          const quiet = await store.countQuietAttempt(user.sub, { ...quietAttemptGuard(now), requires: 'totp' }, now);
          if (!quiet.counted) throw new Error('The storage floor count write was refused.');
          record = quiet.record;
        }
        const result = await store.commitProof(user.sub, { kind: 'totp', sealedSecret: record!.totp!.sealedSecret, step: record!.totp!.lastStep + 1 }, { kind: 'none' }, now);
        const ms = elapsedMs(started);
        if (result !== 'ok') throw new Error('The storage floor write was refused.');
        return ms;
      });
    const floorOnce = storageFloor(VERIFY_STORAGE_WRITES);
    const oneWriteFloorOnce = storageFloor(1);

    // 1. Verify at concurrency 1, interleaved with its storage floor (and the one-write floor when they differ), order rotating.
    log(`latency: verify with a TOTP code, ${options.verifyPairs} rounds interleaved with the storage floor (${VERIFY_STORAGE_CALLS.join(' + ')})`);
    const verifySamples: number[] = [];
    const floorSamples: number[] = [];
    const oneWriteSamples: number[] = [];
    const kinds = VERIFY_STORAGE_WRITES === 1 ? (['verify', 'floor'] as const) : (['verify', 'floor', 'oneWrite'] as const);
    for (let i = 0; i < options.warmup + options.verifyPairs; i++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(i + k) % kinds.length]!;
        const ms = kind === 'verify' ? await verifyOnce() : kind === 'floor' ? await floorOnce() : await oneWriteFloorOnce();
        if (i < options.warmup) continue;
        (kind === 'verify' ? verifySamples : kind === 'floor' ? floorSamples : oneWriteSamples).push(ms);
      }
    }
    const verify = {
      ...overhead(verifySamples, floorSamples),
      floorCalls: VERIFY_STORAGE_CALLS,
      againstOneWriteFloor: ratio(median(verifySamples), median(oneWriteSamples.length > 0 ? oneWriteSamples : floorSamples)),
    };
    if (options.profileDir) {
      log(`latency: profiling 200 verifications at concurrency 1`);
      await profiled(join(options.profileDir, 'verify-c1.cpuprofile'), () => runBlock(1, 200, verifyOnce));
    }

    // 2. Confirm: the route, its storage floor (GetItem, any count write, the enabling UpdateItem) and its KDF work, interleaved.
    log(`latency: confirm enrollment, ${options.confirmSamples} samples (each hashes 10 recovery codes)`);
    const confirmSamples: number[] = [];
    const confirmFloor: number[] = [];
    const confirmKdf: number[] = [];
    for (let i = 0; i < options.confirmSamples; i++) {
      const user = await newUser('bench-confirm');
      const confirmed = await http.post('/v1/mfa/totp/enrollment/confirm', user.token, { code: codeAt(user.secret, clock.now()) });
      expectOk('confirm', confirmed);
      confirmSamples.push(confirmed.ms);

      const floorSub = `bench-confirm-floor-${randomUUID()}`;
      const sealed = await sealer.seal(cryptoRandom.bytes(20), { purpose: 'totp-secret', userId: floorSub });
      await store.putPendingEnrollment(floorSub, { sealedSecret: sealed, expiresAt: clock.now() + 600_000 }, clock.now());
      let started = performance.now();
      const quiet = await store.countQuietAttempt(floorSub, { ...quietAttemptGuard(clock.now()), requires: 'pending-enrollment' }, clock.now());
      if (!quiet.counted) throw new Error('The confirm floor count write was refused.');
      const pending = quiet.record;
      const enabled = await store.enableTotp(floorSub, { pendingSealedSecret: pending!.pending!.sealedSecret, step: stepAt(clock.now()), recoveryCodeHashes: sharedHashes }, clock.now());
      confirmFloor.push(elapsedMs(started));
      if (enabled !== 'ok') throw new Error('The confirm floor write was refused.');

      started = performance.now();
      await hashRecoveryCodes(generateRecoveryCodes(cryptoRandom), cryptoRandom);
      confirmKdf.push(elapsedMs(started));
    }
    const confirmKdfMs = summarize(confirmKdf);
    const confirm = {
      ...overhead(confirmSamples, confirmFloor),
      kdfMs: confirmKdfMs,
      kdfShare: ratio(median(confirmKdf), median(confirmSamples)),
    };

    // 3. Verify with a recovery code: one KDF evaluation, measured on its own alongside.
    log(`latency: verify with a recovery code, ${options.recoverySamples} samples`);
    const recoverySamples: number[] = [];
    const recoveryKdf: number[] = [];
    const recoveryFloor: number[] = [];
    for (let i = 0; i < options.recoverySamples; i++) {
      const user = verifyUsers[i % verifyUsers.length]!;
      const code = user.recoveryCodes.shift()!;
      const result = await http.post('/v1/mfa/verify', user.token, { recoveryCode: code });
      expectOk('verify with a recovery code', result);
      recoverySamples.push(result.ms);
      const started = performance.now();
      await findRecoveryCodeHash(sharedCodes[i % sharedCodes.length]!, sharedHashes.slice(0, 1));
      recoveryKdf.push(elapsedMs(started));
      recoveryFloor.push(await floorOnce());
    }
    const recoveryVerify = { requestMs: summarize(recoverySamples), kdfMs: summarize(recoveryKdf), floorMs: summarize(recoveryFloor) };

    // 4. Throughput at each concurrency: verify and floor blocks alternate (ABBA...), same user pools.
    const throughput: ThroughputFigure[] = [];
    for (const concurrency of options.concurrency) {
      const ops = options.opsPerBlock(concurrency);
      log(`latency: throughput at concurrency ${concurrency}, ${options.blocksPerConcurrency} x ${ops} operations of each kind`);
      await runBlock(concurrency, Math.min(ops, 4 * concurrency), verifyOnce);
      await runBlock(concurrency, Math.min(ops, 4 * concurrency), floorOnce);
      const verifyBlocks: Awaited<ReturnType<typeof runBlock>>[] = [];
      const floorBlocks: Awaited<ReturnType<typeof runBlock>>[] = [];
      for (let block = 0; block < options.blocksPerConcurrency; block++) {
        const verifyFirst = block % 2 === 0;
        if (verifyFirst) verifyBlocks.push(await runBlock(concurrency, ops, verifyOnce));
        floorBlocks.push(await runBlock(concurrency, ops, floorOnce));
        if (!verifyFirst) verifyBlocks.push(await runBlock(concurrency, ops, verifyOnce));
      }
      if (options.profileDir && concurrency === maxConcurrency) {
        log(`latency: profiling a verify block at concurrency ${concurrency}`);
        await profiled(join(options.profileDir, `verify-c${concurrency}.cpuprofile`), () => runBlock(concurrency, ops, verifyOnce));
      }
      const verifyLatencies = verifyBlocks.flatMap((block) => block.latencies);
      const floorLatencies = floorBlocks.flatMap((block) => block.latencies);
      const perSecond = (blocks: typeof verifyBlocks) => blocks.reduce((sum, block) => sum + block.latencies.length, 0) / blocks.reduce((sum, block) => sum + block.seconds, 0);
      const cpuPerOp = (blocks: typeof verifyBlocks) => blocks.reduce((sum, block) => sum + block.cpuMs, 0) / blocks.reduce((sum, block) => sum + block.latencies.length, 0);
      const verifyPerSecond = perSecond(verifyBlocks);
      const floorPerSecond = perSecond(floorBlocks);
      throughput.push({
        concurrency,
        verifyPerSecond: round(verifyPerSecond, 1),
        floorPerSecond: round(floorPerSecond, 1),
        throughputRatio: ratio(floorPerSecond, verifyPerSecond),
        overheadRatio: ratio(median(verifyLatencies), median(floorLatencies)),
        verifyMs: summarize(verifyLatencies),
        floorMs: summarize(floorLatencies),
        nodeCpuMsPerVerify: round(cpuPerOp(verifyBlocks), 3),
        nodeCpuMsPerFloor: round(cpuPerOp(floorBlocks), 3),
      });
    }

    // 5. The verify handler as Lambda runs it: AWS adapters, invoked directly (no HTTP), with its floor.
    log(`latency: verify handler with the AWS adapters, ${options.handlerPairs} pairs`);
    const awsClock = new ManualClock(Date.now());
    harness = await startAwsHarness({ dynamoDbEndpoint: options.dynamoDbEndpoint, clock: awsClock });
    const awsStore = harness.store;
    const awsUser = async (): Promise<BenchUser> => {
      const sub = `bench-aws-${randomUUID()}`;
      const started = await harness!.invoke('startTotpEnrollment', { sub, body: {} });
      if (started.status !== 201) throw new Error(`aws enrollment: ${started.status}`);
      const record = await awsStore.get(sub);
      const step = stepAt(awsClock.now()) - 2;
      await awsStore.enableTotp(sub, { pendingSealedSecret: record!.pending!.sealedSecret, step, recoveryCodeHashes: sharedHashes }, awsClock.now());
      return { sub, token: '', secret: started.json.secret, lastStep: step, recoveryCodes: [...sharedCodes] };
    };
    const awsVerifyUsers = await seedUsers(4, awsUser);
    const awsVerifyPool = new UserPool(awsVerifyUsers);
    const awsFloorPool = new UserPool(await seedUsers(2, awsUser));
    const handlerSamples: number[] = [];
    const handlerFloor: number[] = [];
    const handlerCompute: number[] = [];
    const awsVerifyOnce = () =>
      awsVerifyPool.with(async (user) => {
        const started = performance.now();
        const result = await harness!.invoke('verifyMfa', { sub: user.sub, body: { code: totpCodeFor(user, awsClock) } });
        const ms = elapsedMs(started);
        if (result.status !== 200) throw new Error(`aws verify: ${result.status} ${JSON.stringify(result.json)}`);
        handlerCompute.push(ms - result.dynamoDbMs);
        return ms;
      });
    const awsFloorOnce = () =>
      awsFloorPool.with(async (user) => {
        const started = performance.now();
        const record = await awsStore.get(user.sub);
        const result = await awsStore.commitProof(user.sub, { kind: 'totp', sealedSecret: record!.totp!.sealedSecret, step: record!.totp!.lastStep + 1 }, { kind: 'none' }, awsClock.now());
        if (result !== 'ok') throw new Error('The storage floor write was refused.');
        return elapsedMs(started);
      });
    for (let i = 0; i < options.warmup + options.handlerPairs; i++) {
      const first = i % 2 === 0;
      const a = first ? await awsVerifyOnce() : await awsFloorOnce();
      const b = first ? await awsFloorOnce() : await awsVerifyOnce();
      if (i < options.warmup) continue;
      handlerSamples.push(first ? a : b);
      handlerFloor.push(first ? b : a);
    }
    const warmCompute = handlerCompute.slice(options.warmup);
    const lambdaVerify = {
      handlerMs: summarize(handlerSamples),
      floorMs: summarize(handlerFloor),
      computeMs: round(median(warmCompute), 3),
    };

    // The item a verification reads and rewrites, as KMS would size its sealed secret.
    const { Item } = await harness.dynamoDb.send(
      new GetItemCommand({ TableName: harness.tableName, Key: userKey(awsVerifyUsers[0]!.sub), ConsistentRead: true }),
    );
    const item = { bytesWithKmsCiphertext: Item ? itemBytes(Item as Parameters<typeof itemBytes>[0]) : 0 };

    return { verify, confirm, recoveryVerify, throughput, lambdaVerify, item };
  } finally {
    harness?.close();
    http.close();
    dynamoDb.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function seedUsers(count: number, create: () => Promise<BenchUser>): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  // A few at a time: enrollment renders a QR code, and the machine is shared.
  for (let i = 0; i < count; i += 4) users.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, create))));
  return users;
}
