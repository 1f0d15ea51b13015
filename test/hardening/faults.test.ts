import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMfaStore } from '../../functions/adapters/aws/dynamodb-mfa-store.js';
import { KmsAssertionSigner } from '../../functions/adapters/aws/kms-assertion-signer.js';
import { KmsSecretSealer } from '../../functions/adapters/aws/kms-secret-sealer.js';
import { problemBody } from '../../functions/http/problems.js';
import type { MfaStore } from '../../functions/ports/mfa-store.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { installFakeKms } from '../support/fake-kms.js';
import { FAULT_KINDS, FaultInjector, LEAK_MARKERS } from '../support/fault-injection.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import type { RawResponse } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';
import { canonicalItem, readUserItem, restoreUserItem, type Item } from '../support/table-snapshot.js';

const TOTP_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/totp-0000-1111';
const SIGNING_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/signing-2222-3333';

/** The DynamoDbMfaStore the handlers use, switched between a client that never retries and one that retries like production. */
class SwitchableStore implements MfaStore {
  target!: MfaStore;
  get: MfaStore['get'] = (...args) => this.target.get(...args);
  countQuietAttempt: MfaStore['countQuietAttempt'] = (...args) => this.target.countQuietAttempt(...args);
  countDecidedAttempt: MfaStore['countDecidedAttempt'] = (...args) => this.target.countDecidedAttempt(...args);
  refundCodeAttempt: MfaStore['refundCodeAttempt'] = (...args) => this.target.refundCodeAttempt(...args);
  chargeCodeChecks: MfaStore['chargeCodeChecks'] = (...args) => this.target.chargeCodeChecks(...args);
  changeSession: MfaStore['changeSession'] = (...args) => this.target.changeSession(...args);
  confirmLockout: MfaStore['confirmLockout'] = (...args) => this.target.confirmLockout(...args);
  reportCeiling: MfaStore['reportCeiling'] = (...args) => this.target.reportCeiling(...args);
  commitProof: MfaStore['commitProof'] = (...args) => this.target.commitProof(...args);
  putPendingEnrollment: MfaStore['putPendingEnrollment'] = (...args) => this.target.putPendingEnrollment(...args);
  putRegistration: MfaStore['putRegistration'] = (...args) => this.target.putRegistration(...args);
  recordKeyChallenge: MfaStore['recordKeyChallenge'] = (...args) => this.target.recordKeyChallenge(...args);
  addRegisteredKey: MfaStore['addRegisteredKey'] = (...args) => this.target.addRegisteredKey(...args);
  putDeviceChallenge: MfaStore['putDeviceChallenge'] = (...args) => this.target.putDeviceChallenge(...args);
  forgetDevices: MfaStore['forgetDevices'] = (...args) => this.target.forgetDevices(...args);
  renameAuthenticator: MfaStore['renameAuthenticator'] = (...args) => this.target.renameAuthenticator(...args);
  resetMfa: MfaStore['resetMfa'] = (...args) => this.target.resetMfa(...args);
  clearLock: MfaStore['clearLock'] = (...args) => this.target.clearLock(...args);
  migrateLegacy: MfaStore['migrateLegacy'] = (...args) => this.target.migrateLegacy(...args);
  countEmailSend: MfaStore['countEmailSend'] = (...args) => this.target.countEmailSend(...args);
  refundEmailSend: MfaStore['refundEmailSend'] = (...args) => this.target.refundEmailSend(...args);
  putEmailCode: MfaStore['putEmailCode'] = (...args) => this.target.putEmailCode(...args);
  recordEvents: MfaStore['recordEvents'] = (...args) => this.target.recordEvents(...args);
}

const injector = new FaultInjector();
const fakeKms = installFakeKms({ injector });
const kms = new KMSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const store = new SwitchableStore();
let failingStore: MfaStore;
let retryingStore: MfaStore;
let h: HardeningStack;

beforeAll(async () => {
  h = await startHardeningStack({ store, sealer: new KmsSecretSealer(kms, TOTP_KEY), signer: new KmsAssertionSigner(kms, SIGNING_KEY) });
  const client = (maxAttempts: number) => injector.instrumentDynamoDb(new DynamoDBClient({ endpoint: testDynamoDbEndpoint(), maxAttempts }));
  // A fault "at a call site" is the call failing for good: the SDK's retries are used up (or the client gives up at once).
  failingStore = new DynamoDbMfaStore(client(1), h.tableName);
  // Production's client, for responses lost after DynamoDB applied the write: the SDK sends the write again.
  retryingStore = new DynamoDbMfaStore(client(3), h.tableName);
  store.target = failingStore;
});
afterAll(async () => {
  await h?.stop();
  fakeKms.mock.restore();
});

/** What a client sees of a dependency failure: the table's 503 problem, word for word, and nothing of the error. */
function expectServiceUnavailable(response: RawResponse) {
  expect(response.status).toBe(503);
  expect(response.headers['content-type']).toBe('application/problem+json');
  expect(response.headers['retry-after']).toBe('1');
  expect(response.json).toEqual(problemBody({ code: 'service_unavailable' }));
  for (const marker of LEAK_MARKERS) expect(response.text).not.toContain(marker);
}

/**
 * An item as far as the operation's effect goes: the failure count, failure window and lock (the lockout's ledger,
 * which an attempt updates before its code is checked) are left out, and values the operation
 * draws at random (a new sealed secret, a new recovery-code set) are named by their relation to
 * the state before.
 */
function effectOf(item: Item | undefined, before: Item | undefined): string {
  if (!item) return 'no item';
  // The outbox is delivery (events: checked in their own tests), and authenticator ids are drawn at random: named by position.
  // Attempt counters (the lockout, the ceiling window, the sessions' windows) are checked by their own rules below.
  const {
    failures: _failures,
    lockedUntil: _lockedUntil,
    lastWriteId: _writeId,
    windowStart: _windowStart,
    windowFailures: _windowFailures,
    proofTimes: _proofTimes,
    sessions: _sessions,
    ceilingReportedAt: _ceilingReportedAt,
    outbox: _outbox,
    ...rest
  } = item;
  if (rest.authenticators?.M) {
    const byCreation = Object.values(rest.authenticators.M).sort((a, b) => Number(a.M?.createdAt?.N) - Number(b.M?.createdAt?.N));
    rest.authenticators = { L: byCreation };
  }
  const same = (a: Item[string] | undefined, b: Item[string] | undefined) =>
    a !== undefined && b !== undefined && canonicalItem({ v: a }) === canonicalItem({ v: b });
  const described: Record<string, unknown> = JSON.parse(canonicalItem(rest)).reduce(
    (out: Record<string, unknown>, [name, value]: [string, unknown]) => ({ ...out, [name]: value }),
    {},
  );
  if (item.pendingEnrollments?.M) {
    const secretsBefore = Object.values(before?.pendingEnrollments?.M ?? {}).map((entry) => entry.M?.secret);
    described.pendingEnrollments = Object.values(item.pendingEnrollments.M).map((entry) =>
      secretsBefore.some((secret) => same(entry.M?.secret, secret)) ? 'the pending secret' : 'a new secret',
    );
  }
  if (item.recoveryCodes?.SS) {
    const old = new Set(before?.recoveryCodes?.SS ?? []);
    const kept = item.recoveryCodes.SS.filter((hash) => old.has(hash)).length;
    described.recoveryCodes = kept === item.recoveryCodes.SS.length ? `${kept} of the codes before` : kept === 0 ? `a fresh set of ${item.recoveryCodes.SS.length}` : 'a mix';
  }
  return JSON.stringify(described);
}

interface Scenario {
  name: string;
  /** The SDK calls the operation makes, in order: the call sites a fault can hit. */
  callSites: string[];
  /** A fresh user in the state the operation starts from, and the request that performs it. */
  prepare(): Promise<{ sub: string; send: () => Promise<RawResponse> }>;
}

const enrolled = async () => {
  const user = await h.enrolledUser();
  h.clock.advance(30_000);
  return user;
};

const SCENARIOS: Scenario[] = [
  {
    name: 'read the status',
    callSites: ['DynamoDB.GetItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('GET', '/v1/mfa', user.token) };
    },
  },
  {
    name: 'start an enrollment',
    // The session's pending enrollment is replaced in the map of pending ones: the first write (which needs no read) finds the map, the second replaces the entry.
    callSites: ['KMS.Encrypt', 'DynamoDB.UpdateItem', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const pending = await h.startEnrollment();
      return { sub: pending.sub, send: () => h.call('POST', '/v1/mfa/totp/enrollment', pending.token) };
    },
  },
  {
    name: 'confirm an enrollment',
    callSites: ['DynamoDB.GetItem', 'DynamoDB.UpdateItem', 'KMS.Decrypt', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const pending = await h.startEnrollment();
      return { sub: pending.sub, send: () => h.call('POST', '/v1/mfa/totp/enrollment/confirm', pending.token, { code: codeAt(pending.secret, h.clock) }) };
    },
  },
  {
    name: 'verify a TOTP code',
    callSites: ['DynamoDB.UpdateItem', 'KMS.Decrypt', 'KMS.Sign', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, h.clock) }) };
    },
  },
  {
    name: 'verify a recovery code',
    callSites: ['DynamoDB.UpdateItem', 'KMS.Sign', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('POST', '/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes[0] }) };
    },
  },
  {
    name: 'regenerate recovery codes with a TOTP code',
    callSites: ['DynamoDB.UpdateItem', 'KMS.Decrypt', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('POST', '/v1/mfa/recovery-codes', user.token, { code: codeAt(user.secret, h.clock) }) };
    },
  },
  {
    name: 'regenerate recovery codes with a recovery code',
    callSites: ['DynamoDB.UpdateItem', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('POST', '/v1/mfa/recovery-codes', user.token, { recoveryCode: user.recoveryCodes[1] }) };
    },
  },
  {
    name: 'disable TOTP with a TOTP code',
    callSites: ['DynamoDB.UpdateItem', 'KMS.Decrypt', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('POST', '/v1/mfa/totp/disable', user.token, { code: codeAt(user.secret, h.clock) }) };
    },
  },
  {
    name: 'disable TOTP with a recovery code',
    callSites: ['DynamoDB.UpdateItem', 'DynamoDB.UpdateItem'],
    prepare: async () => {
      const user = await enrolled();
      return { sub: user.sub, send: () => h.call('POST', '/v1/mfa/totp/disable', user.token, { recoveryCode: user.recoveryCodes[2] }) };
    },
  },
];

describe('dependency faults at every call site of every handler', () => {
  it('answers 503 for the JWKS while KMS cannot give the public key, and serves it once KMS is back', async () => {
    injector.failCall(0, 'internal-error');
    expectServiceUnavailable(await h.call('GET', '/.well-known/jwks.json'));
    expect(injector.calls).toEqual(['KMS.GetPublicKey']);
    injector.reset();
    expect((await h.call('GET', '/.well-known/jwks.json')).status).toBe(200);
  });

  it('starts no write after a request ran out of time: a verification stuck in KMS past the function timeout answers 503 and changes nothing later', async () => {
    const user = await enrolled();
    const before = await readUserItem(h.client, h.tableName, user.sub);
    const decrypt = 2; // GetItem, UpdateItem (the attempt is counted), Decrypt
    const stuckMs = 10_500; // the local stand-in, like the functions, gives an invocation 10 s
    injector.slowCall(decrypt, stuckMs);
    const startedAt = Date.now();
    const response = await h.call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, h.clock) });
    expectServiceUnavailable(response);
    // The invocation's work goes on after the answer, as it would in Lambda after a thaw: let it finish.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + stuckMs + 1_500 - Date.now())));
    expect(injector.calls.filter((site) => site === 'DynamoDB.UpdateItem'), 'only the count of the attempt was written').toHaveLength(1);
    const state = await readUserItem(h.client, h.tableName, user.sub);
    expect(effectOf(state, before)).toBe(effectOf(before, before));
    injector.reset();
  }, 30_000);

  for (const scenario of SCENARIOS) {
    const writes = scenario.callSites.flatMap((site, index) => (site === 'DynamoDB.UpdateItem' ? [index] : []));
    it(`${scenario.name}: every failing call answers 503 and leaves the state fully before or fully after`, async () => {
      const { sub, send } = await scenario.prepare();
      const before = await readUserItem(h.client, h.tableName, sub);

      injector.reset();
      const success = await send();
      expect(success.status, success.text).toBeLessThan(300);
      expect(injector.calls).toEqual(scenario.callSites);
      await restoreUserItem(h.client, h.tableName, before!);

      for (const [index, site] of scenario.callSites.entries()) {
        for (const kind of FAULT_KINDS) {
          injector.failCall(index, kind);
          const response = await send();
          expect(injector.calls.slice(0, index + 1), 'the same call sites in the same order').toEqual(scenario.callSites.slice(0, index + 1));
          expectServiceUnavailable(response);
          // Nothing of the operation happened: at most the attempt was counted against the lockout.
          const state = await readUserItem(h.client, h.tableName, sub);
          expect(effectOf(state, before), `${site} (#${index}) failing with ${kind}`).toBe(effectOf(before, before));
          expect(Number(state?.failures?.N ?? 0)).toBeLessThanOrEqual(Number(before?.failures?.N ?? 0) + 1);
          expect(state?.lockedUntil).toBeUndefined();
          await restoreUserItem(h.client, h.tableName, before!);
        }
      }
      injector.reset();
    });

    if (writes.length === 0) continue;
    it(`${scenario.name}: a write DynamoDB applied whose response was lost is sent again by the SDK and answered as done, the state fully after`, async () => {
      const { sub, send } = await scenario.prepare();
      const before = await readUserItem(h.client, h.tableName, sub);
      injector.reset();
      expect((await send()).status).toBeLessThan(300);
      const after = await readUserItem(h.client, h.tableName, sub);
      expect(effectOf(after, before)).not.toBe(effectOf(before, before));

      store.target = retryingStore;
      try {
        for (const index of writes) {
          await restoreUserItem(h.client, h.tableName, before!);
          injector.failCall(index, 'timeout', 'lost-response');
          const response = await send();
          expect(response.status, `write #${index} lost: ${response.text}`).toBeLessThan(300);
          expect(injector.calls.filter((site) => site === 'DynamoDB.UpdateItem')).toHaveLength(writes.length);
          const state = await readUserItem(h.client, h.tableName, sub);
          expect(effectOf(state, before)).toBe(effectOf(after, before));
          expect(state?.failures?.N).toBe(after?.failures?.N);
        }
      } finally {
        store.target = failingStore;
        injector.reset();
      }
    });
  }
});
