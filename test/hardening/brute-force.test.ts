import { describe, expect, it } from 'vitest';
import { InvalidCodeError, TooManyAttemptsError } from '../../functions/domain/errors.js';
import { BASE_LOCKOUT_MS, DAILY_FAILURE_CAP, FAILURE_WINDOW_MS, LOCKOUT_THRESHOLD, MAX_LOCKOUT_MS } from '../../functions/domain/lockout.js';
import { TOTP_DIGITS, TOTP_DRIFT_WINDOW } from '../../functions/methods/totp/totp.js';
import type { SealContext, SecretSealer } from '../../functions/ports/secret-sealer.js';
import type { SecondFactor } from '../../functions/service/mfa-service.js';
import { codeAt, createTestService, newActor } from '../support/service.js';

const DAY_MS = 24 * 3600_000;
/** Simulated days of attack: enough failures (200+) for any "lock that never ends" to show. */
const ATTACK_DAYS = 3;
/** NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on a single account. */
const NIST_MAX_CONSECUTIVE_FAILURES = 100;
/** Guesses the attacker keeps in flight at once: every round it sends this many at the same instant. */
const PARALLEL_GUESSES = 10;
/** The attacker's pace while not locked out: one round of guesses per simulated second. */
const ROUND_MS = 1_000;
/** Codes a single guess can hit: the current step and TOTP_DRIFT_WINDOW steps either side. */
const CODES_ACCEPTED_PER_GUESS = 2 * TOTP_DRIFT_WINDOW + 1;

/** Counts how often a TOTP secret is opened: the service opens it once for every guess it evaluates. */
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

/** The lockout after `n` consecutive failures (n a multiple of the threshold), as the policy documents it. */
const expectedLockoutSeconds = (failures: number) => Math.min(BASE_LOCKOUT_MS * 2 ** (failures / LOCKOUT_THRESHOLD - 1), MAX_LOCKOUT_MS) / 1000;

/** A user with one app, on a fresh service whose secret openings are counted (from 0 once the app is set up). */
async function victim() {
  const t = await createTestService();
  const sealer = new CountingSealer(t.deps.sealer);
  const { MfaService } = await import('../../functions/service/mfa-service.js');
  const service = new MfaService({ ...t.deps, sealer });
  const actor = newActor('victim');
  const enrollment = await service.startTotpEnrollment(actor);
  const { recoveryCodes } = await service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
  sealer.opened = 0;
  return { t, sealer, service, actor, enrollment, recoveryCodes };
}

/** Codes wrong for sure: never one that the window of any of `secrets` accepts at the moment of the guess. */
function wrongCodesFor(secrets: readonly string[], clock: Parameters<typeof codeAt>[1]): () => string {
  let next = 0;
  return () => {
    const accepted = new Set(secrets.flatMap((secret) => [-1, 0, 1].map((offset) => codeAt(secret, clock, offset))));
    let code: string;
    do code = String(next++ % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
    while (accepted.has(code));
    return code;
  };
}

describe('brute force against the lockout policy (service on DynamoDB Local, simulated clock)', () => {
  it(
    `lets an attacker sending ${PARALLEL_GUESSES} parallel wrong codes per second have at most ${DAILY_FAILURE_CAP} guesses evaluated per 24 h ` +
      `(P(success) <= ${DAILY_FAILURE_CAP} x ${CODES_ACCEPTED_PER_GUESS} / 10^${TOTP_DIGITS} = ${((DAILY_FAILURE_CAP * CODES_ACCEPTED_PER_GUESS) / 10 ** TOTP_DIGITS).toExponential(1)} < 1e-3 a day), ` +
      `and never a lock that outlives its window: over ${ATTACK_DAYS} days the real user's code works again each day, and a recovery code works throughout`,
    async () => {
      const { t, sealer, service, actor, enrollment, recoveryCodes } = await victim();
      const wrongCode = wrongCodesFor([enrollment.secret], t.clock);
      const operations: Array<(factor: SecondFactor) => Promise<unknown>> = [
        (factor) => service.verify(actor, factor),
        (factor) => service.regenerateRecoveryCodes(actor, factor),
        (factor) => service.disableTotp(actor, factor),
      ];

      const start = t.clock.now();
      const evaluatedPerDay: number[] = [];
      const firstDayLockouts: Array<{ evaluated: number; retryAfter: number }> = [];
      let refused = 0;
      let recoveryCodeUsedDuringLock = false;
      for (let day = 0; day < ATTACK_DAYS; day++) {
        const dayStart = start + day * DAY_MS;
        const openedBefore = sealer.opened;
        for (let round = 0; t.clock.now() - dayStart < DAY_MS; round++) {
          expect(round, 'the attack loop is bounded').toBeLessThan(20_000);
          const results = await Promise.allSettled(
            Array.from({ length: PARALLEL_GUESSES }, (_, i) => operations[i % operations.length]!({ code: wrongCode() })),
          );
          expect(sealer.opened - openedBefore, 'guesses evaluated this day so far').toBeLessThanOrEqual(DAILY_FAILURE_CAP);
          const errors = results.map((result) => (result.status === 'rejected' ? result.reason : new Error('a wrong code was accepted')));
          for (const error of errors) expect([InvalidCodeError, TooManyAttemptsError].some((type) => error instanceof type), String(error)).toBe(true);
          const locked = errors.filter((error): error is TooManyAttemptsError => error instanceof TooManyAttemptsError);
          refused += locked.length;
          if (locked.length === 0) {
            t.clock.advance(ROUND_MS);
            continue;
          }
          // The fastest attacker waits out exactly the lock it was told about, then goes again.
          const retryAfter = Math.max(...locked.map((error) => error.retryAfterSeconds));
          expect(retryAfter, 'no lock outlives its failure window').toBeLessThanOrEqual(FAILURE_WINDOW_MS / 1000);
          if (day === 0) firstDayLockouts.push({ evaluated: sealer.opened, retryAfter });
          if (day === 0 && sealer.opened === DAILY_FAILURE_CAP && !recoveryCodeUsedDuringLock) {
            // The window lock stands: the real user's recovery code is not refused because of it.
            await expect(service.verify(actor, { recoveryCode: recoveryCodes![0]! })).resolves.toMatchObject({ method: 'recovery_code' });
            recoveryCodeUsedDuringLock = true;
          }
          t.clock.advance(retryAfter * 1000);
        }
        evaluatedPerDay.push(sealer.opened - openedBefore);
      }

      const worstDay = Math.max(...evaluatedPerDay);
      const chance = (worstDay * CODES_ACCEPTED_PER_GUESS) / 10 ** TOTP_DIGITS;
      console.info(
        `brute force, ${ATTACK_DAYS} days: guesses evaluated per day ${evaluatedPerDay.join(', ')}, ${refused} refused unevaluated; ` +
          `P(success) <= ${chance.toExponential(2)} a day; first day's lockouts (s): ${firstDayLockouts.map((lockout) => lockout.retryAfter).join(', ')}`,
      );
      expect(evaluatedPerDay.reduce((a, b) => a + b, 0), 'failures over the attack').toBeGreaterThanOrEqual(200);
      expect(worstDay).toBeLessThanOrEqual(DAILY_FAILURE_CAP);
      expect(worstDay, 'failures evaluated in one window, whatever the victim does').toBeLessThanOrEqual(NIST_MAX_CONSECUTIVE_FAILURES);
      expect(chance).toBeLessThan(1e-3);
      expect(recoveryCodeUsedDuringLock).toBe(true);

      // The curve: exactly LOCKOUT_THRESHOLD guesses between lockouts, each as long as the policy says, until the daily cap.
      const expectedLockouts = Array.from({ length: DAILY_FAILURE_CAP / LOCKOUT_THRESHOLD - 1 }, (_, i) => (i + 1) * LOCKOUT_THRESHOLD);
      expect(firstDayLockouts.slice(0, expectedLockouts.length).map((lockout) => lockout.evaluated)).toEqual(expectedLockouts);
      expect(firstDayLockouts.slice(0, expectedLockouts.length).map((lockout) => lockout.retryAfter)).toEqual(expectedLockouts.map(expectedLockoutSeconds));

      // No lock that never ends: once the attacker stops and the last lock runs out, the real user's code works.
      const record = await t.deps.store.get(actor.userId);
      t.clock.set(Math.max(t.clock.now(), record?.lockedUntil ?? 0) + 30_000);
      await expect(service.verify(actor, { code: codeAt(enrollment.secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
    },
    180_000,
  );

  it(
    `counts a wrong code once per app it was checked against: with three apps, the ${DAILY_FAILURE_CAP} failures of a 24 h window bound the chances (secrets checked), not the requests`,
    async () => {
      const { t, sealer, service, actor, enrollment: first } = await victim();
      const secrets = [first.secret];
      for (let i = 0; i < 2; i++) {
        t.clock.advance(30_000);
        const another = await service.startTotpEnrollment(actor, { code: codeAt(first.secret, t.clock) });
        await service.confirmTotpEnrollment(actor, codeAt(another.secret, t.clock));
        secrets.push(another.secret);
      }
      sealer.opened = 0;
      // Wrong for every app.
      const wrongCode = wrongCodesFor(secrets, t.clock);

      const start = t.clock.now();
      let guesses = 0;
      // The attacker as above, until the window's own lock (one longer than any consecutive lock).
      for (;;) {
        const results = await Promise.allSettled(Array.from({ length: PARALLEL_GUESSES }, () => service.verify(actor, { code: wrongCode() })));
        const errors = results.map((result) => (result.status === 'rejected' ? result.reason : new Error('a wrong code was accepted')));
        for (const error of errors) expect([InvalidCodeError, TooManyAttemptsError].some((type) => error instanceof type), String(error)).toBe(true);
        guesses += errors.filter((error) => error instanceof InvalidCodeError).length;
        const locked = errors.filter((error): error is TooManyAttemptsError => error instanceof TooManyAttemptsError);
        if (locked.length === 0) {
          t.clock.advance(ROUND_MS);
          continue;
        }
        const retryAfter = Math.max(...locked.map((error) => error.retryAfterSeconds));
        if (retryAfter * 1000 > MAX_LOCKOUT_MS) break;
        t.clock.advance(retryAfter * 1000);
      }
      expect(t.clock.now() - start, 'the window lock came within the window').toBeLessThan(FAILURE_WINDOW_MS);
      // Each guess was checked against every app's secret: the chances are the secrets opened.
      expect(sealer.opened).toBe(guesses * secrets.length);
      // The window is full after about a third as many guesses as with one app, and no more chances than the
      // cap plus the charges of one consecutive-lock cycle's guesses in flight when it filled and of the one that locks it.
      expect(sealer.opened).toBeGreaterThanOrEqual(DAILY_FAILURE_CAP);
      expect(sealer.opened).toBeLessThanOrEqual(DAILY_FAILURE_CAP + (LOCKOUT_THRESHOLD + 1) * (secrets.length - 1));
      console.info(`brute force, three apps: ${guesses} guesses evaluated, ${sealer.opened} secrets checked before the window's lock`);
    },
    120_000,
  );
});
