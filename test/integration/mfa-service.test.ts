import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EnrollmentNotFoundError,
  InvalidCodeError,
  MfaNotEnabledError,
  TooManyAttemptsError,
  TotpAlreadyEnabledError,
} from '../../functions/domain/errors.js';
import { REFUNDS_PER_WINDOW } from '../../functions/domain/sessions.js';
import type { Actor } from '../../functions/service/mfa-service.js';
import { codeAt, createTestService, newActor, otherSessionOf, TEST_SETTINGS } from '../support/service.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;

async function enroll(t: TestService, actor: Actor) {
  const enrollment = await t.service.startTotpEnrollment(actor);
  const confirmed = await t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
  t.clock.advance(30_000);
  return { secret: enrollment.secret, recoveryCodes: confirmed.recoveryCodes! };
}

describe('MfaService on DynamoDB Local', () => {
  let t: TestService;
  let actor: Actor;
  beforeEach(async () => {
    t ??= await createTestService();
    actor = newActor();
  });

  describe('enrollment', () => {
    it('returns a base32 secret and its otpauth URI, pending for 10 minutes', async () => {
      const enrollment = await t.service.startTotpEnrollment(actor);
      expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/);
      const uri = new URL(enrollment.otpauthUri);
      expect(uri.searchParams.get('secret')).toBe(enrollment.secret);
      expect(decodeURIComponent(uri.pathname)).toBe(`/Acme:${actor.accountName}`);
      expect(Date.parse(enrollment.expiresAt) - t.clock.now()).toBe(600_000);
      expect((await t.service.status(actor)).mfaEnabled).toBe(false);
    });

    it('enables TOTP with a current code and hands out 10 recovery codes once', async () => {
      const enrollment = await t.service.startTotpEnrollment(actor);
      const confirmed = await t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
      expect(confirmed).toMatchObject({ enabled: true, reauthenticate: true });
      expect(confirmed.recoveryCodes).toHaveLength(10);
      const status = await t.service.status(actor);
      const now = new Date(t.clock.now()).toISOString();
      expect(status).toEqual({
        mfaEnabled: true,
        methods: { totp: { enabled: true, enrolledAt: now, lastUsedAt: null, count: 1 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
        recoveryCodes: { remaining: 10 },
        authenticators: [{ id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/), kind: 'totp', name: 'Authenticator app', createdAt: now, lastUsedAt: null }],
        devices: [],
      });
    });

    it('counts confirming as a use: the same code cannot then verify', async () => {
      const enrollment = await t.service.startTotpEnrollment(actor);
      const code = codeAt(enrollment.secret, t.clock);
      await t.service.confirmTotpEnrollment(actor, code);
      await expect(t.service.verify(actor, { code })).rejects.toBeInstanceOf(InvalidCodeError);
    });

    it('refuses a wrong code, an expired enrollment and a second confirmation', async () => {
      const enrollment = await t.service.startTotpEnrollment(actor);
      await expect(t.service.confirmTotpEnrollment(actor, '000000')).rejects.toBeInstanceOf(InvalidCodeError);
      t.clock.advance(600_000);
      await expect(t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock))).rejects.toBeInstanceOf(EnrollmentNotFoundError);
      const again = await t.service.startTotpEnrollment(actor);
      await t.service.confirmTotpEnrollment(actor, codeAt(again.secret, t.clock));
      t.clock.advance(30_000);
      await expect(t.service.confirmTotpEnrollment(actor, codeAt(again.secret, t.clock))).rejects.toBeInstanceOf(TotpAlreadyEnabledError);
      await expect(t.service.startTotpEnrollment(actor)).rejects.toBeInstanceOf(TotpAlreadyEnabledError);
    });

    it('answers enrollment_not_found when nothing is pending', async () => {
      await expect(t.service.confirmTotpEnrollment(actor, '123456')).rejects.toBeInstanceOf(EnrollmentNotFoundError);
    });

    it('replaces a pending enrollment when started again: the old secret stops working', async () => {
      const first = await t.service.startTotpEnrollment(actor);
      const second = await t.service.startTotpEnrollment(actor);
      expect(second.secret).not.toBe(first.secret);
      await expect(t.service.confirmTotpEnrollment(actor, codeAt(first.secret, t.clock))).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.confirmTotpEnrollment(actor, codeAt(second.secret, t.clock))).resolves.toMatchObject({ enabled: true });
    });
  });

  describe('verification', () => {
    it('issues an ES256 assertion the app can verify against the JWKS', async () => {
      const { secret } = await enroll(t, actor);
      const verified = await t.service.verify(actor, { code: codeAt(secret, t.clock) });
      expect(verified.method).toBe('totp');
      expect(verified.recoveryCodesRemaining).toBe(10);
      const jwks = createLocalJWKSet({ keys: await t.deps.signer.publicJwks() });
      const { payload, protectedHeader } = await jwtVerify(verified.assertion, jwks, {
        issuer: TEST_SETTINGS.assertionIssuer,
        audience: 'acme-app',
        currentDate: new Date(t.clock.now()),
      });
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload.sub).toBe(actor.userId);
      expect(payload.amr).toEqual(['mfa', 'otp']);
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
      expect(typeof payload.jti).toBe('string');
      expect(verified.expiresAt).toBe(new Date(payload.exp! * 1000).toISOString());
      expect((await t.service.status(actor)).methods.totp.lastUsedAt).toBe(new Date(t.clock.now()).toISOString());
    });

    it('refuses a replayed code and accepts the next step', async () => {
      const { secret } = await enroll(t, actor);
      const code = codeAt(secret, t.clock);
      await t.service.verify(actor, { code });
      await expect(t.service.verify(actor, { code })).rejects.toBeInstanceOf(InvalidCodeError);
      expect(t.audit.names()).toContain('mfa.code.replay_refused');
      t.clock.advance(30_000);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
    });

    it('accepts a code one step old or one step ahead (clock drift), but never an older step after a newer one', async () => {
      const { secret } = await enroll(t, actor);
      t.clock.advance(60_000);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock, -1) })).resolves.toMatchObject({ method: 'totp' });
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock, 1) })).resolves.toMatchObject({ method: 'totp' });
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock, 2) })).rejects.toBeInstanceOf(InvalidCodeError);
    });

    it('accepts each recovery code once, in any spelling, and counts down', async () => {
      const { recoveryCodes } = await enroll(t, actor);
      const verified = await t.service.verify(actor, { recoveryCode: recoveryCodes[0]!.toLowerCase() });
      expect(verified).toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 9 });
      const { payload } = await jwtVerify(verified.assertion, createLocalJWKSet({ keys: await t.deps.signer.publicJwks() }), {
        currentDate: new Date(t.clock.now()),
      });
      expect(payload.amr).toEqual(['mfa']);
      await expect(t.service.verify(actor, { recoveryCode: recoveryCodes[0]! })).rejects.toBeInstanceOf(InvalidCodeError);
      expect((await t.service.status(actor)).recoveryCodes.remaining).toBe(9);
      expect(t.audit.names()).toContain('mfa.recovery_code.used');
    });

    it('records mfa.recovery_code.used with what the code was spent for, a step-up that adds a method as well as a sign-in', async () => {
      const { recoveryCodes } = await enroll(t, actor);
      await t.service.startTotpEnrollment(actor, { recoveryCode: recoveryCodes[0]! });
      await t.service.verify(actor, { recoveryCode: recoveryCodes[1]! });
      const used = t.audit.events.filter((event) => event.userId === actor.userId && event.event === 'mfa.recovery_code.used');
      expect(used.map((event) => [event.method, event.operation])).toEqual([
        ['recovery_code', 'enroll'],
        ['recovery_code', 'verify'],
      ]);
    });

    it('answers mfa_not_enabled for a user without MFA', async () => {
      await expect(t.service.verify(actor, { code: '123456' })).rejects.toBeInstanceOf(MfaNotEnabledError);
      await expect(t.service.verify(actor, { recoveryCode: '0000-0000-0000-0000' })).rejects.toBeInstanceOf(MfaNotEnabledError);
    });

    it('lets exactly one of 20 concurrent uses of one TOTP code succeed', async () => {
      const { secret } = await enroll(t, actor);
      const code = codeAt(secret, t.clock);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => t.service.verify(actor, { code })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect([InvalidCodeError, TooManyAttemptsError].some((E) => r.reason instanceof E)).toBe(true);
      }
    });

    it('lets exactly one of 20 concurrent uses of one recovery code succeed', async () => {
      const { recoveryCodes } = await enroll(t, actor);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => t.service.verify(actor, { recoveryCode: recoveryCodes[4]! })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await t.service.status(actor)).recoveryCodes.remaining).toBe(9);
    });
    it('refuses copies of one right recovery code arriving at once as spent: one succeeds, the window keeps one slot for the burst', async () => {
      const { secret, recoveryCodes } = await enroll(t, actor);
      // The success and as many copies as a session gets back in a window: every copy counted is
      // given back whatever the interleaving. (A larger burst can count a copy in a slot an earlier
      // copy gave back, and a copy past the refunds is refused 429 with its check left counted:
      // webauthn.test.ts holds a burst of 30 to that.)
      const burst = 1 + REFUNDS_PER_WINDOW;
      const results = await Promise.allSettled(Array.from({ length: burst }, () => t.service.verify(actor, { recoveryCode: recoveryCodes[2]! })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect([InvalidCodeError, TooManyAttemptsError].some((E) => r.reason instanceof E), String(r.reason)).toBe(true);
      }
      const inWindow = (record: Awaited<ReturnType<typeof t.deps.store.get>>) => (record?.proofTimes ?? []).filter((time) => time > t.clock.now() - 60_000);
      const after = await t.deps.store.get(actor.userId);
      expect(inWindow(after), 'only the success holds a slot of the window').toHaveLength(1);
      expect(after?.spentRecoveryCodeHashes).toHaveLength(1);
      expect(t.audit.names()).toContain('mfa.code.replay_refused');
      // One more copy afterwards: spent, and no slot taken; another code works at once. From a
      // second sign-in: how many of the burst's copies came after the success committed (each
      // recognised as spent and given back) depends on timing, and a session gets 10 of those a
      // minute, then 429 (issue 16), so the burst's own session may be waiting now.
      const later = otherSessionOf(actor);
      await expect(t.service.verify(later, { recoveryCode: recoveryCodes[2]! })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(later, { recoveryCode: recoveryCodes[3]! })).resolves.toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 8 });
      expect(inWindow(await t.deps.store.get(actor.userId))).toHaveLength(2);
      // A new set forgets the old set's used codes: a code of the old set is then wrong, and counted.
      await t.service.regenerateRecoveryCodes(later, { code: codeAt(secret, t.clock) });
      expect((await t.deps.store.get(actor.userId))?.spentRecoveryCodeHashes).toEqual([]);
      await expect(t.service.verify(later, { recoveryCode: recoveryCodes[2]! })).rejects.toBeInstanceOf(InvalidCodeError);
      expect(inWindow(await t.deps.store.get(actor.userId))).toHaveLength(3);
    });
  });

  describe('step-up operations', () => {
    it('regenerates recovery codes with a current code: the old set stops working, the new one works', async () => {
      const { secret, recoveryCodes } = await enroll(t, actor);
      const { recoveryCodes: fresh } = await t.service.regenerateRecoveryCodes(actor, { code: codeAt(secret, t.clock) });
      expect(fresh).toHaveLength(10);
      expect(fresh.some((code) => recoveryCodes.includes(code))).toBe(false);
      await expect(t.service.verify(actor, { recoveryCode: recoveryCodes[1]! })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(actor, { recoveryCode: fresh[1]! })).resolves.toMatchObject({ recoveryCodesRemaining: 9 });
    });

    it('regenerates with a recovery code, which is spent with the old set', async () => {
      const { recoveryCodes } = await enroll(t, actor);
      const { recoveryCodes: fresh } = await t.service.regenerateRecoveryCodes(actor, { recoveryCode: recoveryCodes[2]! });
      expect((await t.service.status(actor)).recoveryCodes.remaining).toBe(10);
      await expect(t.service.verify(actor, { recoveryCode: fresh[0]! })).resolves.toBeDefined();
    });

    it('refuses to regenerate or disable without a valid code, changing nothing', async () => {
      const { recoveryCodes } = await enroll(t, actor);
      await expect(t.service.regenerateRecoveryCodes(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.disableTotp(actor, { recoveryCode: '0000-0000-0000-0000' })).rejects.toBeInstanceOf(InvalidCodeError);
      const status = await t.service.status(actor);
      expect(status.mfaEnabled).toBe(true);
      expect(status.recoveryCodes.remaining).toBe(10);
      await expect(t.service.verify(actor, { recoveryCode: recoveryCodes[0]! })).resolves.toBeDefined();
    });

    it('disables TOTP with a current code, removing the secret and the recovery codes', async () => {
      const { secret, recoveryCodes } = await enroll(t, actor);
      await expect(t.service.disableTotp(actor, { code: codeAt(secret, t.clock) })).resolves.toEqual({ mfaEnabled: false });
      expect(await t.service.status(actor)).toEqual({
        mfaEnabled: false,
        methods: { totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
        recoveryCodes: { remaining: 0 },
        authenticators: [],
        devices: [],
      });
      await expect(t.service.verify(actor, { recoveryCode: recoveryCodes[0]! })).rejects.toBeInstanceOf(MfaNotEnabledError);
      const record = await t.deps.store.get(actor.userId);
      expect(record?.authenticators).toEqual([]);
      expect(record?.recoveryCodeHashes).toEqual([]);
    });

    it('gives recovery codes again when TOTP is re-enabled after being disabled', async () => {
      const { secret } = await enroll(t, actor);
      await t.service.disableTotp(actor, { code: codeAt(secret, t.clock) });
      const second = await enroll(t, actor);
      expect(second.recoveryCodes).toHaveLength(10);
    });
  });

  describe('lockout', () => {
    it('refuses even a right code for 30 s after 5 failures, then accepts it and resets the count', async () => {
      const { secret } = await enroll(t, actor);
      for (let i = 0; i < 5; i++) await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
      const locked = await t.service.verify(actor, { code: codeAt(secret, t.clock) }).catch((error: unknown) => error);
      expect(locked).toBeInstanceOf(TooManyAttemptsError);
      expect((locked as TooManyAttemptsError).retryAfterSeconds).toBe(30);
      t.clock.advance(29_000);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).rejects.toBeInstanceOf(TooManyAttemptsError);
      t.clock.advance(1_000);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).resolves.toBeDefined();
      expect((await t.deps.store.get(actor.userId))?.failures).toBe(0);
      expect(t.audit.names()).toEqual(expect.arrayContaining(['mfa.lockout.started', 'mfa.lockout.refused']));
    });

    it('doubles the second lockout to 60 s', async () => {
      await enroll(t, actor);
      for (let i = 0; i < 5; i++) await t.service.verify(actor, { code: '000000' }).catch(() => {});
      t.clock.advance(30_000);
      for (let i = 0; i < 5; i++) await expect(t.service.verify(actor, { code: '111111' })).rejects.toBeInstanceOf(InvalidCodeError);
      const locked = (await t.service.verify(actor, { code: '222222' }).catch((e: unknown) => e)) as TooManyAttemptsError;
      expect(locked.retryAfterSeconds).toBe(60);
    });

    it('counts code failures across verify, regenerate and disable alike', async () => {
      const { secret } = await enroll(t, actor);
      await t.service.verify(actor, { code: '000000' }).catch(() => {});
      await t.service.verify(actor, { code: '000001' }).catch(() => {});
      await t.service.regenerateRecoveryCodes(actor, { code: '000000' }).catch(() => {});
      await t.service.disableTotp(actor, { code: '000000' }).catch(() => {});
      await t.service.disableTotp(actor, { code: '000002' }).catch(() => {});
      await expect(t.service.disableTotp(actor, { code: codeAt(secret, t.clock) })).rejects.toBeInstanceOf(TooManyAttemptsError);
      expect((await t.service.status(actor)).mfaEnabled).toBe(true);
    });

    it('never refuses a recovery code because of a code lockout, and does not count its failures toward it', async () => {
      const { secret, recoveryCodes } = await enroll(t, actor);
      for (let i = 0; i < 4; i++) await expect(t.service.verify(actor, { recoveryCode: `0000-0000-0000-000${i}` })).rejects.toBeInstanceOf(InvalidCodeError);
      expect((await t.deps.store.get(actor.userId))?.failures).toBe(0);
      for (let i = 0; i < 5; i++) await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).rejects.toBeInstanceOf(TooManyAttemptsError);
      await expect(t.service.verify(actor, { recoveryCode: recoveryCodes[0]! })).resolves.toMatchObject({ method: 'recovery_code' });
    });

    it('limits recovery-code checks to 10 a minute, then says when to come back', async () => {
      const { recoveryCodes } = await enroll(t, actor);
      for (let i = 0; i < 10; i++) await expect(t.service.verify(actor, { recoveryCode: `0000-0000-0000-00${String(i).padStart(2, '0')}` })).rejects.toBeInstanceOf(InvalidCodeError);
      const refused = await t.service.verify(actor, { recoveryCode: recoveryCodes[0]! }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TooManyAttemptsError);
      expect((refused as TooManyAttemptsError).retryAfterSeconds).toBe(60);
      expect((await t.deps.store.get(actor.userId))?.failures, 'recovery-code failures never count toward the code lockout').toBe(0);
      t.clock.advance(60_000);
      await expect(t.service.verify(actor, { recoveryCode: recoveryCodes[0]! })).resolves.toMatchObject({ method: 'recovery_code' });
    });

    it('never locks the user out over copies of one right code arriving at once: one succeeds, the others are refused as spent and not counted', async () => {
      const { secret } = await enroll(t, actor);
      t.clock.advance(30_000);
      const code = codeAt(secret, t.clock);
      const results = await Promise.allSettled(Array.from({ length: 30 }, () => t.service.verify(actor, { code })));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const record = await t.deps.store.get(actor.userId);
      expect(record?.failures).toBe(0);
      expect(record?.lockedUntil === undefined || record.lockedUntil <= t.clock.now()).toBe(true);
      t.clock.advance(30_000);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
    });

    it('caps failures at 100 a day even when the victim signs in between guesses', async () => {
      const { secret } = await enroll(t, actor);
      let lockedInRound: number | undefined;
      for (let round = 0; round < 30 && lockedInRound === undefined; round++) {
        // Every 10 minutes the attacker spends 4 guesses (never a consecutive lockout); then the victim signs in.
        for (let i = 0; i < 4; i++) await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
        t.clock.advance(30_000);
        const victim = await t.service.verify(actor, { code: codeAt(secret, t.clock) }).catch((error: unknown) => error);
        if (victim instanceof TooManyAttemptsError) lockedInRound = round;
        t.clock.advance(600_000);
      }
      expect(lockedInRound).toBe(24);
      expect((await t.deps.store.get(actor.userId))?.windowFailures).toBe(100);
      await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(TooManyAttemptsError);
      t.clock.advance(24 * 3600_000);
      await expect(t.service.verify(actor, { code: codeAt(secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
    });

    it('counts failed confirmations too', async () => {
      const enrollment = await t.service.startTotpEnrollment(actor);
      for (let i = 0; i < 5; i++) await t.service.confirmTotpEnrollment(actor, '000000').catch(() => {});
      await expect(t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock))).rejects.toBeInstanceOf(TooManyAttemptsError);
    });

    it('records exactly 5 failures when 20 wrong codes arrive at once, and refuses the rest', async () => {
      await enroll(t, actor);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => t.service.verify(actor, { code: String(100000 + i) })));
      const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : r.value));
      expect(reasons.filter((r) => r instanceof InvalidCodeError)).toHaveLength(5);
      expect(reasons.filter((r) => r instanceof TooManyAttemptsError)).toHaveLength(15);
      expect((await t.deps.store.get(actor.userId))?.failures).toBe(5);
    });
  });

  describe('audit trail', () => {
    it('records every event with user, outcome, request id and source IP, and never a code', async () => {
      const { secret, recoveryCodes } = await enroll(t, actor);
      const code = codeAt(secret, t.clock);
      await t.service.verify(actor, { code });
      await t.service.verify(actor, { code }).catch(() => {});
      await t.service.verify(actor, { recoveryCode: recoveryCodes[0]! });
      const mine = t.audit.events.filter((event) => event.userId === actor.userId);
      expect(mine.map((event) => event.event)).toEqual([
        'mfa.enrollment.started',
        'mfa.totp.enabled',
        'mfa.verify.succeeded',
        'mfa.code.replay_refused',
        'mfa.recovery_code.used',
        'mfa.verify.succeeded',
      ]);
      for (const event of mine) {
        expect(event).toMatchObject({ userId: actor.userId, requestId: actor.audit.requestId, sourceIp: '198.51.100.7' });
        expect(['success', 'failure', 'refused']).toContain(event.outcome);
      }
      const text = JSON.stringify(mine);
      for (const secretValue of [secret, code, ...recoveryCodes, ...recoveryCodes.map((c) => c.replace(/-/g, ''))]) {
        expect(text).not.toContain(secretValue);
      }
    });
  });
});
