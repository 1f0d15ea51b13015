import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRecoveryCodeHash } from '../../functions/methods/recovery-codes/recovery-codes.js';
import { stepAt } from '../../functions/methods/totp/totp.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import type { RawResponse } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';
import { readUserItem, storedApps } from '../support/table-snapshot.js';

const CONCURRENCY = 50;
let h: HardeningStack;

beforeAll(async () => {
  h = await startHardeningStack();
});
afterAll(() => h?.stop());

const times = <T>(n: number, make: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => make(i)));

/**
 * Losers of a race get a problem a client knows what to do with: the refusal, or under heavy
 * contention `service_unavailable` with Retry-After (the request gave up and changed nothing
 * but the failure count). Never a 500.
 */
function expectProblemsOnly(losers: RawResponse[], refusals: string[]) {
  for (const loser of losers) {
    expect(loser.headers['content-type']).toBe('application/problem+json');
    expect([...refusals, 'service_unavailable']).toContain(loser.json.code);
    if (loser.status === 503) expect(loser.headers['retry-after']).toBe('1');
  }
}

function expectOneWinner(responses: RawResponse[], refusals: string[]) {
  expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
  expectProblemsOnly(responses.filter((response) => response.status !== 200), refusals);
}

async function storedHashes(sub: string): Promise<string[]> {
  return (await readUserItem(h.client, h.tableName, sub))?.recoveryCodes?.SS ?? [];
}

/** How many of `codes` the stored set accepts (one KDF evaluation per code). */
async function validCount(codes: string[], hashes: string[]): Promise<number> {
  let valid = 0;
  for (const code of codes) if ((await findRecoveryCodeHash(code, hashes)) !== null) valid += 1;
  return valid;
}

describe('races through the HTTP layer on DynamoDB Local', () => {
  it(`accepts one TOTP code exactly once out of ${CONCURRENCY} concurrent verifications`, async () => {
    const user = await h.enrolledUser();
    h.clock.advance(30_000);
    const code = codeAt(user.secret, h.clock);
    const responses = await times(CONCURRENCY, () => h.call('POST', '/v1/mfa/verify', user.token, { code }));
    expectOneWinner(responses, ['invalid_code', 'too_many_attempts']);
    const item = await readUserItem(h.client, h.tableName, user.sub);
    expect(storedApps(item).map((app) => app.lastStep)).toEqual([stepAt(h.clock.now())]);
  });

  it(`accepts one recovery code exactly once out of ${CONCURRENCY} concurrent verifications`, async () => {
    const user = await h.enrolledUser();
    const responses = await times(CONCURRENCY, () => h.call('POST', '/v1/mfa/verify', user.token, { recoveryCode: user.recoveryCodes[3] }));
    expectOneWinner(responses, ['invalid_code', 'too_many_attempts']);
    const hashes = await storedHashes(user.sub);
    expect(hashes).toHaveLength(9);
    expect(await findRecoveryCodeHash(user.recoveryCodes[3]!, hashes)).toBeNull();
  });

  it(`confirms one enrollment exactly once out of ${CONCURRENCY} concurrent confirmations, storing the one set it returned`, async () => {
    h.clock.advance(30_000);
    const pending = await h.startEnrollment();
    const code = codeAt(pending.secret, h.clock);
    const responses = await times(CONCURRENCY, () => h.call('POST', '/v1/mfa/totp/enrollment/confirm', pending.token, { code }));
    expectOneWinner(responses, ['totp_already_enabled', 'invalid_code', 'too_many_attempts']);
    const winner = responses.find((response) => response.status === 200)!;
    const hashes = await storedHashes(pending.sub);
    expect(hashes).toHaveLength(10);
    expect(await validCount(winner.json.recoveryCodes, hashes)).toBe(10);
    const item = await readUserItem(h.client, h.tableName, pending.sub);
    expect(item?.pendingEnrollments?.M).toEqual({});
    expect(storedApps(item)).toHaveLength(1);
  });

  it(`leaves exactly one valid recovery-code set after ${CONCURRENCY} concurrent regenerations: one that was handed out, every other set dead`, async () => {
    const user = await h.enrolledUser();
    h.clock.advance(60_000); // the previous, current and next step are all unused now
    const totpCodes = [-1, 0, 1].map((offset) => codeAt(user.secret, h.clock, offset));
    const proofs = Array.from({ length: CONCURRENCY }, (_, i) =>
      i % 4 === 3 ? { code: totpCodes[i % 3]! } : { recoveryCode: user.recoveryCodes[i % 10]! },
    );
    const responses = await Promise.all(proofs.map((proof) => h.call('POST', '/v1/mfa/recovery-codes', user.token, proof)));
    expectProblemsOnly(responses.filter((response) => response.status !== 200), ['invalid_code', 'too_many_attempts']);
    const handedOut = responses.filter((response) => response.status === 200).map((response) => response.json.recoveryCodes as string[]);
    expect(handedOut.length).toBeGreaterThanOrEqual(1);

    const hashes = await storedHashes(user.sub);
    expect(hashes).toHaveLength(10);
    const validPerSet = [];
    for (const set of handedOut) validPerSet.push(await validCount(set, hashes));
    expect(validPerSet.filter((valid) => valid === 10)).toHaveLength(1);
    expect(validPerSet.filter((valid) => valid !== 10 && valid !== 0)).toEqual([]);
    expect(await validCount(user.recoveryCodes, hashes)).toBe(0);
  });

  it('never leaves recovery codes without a secret, nor anything after a disable that succeeded, when disable races verification', async () => {
    for (let trial = 0; trial < 6; trial++) {
      const user = await h.enrolledUser();
      h.clock.advance(30_000);
      const disableProof = trial % 2 === 0 ? { code: codeAt(user.secret, h.clock) } : { recoveryCode: user.recoveryCodes[0]! };
      const requests = [
        h.call('POST', '/v1/mfa/totp/disable', user.token, disableProof),
        ...user.recoveryCodes.slice(trial % 2 === 0 ? 0 : 1).map((recoveryCode) => h.call('POST', '/v1/mfa/verify', user.token, { recoveryCode })),
        h.call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, h.clock, 1) }),
        h.call('POST', '/v1/mfa/recovery-codes', user.token, { recoveryCode: user.recoveryCodes[9]! }),
      ];
      const [disabled, ...others] = await Promise.all(requests);
      expectProblemsOnly(
        [disabled!, ...others].filter((response) => response.status !== 200),
        ['invalid_code', 'too_many_attempts', 'mfa_not_enabled'],
      );

      const item = await readUserItem(h.client, h.tableName, user.sub);
      const hasSecret = storedApps(item).length > 0;
      const codes = item?.recoveryCodes?.SS?.length ?? 0;
      // Codes never outlive the secret; a secret may outlive its codes when the verifications spent them all.
      if (!hasSecret) expect(codes).toBe(0);
      if (disabled!.status === 200) expect(hasSecret).toBe(false);
      const status = await h.call('GET', '/v1/mfa', user.token);
      expect(status.json.mfaEnabled).toBe(hasSecret);
      expect(status.json.recoveryCodes.remaining).toBe(codes);
    }
  });
});
