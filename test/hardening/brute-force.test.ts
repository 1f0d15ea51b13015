import { describe, expect, it } from 'vitest';
import { InvalidCodeError, TooManyAttemptsError } from '../../functions/domain/errors.js';
import { BASE_LOCKOUT_MS, HARD_LOCK_FAILURES, HARD_LOCK_RETRY_AFTER_SECONDS, LOCKOUT_THRESHOLD, MAX_LOCKOUT_MS } from '../../functions/domain/lockout.js';
import { TOTP_DIGITS, TOTP_DRIFT_WINDOW } from '../../functions/methods/totp/totp.js';
import type { SealContext, SecretSealer } from '../../functions/ports/secret-sealer.js';
import type { SecondFactor } from '../../functions/service/mfa-service.js';
import { codeAt, createTestService, newActor } from '../support/service.js';

const DAY_MS = 24 * 3600_000;
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
const expectedLockoutSeconds = (failures: number) =>
  failures >= HARD_LOCK_FAILURES
    ? HARD_LOCK_RETRY_AFTER_SECONDS
    : Math.min(BASE_LOCKOUT_MS * 2 ** (failures / LOCKOUT_THRESHOLD - 1), MAX_LOCKOUT_MS) / 1000;

describe('brute force against the lockout policy (service on DynamoDB Local, simulated clock)', () => {
  it(
    `lets an attacker sending ${PARALLEL_GUESSES} parallel wrong codes per second for 24 h have at most ${HARD_LOCK_FAILURES} guesses evaluated ` +
      `(P(success) <= ${HARD_LOCK_FAILURES} x ${CODES_ACCEPTED_PER_GUESS} / 10^${TOTP_DIGITS} = ${((HARD_LOCK_FAILURES * CODES_ACCEPTED_PER_GUESS) / 10 ** TOTP_DIGITS).toExponential(1)} < 1e-3), then holds a hard lock`,
    async () => {
      const t = await createTestService();
      const sealer = new CountingSealer(t.deps.sealer);
      const { MfaService } = await import('../../functions/service/mfa-service.js');
      const service = new MfaService({ ...t.deps, sealer });
      const actor = newActor('victim');
      const enrollment = await service.startTotpEnrollment(actor);
      await service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
      sealer.opened = 0;

      // Wrong for sure: never one of the codes the window accepts at the moment of the guess.
      let next = 0;
      const wrongCode = () => {
        const accepted = new Set([-1, 0, 1].map((offset) => codeAt(enrollment.secret, t.clock, offset)));
        let code: string;
        do code = String(next++ % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
        while (accepted.has(code));
        return code;
      };
      const operations: Array<(factor: SecondFactor) => Promise<unknown>> = [
        (factor) => service.verify(actor, factor),
        (factor) => service.regenerateRecoveryCodes(actor, factor),
        (factor) => service.disableTotp(actor, factor),
      ];

      const start = t.clock.now();
      const lockouts: Array<{ atSeconds: number; evaluated: number; retryAfter: number }> = [];
      let refused = 0;
      for (let round = 0; t.clock.now() - start < DAY_MS; round++) {
        expect(round, 'the attack loop is bounded').toBeLessThan(20_000);
        const results = await Promise.allSettled(
          Array.from({ length: PARALLEL_GUESSES }, (_, i) => operations[i % operations.length]!({ code: wrongCode() })),
        );
        expect(sealer.opened, 'guesses evaluated so far').toBeLessThanOrEqual(HARD_LOCK_FAILURES);
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
        lockouts.push({ atSeconds: (t.clock.now() - start) / 1000, evaluated: sealer.opened, retryAfter });
        t.clock.advance(retryAfter * 1000);
      }

      const evaluated = sealer.opened;
      const chance = (evaluated * CODES_ACCEPTED_PER_GUESS) / 10 ** TOTP_DIGITS;
      console.info(
        `brute force, 24 h: ${evaluated} guesses evaluated, ${refused} refused unevaluated; ` +
          `P(success) <= ${chance.toExponential(2)}; hard lock after ${lockouts.at(-1)?.atSeconds} s; ` +
          `lockouts (s): ${lockouts.map((lockout) => lockout.retryAfter).join(', ')}`,
      );
      expect(evaluated).toBeLessThanOrEqual(HARD_LOCK_FAILURES);
      expect(chance).toBeLessThan(1e-3);

      // The curve: exactly LOCKOUT_THRESHOLD guesses between lockouts, each lockout as long as the policy says.
      const expectedLockouts = Array.from({ length: HARD_LOCK_FAILURES / LOCKOUT_THRESHOLD }, (_, i) => (i + 1) * LOCKOUT_THRESHOLD);
      expect(lockouts.slice(0, expectedLockouts.length).map((lockout) => lockout.evaluated)).toEqual(expectedLockouts);
      expect(lockouts.slice(0, expectedLockouts.length).map((lockout) => lockout.retryAfter)).toEqual(expectedLockouts.map(expectedLockoutSeconds));

      // NIST SP 800-63B 5.2.2: at most 100 consecutive failures; then even the right code is refused until an operator resets.
      expect(HARD_LOCK_FAILURES).toBeLessThanOrEqual(NIST_MAX_CONSECUTIVE_FAILURES);
      const record = await t.deps.store.get(actor.userId);
      expect(record?.failures).toBe(HARD_LOCK_FAILURES);
      await expect(service.verify(actor, { code: codeAt(enrollment.secret, t.clock) })).rejects.toBeInstanceOf(TooManyAttemptsError);
      t.clock.advance(365 * DAY_MS);
      await expect(service.verify(actor, { code: codeAt(enrollment.secret, t.clock) })).rejects.toBeInstanceOf(TooManyAttemptsError);
      expect(sealer.opened).toBe(evaluated);
    },
    120_000,
  );
});
