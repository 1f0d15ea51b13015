import { beforeAll, describe, expect, it } from 'vitest';
import { PowertoolsAuditLog, AUDIT_METRICS } from '../../functions/adapters/powertools-audit-log.js';
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { PublishedChangeEvent } from '../../functions/domain/change-events.js';
import { AuthenticatorNotFoundError, EnrollmentNotFoundError, InvalidCodeError, InvalidCredentialError, TooManyAttemptsError } from '../../functions/domain/errors.js';
import { LOCKOUT_THRESHOLD, PROOF_ATTEMPTS_PER_WINDOW, USER_PROOF_CEILING } from '../../functions/domain/lockout.js';
import { MAX_PENDING_PER_USER, MAX_SESSION_ENTRIES, REFUNDS_PER_WINDOW } from '../../functions/domain/sessions.js';
import { userKey } from '../../functions/adapters/aws/mfa-item.js';
import type { MfaRecord } from '../../functions/domain/mfa-record.js';
import { cryptoRandom } from '../../functions/domain/random.js';
import { generateRecoveryCodes } from '../../functions/methods/recovery-codes/recovery-codes.js';
import type { MfaStore } from '../../functions/ports/mfa-store.js';
import type { SealContext, SecretSealer } from '../../functions/ports/secret-sealer.js';
import { MfaService, type Actor, type MfaServiceDeps, type SecondFactor } from '../../functions/service/mfa-service.js';
import { SoftwareAuthenticator } from '../../harness/software-authenticator.js';
import { changeEventsOf } from '../support/change-events.js';
import { codeAt, createTestService, newActor, otherSessionOf } from '../support/service.js';
import { readUserItem } from '../support/table-snapshot.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;

/** Counts how often a TOTP secret is opened (a KMS Decrypt in AWS). */
class CountingSealer implements SecretSealer {
  opened = 0;
  constructor(private readonly inner: SecretSealer) {}
  seal(plaintext: Uint8Array, context: SealContext) {
    return this.inner.seal(plaintext, context);
  }
  open(sealed: Uint8Array, context: SealContext) {
    this.opened += 1;
    return this.inner.open(sealed, context);
  }
}

const ORIGIN = 'http://localhost:3000';

/** Each attempt's outcome, by error class name (or `ok`), in order. */
async function outcomes(n: number, attempt: (i: number) => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await attempt(i);
      seen.push('ok');
    } catch (error) {
      seen.push((error as Error).constructor.name);
    }
  }
  return seen;
}

const times = (n: number, name: string) => Array.from({ length: n }, () => name);

/**
 * A password holder has a first-factor session of their own for the real user (a second sign-in):
 * nothing it sends may refuse the real user's recovery codes or keys in the real user's session.
 * Service on DynamoDB Local, simulated clock: every attack below runs within one minute.
 */
describe('per-session limits of a password holder (service on DynamoDB Local)', () => {
  let t: TestService;
  let sealer: CountingSealer;
  let service: MfaService;
  beforeAll(async () => {
    t = await createTestService();
    sealer = new CountingSealer(t.deps.sealer);
    service = new MfaService({ ...t.deps, sealer });
  });

  /** A user with an app, a key and ten recovery codes; `user` is the real user's session. */
  async function victim() {
    const user = newActor('victim');
    const enrollment = await service.startTotpEnrollment(user);
    const { recoveryCodes } = await service.confirmTotpEnrollment(user, codeAt(enrollment.secret, t.clock));
    t.clock.advance(30_000);
    const key = new SoftwareAuthenticator({ origin: ORIGIN });
    const registration = await service.startWebAuthnRegistration(user, { code: codeAt(enrollment.secret, t.clock) });
    await service.confirmWebAuthnRegistration(user, key.register(registration.options));
    t.clock.advance(30_000);
    return { user, attacker: otherSessionOf(user), secret: enrollment.secret, recoveryCodes: recoveryCodes!, key };
  }

  const keyProof = async (who: Actor, key: SoftwareAuthenticator): Promise<SecondFactor> => ({
    webauthn: key.assert((await service.startWebAuthnChallenge(who)).options),
  });

  /** The service over the test's store with one of its methods wrapped: `around` gets the method (bound) and the arguments of each call. */
  const serviceWith = (
    method: keyof MfaStore,
    around: (original: (...args: unknown[]) => Promise<unknown>, args: unknown[]) => Promise<unknown>,
    settings: MfaServiceDeps['settings'] = t.deps.settings,
  ) => {
    const store = new Proxy(t.deps.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const bound = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
        return name === method ? (...args: unknown[]) => around(bound, args) : bound;
      },
    });
    return new MfaService({ ...t.deps, settings, store });
  };

  const events = async (actor: Actor, name: PublishedChangeEvent['event']) => (await changeEventsOf(t.tableName, actor.userId)).filter((event) => event.event === name);

  it("15 wrong recovery codes and 15 bad key responses from one session leave the other session's valid recovery code and key working", async () => {
    const { user, attacker, recoveryCodes, key } = await victim();
    const wrongCodes = generateRecoveryCodes(cryptoRandom).concat(generateRecoveryCodes(cryptoRandom));
    const stranger = new SoftwareAuthenticator({ origin: ORIGIN });
    const wrong = await outcomes(15, (i) => service.verify(attacker, { recoveryCode: wrongCodes[i]! }));
    const junk = await outcomes(15, async () => service.verify(attacker, { webauthn: stranger.assert((await service.startWebAuthnChallenge(attacker)).options) }));
    // The attacker's own session is limited: ten checks a minute, then 429.
    expect(wrong).toEqual([...times(PROOF_ATTEMPTS_PER_WINDOW, 'InvalidCodeError'), ...times(15 - PROOF_ATTEMPTS_PER_WINDOW, 'TooManyAttemptsError')]);
    expect(junk).toEqual(times(15, 'TooManyAttemptsError'));

    await expect(service.verify(user, { recoveryCode: recoveryCodes[0]! })).resolves.toMatchObject({ method: 'recovery_code' });
    await expect(service.verify(user, await keyProof(user, key))).resolves.toMatchObject({ method: 'webauthn' });
  });

  it('counts nothing for a request refused before any check (removing a method that is not there, confirming a setup never started), in either lane, however often it is sent', async () => {
    const { user, attacker, secret } = await victim();
    const [wrongCode] = generateRecoveryCodes(cryptoRandom);
    // One real (wrong) recovery-code check first: the session has an entry, so a check of it would take the one-write count.
    await expect(service.verify(attacker, { recoveryCode: wrongCode! })).rejects.toBeInstanceOf(InvalidCodeError);
    const before = await t.deps.store.get(user.userId);
    let counts = 0;
    const counting = (original: (...args: unknown[]) => Promise<unknown>, args: unknown[]) => {
      counts += 1;
      return original(...args);
    };
    // Each counting write, watched in turn: the quiet count, the decided count, a session's check.
    // Email codes offered, so that confirming them (with no setup code sent to the session) is refused by its route, not as not offered.
    const watched = (['countQuietAttempt', 'countDecidedAttempt', 'changeSession'] as const).map((method) => serviceWith(method, counting, { ...t.deps.settings, emailCodes: true }));
    const refused: string[] = [];
    for (const watching of watched) {
      refused.push(
        ...(await outcomes(1, () => watching.removeAuthenticator(attacker, 'no-such-method', { code: '000000' }))),
        ...(await outcomes(1, () => watching.removeAuthenticator(attacker, 'no-such-method', { recoveryCode: wrongCode! }))),
        ...(await outcomes(1, () => watching.removeAuthenticator(user, 'no-such-method', { code: codeAt(secret, t.clock) }))),
        ...(await outcomes(1, () => watching.confirmTotpEnrollment(attacker, '000000'))),
        ...(await outcomes(1, () => watching.confirmEmailEnrollment(attacker, '000000'))),
      );
    }
    expect(refused).toEqual(watched.flatMap(() => [...times(3, 'AuthenticatorNotFoundError'), 'TotpAlreadyEnabledError', 'InvalidCodeError']));
    // Refused on the read: no counting write was even sent.
    expect(counts).toBe(0);
    const after = await t.deps.store.get(user.userId);
    expect({ failures: after!.failures, windowFailures: after!.windowFailures, lockedUntil: after!.lockedUntil }).toEqual({
      failures: before!.failures,
      windowFailures: before!.windowFailures,
      lockedUntil: before!.lockedUntil,
    });
    expect(after!.sessions?.[attacker.sessionId]?.proofTimes).toEqual(before!.sessions?.[attacker.sessionId]?.proofTimes);
    expect(after!.proofTimes).toEqual(before!.proofTimes);
    // The code the real user sent with a refused request was never checked, so it still signs in.
    await expect(service.verify(user, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
  });

  it("counts a refused request not even while it is in flight: four removals of a method that is not there, answered meanwhile, do not make one wrong guess start the real user's lock", async () => {
    const { user, attacker, secret } = await victim();
    const wrong = codeAt(secret, t.clock) === '000000' ? '111111' : '000000';
    // Any give-back of a counted attempt waits until the wrong guess is answered: were the refused
    // removals counted, their counts would stand while the guess is counted.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    let allHeld!: () => void;
    const everyOneHeld = new Promise<void>((resolve) => (allHeld = resolve));
    const holding = serviceWith('refundCodeAttempt', async (refund, args) => {
      held += 1;
      if (held === LOCKOUT_THRESHOLD - 1) allHeld();
      await gate;
      return refund(...args);
    });
    const removals = Promise.allSettled(Array.from({ length: LOCKOUT_THRESHOLD - 1 }, () => holding.removeAuthenticator(attacker, 'no-such-method', { code: wrong })));
    // Either every removal is answered, or every one is held at its give-back.
    await Promise.race([removals, everyOneHeld]);
    await expect(service.verify(attacker, { code: wrong })).rejects.toBeInstanceOf(InvalidCodeError);
    release();
    expect((await removals).map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).constructor.name : 'ok'))).toEqual(
      times(LOCKOUT_THRESHOLD - 1, 'AuthenticatorNotFoundError'),
    );
    const after = await t.deps.store.get(user.userId);
    expect({ failures: after!.failures, windowFailures: after!.windowFailures, lockedUntil: after!.lockedUntil }).toEqual({ failures: 1, windowFailures: 1, lockedUntil: undefined });
    expect(await events(user, 'lockout.started')).toEqual([]);
    // The removals were refused on the read, before anything was counted: nothing to give back.
    expect(held).toBe(0);
    await expect(service.verify(user, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
  });

  it('gives the count back when another session removes the method between the read and the count, in either lane', async () => {
    const kinds = async (who: Actor) => Object.fromEntries((await service.status(who)).authenticators.map((a) => [a.kind, a.id]));
    const checksIn = (window: readonly number[] | undefined) => (window ?? []).filter((at) => at > 0);
    /** The service whose first count waits for `other` (another session's removal) to land; `counted` says what that count did. */
    const removedBeforeCount = (other: () => Promise<unknown>) => {
      const seen = { counted: undefined as boolean | undefined };
      const racing = serviceWith('countQuietAttempt', async (count, args) => {
        if (seen.counted === undefined) await other();
        const result = (await count(...args)) as { counted: boolean };
        seen.counted ??= result.counted;
        return result;
      });
      return { racing, seen };
    };

    // Code lane: the user removes the key with a code while another session removes it with a recovery code.
    const one = await victim();
    const key = (await kinds(one.user)).webauthn!;
    await expect(service.verify(one.user, { code: codeAt(one.secret, t.clock) === '000000' ? '111111' : '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
    const beforeCode = await t.deps.store.get(one.user.userId);
    const code = removedBeforeCount(() => service.removeAuthenticator(one.attacker, key, { recoveryCode: one.recoveryCodes[0]! }));
    await expect(code.racing.removeAuthenticator(one.user, key, { code: codeAt(one.secret, t.clock) })).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
    // The one-write count did count it (the precondition held on the read): the count was given back.
    expect(code.seen.counted).toBe(true);
    const afterCode = await t.deps.store.get(one.user.userId);
    expect({ failures: afterCode!.failures, windowFailures: afterCode!.windowFailures }).toEqual({ failures: 1, windowFailures: beforeCode!.windowFailures });

    // Recovery-code lane: the user removes the app with a recovery code while another session removes it with a code.
    const two = await victim();
    const app = (await kinds(two.user)).totp!;
    await expect(service.verify(two.user, { recoveryCode: generateRecoveryCodes(cryptoRandom)[0]! })).rejects.toBeInstanceOf(InvalidCodeError);
    const beforeCheck = await t.deps.store.get(two.user.userId);
    const check = removedBeforeCount(() => service.removeAuthenticator(two.attacker, app, { code: codeAt(two.secret, t.clock) }));
    await expect(check.racing.removeAuthenticator(two.user, app, { recoveryCode: two.recoveryCodes[0]! })).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
    expect(check.seen.counted).toBe(true);
    const afterCheck = await t.deps.store.get(two.user.userId);
    expect(checksIn(afterCheck!.sessions?.[two.user.sessionId]?.proofTimes)).toEqual(checksIn(beforeCheck!.sessions?.[two.user.sessionId]?.proofTimes));
    expect(checksIn(afterCheck!.proofTimes)).toEqual(checksIn(beforeCheck!.proofTimes));
    // The recovery code was never checked: it still signs in.
    await expect(service.verify(two.user, { recoveryCode: two.recoveryCodes[0]! })).resolves.toMatchObject({ method: 'recovery_code' });
  });

  describe('a right proof that loses a race to another session', () => {
    const methodId = async (who: Actor, kind: 'totp' | 'webauthn') => (await service.status(who)).authenticators.find((a) => a.kind === kind)!.id;
    /** A service whose first commit waits for `first` (another session's change of the same item) to land. */
    const racingWith = (first: () => Promise<unknown>) => {
      let pending = true;
      return serviceWith('commitProof', async (commit, args) => {
        if (pending) {
          pending = false;
          await first();
        }
        return commit(...args);
      });
    };
    const counters = (record: MfaRecord | undefined) => ({ failures: record!.failures, windowFailures: record!.windowFailures ?? 0, lockedUntil: record!.lockedUntil });
    const checksIn = (window: readonly number[] | undefined) => (window ?? []).filter((at) => at > 0);
    const wrongCodeAt = (secret: string) => (codeAt(secret, t.clock) === '000000' ? '111111' : '000000');

    it('gives its count back when its commit meets the method gone, in either lane (the count of an earlier wrong check stays)', async () => {
      // Recovery-code lane: the session's window and the user's ceiling get the check back; the code is not spent.
      const one = await victim();
      const app = await methodId(one.user, 'totp');
      await expect(service.verify(one.user, { recoveryCode: generateRecoveryCodes(cryptoRandom)[0]! })).rejects.toBeInstanceOf(InvalidCodeError);
      const before = await t.deps.store.get(one.user.userId);
      expect(checksIn(before!.sessions?.[one.user.sessionId]?.proofTimes)).toHaveLength(1);
      const racing = racingWith(() => service.removeAuthenticator(one.attacker, app, { code: codeAt(one.secret, t.clock) }));
      const linesBefore = t.audit.events.length;
      await expect(racing.removeAuthenticator(one.user, app, { recoveryCode: one.recoveryCodes[0]! })).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
      // A 404 of the route, not a proof refused: no raced line (and no failure line).
      expect(t.audit.events.slice(linesBefore).filter((event) => event.sessionId === one.user.sessionId).map((event) => event.event)).toEqual([]);
      const after = await t.deps.store.get(one.user.userId);
      expect(checksIn(after!.sessions?.[one.user.sessionId]?.proofTimes)).toEqual(checksIn(before!.sessions?.[one.user.sessionId]?.proofTimes));
      expect(checksIn(after!.proofTimes)).toEqual(checksIn(before!.proofTimes));
      await expect(service.verify(one.user, { recoveryCode: one.recoveryCodes[0]! })).resolves.toMatchObject({ method: 'recovery_code' });

      // Code lane, the other session proving with a recovery code: the user's counters are as before the race.
      const two = await victim();
      const key = await methodId(two.user, 'webauthn');
      await expect(service.verify(two.user, { code: wrongCodeAt(two.secret) })).rejects.toBeInstanceOf(InvalidCodeError);
      const beforeCode = counters(await t.deps.store.get(two.user.userId));
      expect(beforeCode).toMatchObject({ failures: 1, windowFailures: 1 });
      const racingCode = racingWith(() => service.removeAuthenticator(two.attacker, key, { recoveryCode: two.recoveryCodes[0]! }));
      await expect(racingCode.removeAuthenticator(two.user, key, { code: codeAt(two.secret, t.clock) })).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
      expect(counters(await t.deps.store.get(two.user.userId))).toEqual(beforeCode);

      // Code lane, the other session proving with the same code: its success resets the consecutive
      // count; the failure window keeps the earlier wrong code only.
      const three = await victim();
      const key3 = await methodId(three.user, 'webauthn');
      await expect(service.verify(three.user, { code: wrongCodeAt(three.secret) })).rejects.toBeInstanceOf(InvalidCodeError);
      const code = codeAt(three.secret, t.clock);
      const racingSame = racingWith(() => service.removeAuthenticator(three.attacker, key3, { code }));
      await expect(racingSame.removeAuthenticator(three.user, key3, { code })).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
      expect(counters(await t.deps.store.get(three.user.userId))).toEqual({ failures: 0, windowFailures: 1, lockedUntil: undefined });
    });

    it('gives its count back, with no failure line and no lock, when the retry finds the proof no longer holds (the app it came from removed)', async () => {
      const { user, attacker, secret, recoveryCodes } = await victim();
      const app = await methodId(user, 'totp');
      // Four wrong codes: one more counted failure would start a lock.
      for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) await expect(service.verify(user, { code: wrongCodeAt(secret) })).rejects.toBeInstanceOf(InvalidCodeError);
      const before = counters(await t.deps.store.get(user.userId));
      expect(before).toMatchObject({ failures: LOCKOUT_THRESHOLD - 1, lockedUntil: undefined });
      const linesBefore = t.audit.events.length;
      // The user signs in with a right code while another session removes that very app (a key remains, so MFA stays on).
      const racing = racingWith(() => service.removeAuthenticator(attacker, app, { recoveryCode: recoveryCodes[0]! }));
      await expect(racing.verify(user, { code: codeAt(secret, t.clock) })).rejects.toBeInstanceOf(InvalidCodeError);
      expect(counters(await t.deps.store.get(user.userId))).toEqual(before);
      const linesOfUser = t.audit.events.slice(linesBefore).filter((event) => event.sessionId === user.sessionId).map((event) => event.event);
      expect(linesOfUser).not.toContain('mfa.verify.failed');
      expect(linesOfUser).not.toContain('mfa.lockout.started');
      // Neither a success nor a failure: the auditor sees the right code refused because the app it came from went.
      expect(linesOfUser.at(-1)).toBe('mfa.proof.raced');
      expect(t.audit.events.slice(linesBefore).find((event) => event.event === 'mfa.proof.raced')).toMatchObject({ userId: user.userId, outcome: 'refused', method: 'totp', operation: 'verify' });
    });

    it('raises no clone alarm when two sign-ins with one key race and the later counter lands first (a raced line instead)', async () => {
      const { user, attacker, key } = await victim();
      // The user's response carries counter n, the other session's n + 1 (signed after it).
      const first = await keyProof(user, key);
      const second = await keyProof(attacker, key);
      const linesBefore = t.audit.events.length;
      const racing = racingWith(() => service.verify(attacker, second));
      await expect(racing.verify(user, first)).rejects.toBeInstanceOf(InvalidCredentialError);
      const lines = t.audit.events.slice(linesBefore);
      expect(lines.map((event) => event.event)).not.toContain('mfa.webauthn.counter_regression');
      expect(lines.find((event) => event.sessionId === user.sessionId)).toMatchObject({ event: 'mfa.proof.raced', method: 'webauthn', operation: 'verify' });
      expect(await events(user, 'authenticator.clone_suspected')).toEqual([]);
    });
  });

  it('bad key responses alone: 15 from one session, then the other session signs in with its key and a recovery code', async () => {
    const { user, attacker, recoveryCodes, key } = await victim();
    const stranger = new SoftwareAuthenticator({ origin: ORIGIN });
    const junk = await outcomes(15, async () => service.verify(attacker, { webauthn: stranger.assert((await service.startWebAuthnChallenge(attacker)).options) }));
    expect(junk).toEqual([...times(PROOF_ATTEMPTS_PER_WINDOW, 'InvalidCredentialError'), ...times(15 - PROOF_ATTEMPTS_PER_WINDOW, 'TooManyAttemptsError')]);
    await expect(service.verify(user, await keyProof(user, key))).resolves.toMatchObject({ method: 'webauthn' });
    await expect(service.verify(user, { recoveryCode: recoveryCodes[1]! })).resolves.toMatchObject({ method: 'recovery_code' });
  });

  it("lets 5 of 5 key sign-ins succeed while another session asks for a challenge between each request and its answer", async () => {
    const { user, attacker, key } = await victim();
    const results: string[] = [];
    for (let round = 0; round < 5; round++) {
      const { options } = await service.startWebAuthnChallenge(user);
      await service.startWebAuthnChallenge(attacker);
      try {
        results.push((await service.verify(user, { webauthn: key.assert(options) })).method);
      } catch (error) {
        results.push((error as Error).constructor.name);
      }
    }
    expect(results).toEqual(times(5, 'webauthn'));
  });

  it("refuses a key response in a session other than the one that asked for its challenge", async () => {
    const { user, attacker, key } = await victim();
    const { options } = await service.startWebAuthnChallenge(user);
    await expect(service.verify(attacker, { webauthn: key.assert(options) })).rejects.toBeInstanceOf(InvalidCredentialError);
  });

  it('lets the user answer their challenge however many other sessions ask for challenges meanwhile (nothing pending is stored)', async () => {
    const { user, key } = await victim();
    const { options } = await service.startWebAuthnChallenge(user);
    // Far more sessions than any per-user store of pending challenges would keep, each asking twice.
    const others = Array.from({ length: 4 * MAX_PENDING_PER_USER + 20 }, () => otherSessionOf(user));
    for (const session of others) {
      await service.startWebAuthnChallenge(session);
      await service.startWebAuthnChallenge(session);
      t.clock.advance(1);
    }
    const item = await readUserItem(t.client, t.tableName, user.userId);
    expect(item!.webauthnChallenges).toBeUndefined();
    // They even pushed the user's session entry out of the 32 kept: it only recorded which challenge is the session's latest.
    expect(Object.keys(item!.sessions!.M!)).toHaveLength(MAX_SESSION_ENTRIES);
    expect(Object.keys(item!.sessions!.M!)).not.toContain(user.sessionId);
    await expect(service.verify(user, { webauthn: key.assert(options) })).resolves.toMatchObject({ method: 'webauthn' });
    // Answered once: a copy is spent, given back, never a second sign-in.
    await expect(service.verify(user, { webauthn: key.assert(options) })).rejects.toBeInstanceOf(InvalidCredentialError);
    expect(t.audit.names().at(-1)).toBe('mfa.code.replay_refused');
  });

  it("replaces a session's earlier challenge with its new one, answers each challenge once, and keeps spent ones only until they expire", async () => {
    const { user, key } = await victim();
    const first = await service.startWebAuthnChallenge(user);
    t.clock.advance(1);
    const second = await service.startWebAuthnChallenge(user);
    // Another session's challenges replace nothing of this one's.
    await service.startWebAuthnChallenge(otherSessionOf(user));
    await expect(service.verify(user, { webauthn: key.assert(first.options) })).rejects.toBeInstanceOf(InvalidCredentialError);
    expect(t.audit.names().at(-1)).toBe('mfa.verify.failed');
    const answer = { webauthn: key.assert(second.options) };
    await expect(service.verify(user, answer)).resolves.toMatchObject({ method: 'webauthn' });
    // A copy of the answer, even after the session asked for a newer challenge: spent, given back.
    await service.startWebAuthnChallenge(user);
    await expect(service.verify(user, answer)).rejects.toBeInstanceOf(InvalidCredentialError);
    expect(t.audit.names().at(-1)).toBe('mfa.code.replay_refused');
    // Expired: refused; and the spent challenges kept only until they expire (the next spend drops them).
    const third = await service.startWebAuthnChallenge(user);
    t.clock.advance(5 * 60_000);
    await expect(service.verify(user, { webauthn: key.assert(third.options) })).rejects.toBeInstanceOf(InvalidCredentialError);
    expect(t.audit.names().at(-1)).toBe('mfa.verify.failed');
    // Dropped once expired for longer than the functions' clocks may drift (a minute).
    t.clock.advance(60_000);
    await expect(service.verify(user, { webauthn: key.assert((await service.startWebAuthnChallenge(user)).options) })).resolves.toMatchObject({ method: 'webauthn' });
    const item = await readUserItem(t.client, t.tableName, user.userId);
    expect(Object.keys(item!.webauthnSpentChallenges!.M!)).toHaveLength(1);
  });

  it('keeps a pending app enrollment per session: another session starting one does not replace it; past 5 the oldest goes', async () => {
    const user = newActor('enrolling');
    const other = otherSessionOf(user);
    const mine = await service.startTotpEnrollment(user);
    const theirs = await service.startTotpEnrollment(other);
    // Each session confirms only its own app's code.
    await expect(service.confirmTotpEnrollment(other, codeAt(mine.secret, t.clock))).rejects.toBeInstanceOf(InvalidCodeError);
    await expect(service.confirmTotpEnrollment(user, codeAt(mine.secret, t.clock))).resolves.toMatchObject({ enabled: true });
    expect(theirs.secret).not.toBe(mine.secret);

    const crowded = newActor('crowded');
    const sessions = Array.from({ length: MAX_PENDING_PER_USER + 1 }, () => otherSessionOf(crowded));
    const started = [];
    for (const session of sessions) {
      started.push(await service.startTotpEnrollment(session));
      t.clock.advance(1);
    }
    const item = await readUserItem(t.client, t.tableName, crowded.userId);
    expect(Object.keys(item!.pendingEnrollments!.M!)).toHaveLength(MAX_PENDING_PER_USER);
    await expect(service.confirmTotpEnrollment(sessions[0]!, codeAt(started[0]!.secret, t.clock))).rejects.toBeInstanceOf(EnrollmentNotFoundError);
    await expect(service.confirmTotpEnrollment(sessions[5]!, codeAt(started[5]!.secret, t.clock))).resolves.toMatchObject({ enabled: true });
  });

  it("cuts 40 replays of a spent recovery code off by 429 after the session's 10 refunds, with one event, no KDF run; the other session's next code works", async () => {
    const { user, attacker, recoveryCodes } = await victim();
    await service.verify(user, { recoveryCode: recoveryCodes[2]! });
    // The used code's KDF hash is taken away: only its fast digest can recognise a copy now (so no KDF runs for one).
    await t.client.send(new UpdateItemCommand({ TableName: t.tableName, Key: userKey(user.userId), UpdateExpression: 'REMOVE spentRecoveryCodes' }));
    const replays = await outcomes(40, () => service.verify(attacker, { recoveryCode: recoveryCodes[2]! }));
    expect(replays).toEqual([...times(REFUNDS_PER_WINDOW, 'InvalidCodeError'), ...times(40 - REFUNDS_PER_WINDOW, 'TooManyAttemptsError')]);
    expect(await events(user, 'code.replay_refused')).toHaveLength(1);
    const record = await t.deps.store.get(user.userId);
    expect(record!.failures).toBe(0);
    await expect(service.verify(user, { recoveryCode: recoveryCodes[3]! })).resolves.toMatchObject({ method: 'recovery_code' });
    // A minute on, the same session may have its copies given back again, and one more event.
    t.clock.advance(60_000);
    await expect(service.verify(attacker, { recoveryCode: recoveryCodes[2]! })).rejects.toBeInstanceOf(InvalidCodeError);
    expect(await events(user, 'code.replay_refused')).toHaveLength(2);
  });

  it("cuts 30 replays of a spent TOTP code (with or without spaces) off by 429 after 10 refunds, with one event, no secret opened, the user's code lock untouched; the other session's next code works", async () => {
    const { user, attacker, secret } = await victim();
    const spent = codeAt(secret, t.clock);
    // The user typed it as the app shows it; the copies come with and without spaces.
    await service.verify(user, { code: `${spent.slice(0, 3)} ${spent.slice(3)}` });
    const copies = [spent, ` ${spent}`, `${spent} `, `${spent.slice(0, 3)} ${spent.slice(3)}`];
    const openedBefore = sealer.opened;
    const replays = await outcomes(30, (i) => service.verify(attacker, { code: copies[i % copies.length]! }));
    expect(replays).toEqual([...times(REFUNDS_PER_WINDOW, 'InvalidCodeError'), ...times(30 - REFUNDS_PER_WINDOW, 'TooManyAttemptsError')]);
    expect(sealer.opened - openedBefore, 'secrets opened for copies').toBe(0);
    expect(await events(user, 'code.replay_refused')).toHaveLength(1);
    const record = await t.deps.store.get(user.userId);
    expect(record!.failures).toBe(0);
    expect(record!.lockedUntil).toBeUndefined();
    expect(record!.windowFailures).toBe(0);
    t.clock.advance(30_000);
    await expect(service.verify(user, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
  });

  it('a session past its refunds gets 429 with Retry-After for copies only: its own fresh proofs still count as ever', async () => {
    const { user, attacker, secret } = await victim();
    const spent = codeAt(secret, t.clock);
    await service.verify(user, { code: spent });
    await outcomes(REFUNDS_PER_WINDOW, () => service.verify(attacker, { code: spent }));
    const refused = await service.verify(attacker, { code: spent }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TooManyAttemptsError);
    expect((refused as TooManyAttemptsError).retryAfterSeconds).toBeGreaterThan(0);
    expect((refused as TooManyAttemptsError).retryAfterSeconds).toBeLessThanOrEqual(60);
    t.clock.advance(30_000);
    await expect(service.verify(attacker, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
  });

  it(`reports the per-user ceiling (${USER_PROOF_CEILING} checks a minute) once, with an event and an audit line, when many sessions reach it; fewer sessions never refuse the real user`, async () => {
    const { user, recoveryCodes } = await victim();
    const wrong = generateRecoveryCodes(cryptoRandom)[0]!;
    const sessions = Array.from({ length: USER_PROOF_CEILING / PROOF_ATTEMPTS_PER_WINDOW }, () => otherSessionOf(user));
    // Nine sessions' worth: the real user's own session is not refused.
    for (const session of sessions.slice(0, -1)) await outcomes(PROOF_ATTEMPTS_PER_WINDOW, () => service.verify(session, { recoveryCode: wrong }));
    await expect(service.verify(user, { recoveryCode: recoveryCodes[4]! })).resolves.toMatchObject({ method: 'recovery_code' });
    // The tenth fills the ceiling (the real user's check took a slot too): every session is refused now, and it is reported once.
    await outcomes(PROOF_ATTEMPTS_PER_WINDOW, () => service.verify(sessions.at(-1)!, { recoveryCode: wrong }));
    const late = [otherSessionOf(user), otherSessionOf(user)];
    for (const session of late) await expect(service.verify(session, { recoveryCode: wrong })).rejects.toBeInstanceOf(TooManyAttemptsError);
    expect(await events(user, 'proof_ceiling.reached')).toHaveLength(1);
    expect(t.audit.events.filter((event) => event.event === 'mfa.proof_ceiling.reached' && event.userId === user.userId)).toHaveLength(1);
    // A minute on, the ceiling has room again.
    t.clock.advance(60_000);
    await expect(service.verify(user, { recoveryCode: recoveryCodes[5]! })).resolves.toMatchObject({ method: 'recovery_code' });
  }, 240_000); // 100+ scrypt checks: minutes on a loaded two-core machine

  it('turns the ceiling audit line into the ProofCeilingReached metric', () => {
    const metrics: string[] = [];
    const log = new PowertoolsAuditLog({ info: () => undefined } as never, (name: string) => metrics.push(name));
    log.record({ event: 'mfa.proof_ceiling.reached', userId: 'user-1', outcome: 'refused' }, { requestId: 'req-1', sourceIp: '198.51.100.7' });
    expect(metrics).toEqual([AUDIT_METRICS.proofCeilingReached]);
  });

  it(`keeps at most ${MAX_SESSION_ENTRIES} session entries in the item however many sessions try, and the ceiling still holds`, async () => {
    const { user } = await victim();
    const wrong = generateRecoveryCodes(cryptoRandom)[0]!;
    const refused: string[] = [];
    for (let i = 0; i < MAX_SESSION_ENTRIES + 20; i++) {
      refused.push(...(await outcomes(1, () => service.verify(otherSessionOf(user), { recoveryCode: wrong }))));
    }
    const item = await readUserItem(t.client, t.tableName, user.userId);
    expect(Object.keys(item!.sessions!.M!).length).toBeLessThanOrEqual(MAX_SESSION_ENTRIES);
    expect(refused.filter((outcome) => outcome === 'InvalidCodeError')).toHaveLength(MAX_SESSION_ENTRIES + 20);
    await t.client.send(new DeleteItemCommand({ TableName: t.tableName, Key: userKey(user.userId) }));
  });

  it('publishes no lockout.started for a lock a refund took back, and exactly one for a lock that stands', async () => {
    const { user, attacker, secret } = await victim();
    const spent = codeAt(secret, t.clock);
    await service.verify(user, { code: spent });
    const wrong = spent === '000000' ? '111111' : '000000';
    for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) await expect(service.verify(attacker, { code: wrong })).rejects.toBeInstanceOf(InvalidCodeError);
    // The fifth counted attempt is a copy of the right code: its count started a lock, its refund took it back.
    await expect(service.verify(attacker, { code: spent })).rejects.toBeInstanceOf(InvalidCodeError);
    expect(await events(user, 'lockout.started')).toEqual([]);
    expect(t.audit.events.filter((event) => event.event === 'mfa.lockout.started' && event.userId === user.userId)).toEqual([]);
    expect((await t.deps.store.get(user.userId))!.lockedUntil).toBeUndefined();
    // A real fifth failure: the lock stands, and is published once.
    await expect(service.verify(attacker, { code: wrong })).rejects.toBeInstanceOf(InvalidCodeError);
    expect(await events(user, 'lockout.started')).toHaveLength(1);
    expect(t.audit.events.filter((event) => event.event === 'mfa.lockout.started' && event.userId === user.userId)).toHaveLength(1);
    await expect(service.verify(attacker, { code: wrong })).rejects.toBeInstanceOf(TooManyAttemptsError);
  });
});
