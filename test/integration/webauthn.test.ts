import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { LEGACY_TOTP_ID, userKey } from '../../functions/adapters/aws/mfa-item.js';
import {
  AuthenticatorNotFoundError,
  CredentialAlreadyRegisteredError,
  InvalidCodeError,
  InvalidCredentialError,
  MfaNotEnabledError,
  RegistrationNotFoundError,
  StepUpRequiredError,
  TooManyAttemptsError,
  TooManyAuthenticatorsError,
  TotpAlreadyEnabledError,
  WebAuthnNotEnabledError,
} from '../../functions/domain/errors.js';
import { PROOF_ATTEMPTS_PER_WINDOW } from '../../functions/domain/lockout.js';
import { REFUNDS_PER_WINDOW } from '../../functions/domain/sessions.js';
import { cryptoRandom } from '../../functions/domain/random.js';
import { generateRecoveryCodes, hashRecoveryCodes } from '../../functions/methods/recovery-codes/recovery-codes.js';
import { generateTotpSecret, toBase32 } from '../../functions/methods/totp/totp.js';
import { TOTP_SECRET_PURPOSE } from '../../functions/service/context.js';
import type { Actor, SecondFactor } from '../../functions/service/mfa-service.js';
import { SoftwareAuthenticator, type ResponseKnobs } from '../../harness/software-authenticator.js';
import { codeAt, createTestService, newActor } from '../support/service.js';
import { canonicalItem, readUserItem, storedApps, type Item } from '../support/table-snapshot.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;

/** What an attempt may change on a refusal: its own counters (and the write bookkeeping). */
const ATTEMPT_COUNTERS = ['failures', 'windowStart', 'windowFailures', 'lockedUntil', 'proofTimes', 'sessions', 'ceilingReportedAt', 'lastWriteId', 'outbox', 'ttl'];
const withoutCounters = (item: Item | undefined) =>
  canonicalItem(item && Object.fromEntries(Object.entries(item).filter(([name]) => !ATTEMPT_COUNTERS.includes(name))));

const b64urlBytes = (value: string) => Buffer.from(value, 'base64url');

describe('security keys and several authenticators (service on DynamoDB Local)', () => {
  let t: TestService;
  let actor: Actor;
  beforeEach(async () => {
    t ??= await createTestService();
    actor = newActor();
  });

  const item = (who: Actor = actor) => readUserItem(t.client, t.tableName, who.userId);

  /** The first key (MFA off), or one more with a proof. */
  async function registerKey(key = new SoftwareAuthenticator(), options: { who?: Actor; factor?: SecondFactor; name?: string } = {}) {
    const who = options.who ?? actor;
    const started = await t.service.startWebAuthnRegistration(who, options.factor);
    const confirmed = await t.service.confirmWebAuthnRegistration(who, key.register(started.options), options.name);
    return { key, started, confirmed };
  }

  /** A fresh challenge answered by `key`. The proof lane allows 10 checks a minute: each proof moves the clock 10 s. */
  async function keyProof(key: SoftwareAuthenticator, knobs: ResponseKnobs = {}, who: Actor = actor): Promise<{ webauthn: ReturnType<SoftwareAuthenticator['assert']> }> {
    t.clock.advance(10_000);
    const { options } = await t.service.startWebAuthnChallenge(who);
    return { webauthn: key.assert(options, knobs) };
  }

  /** An authenticator app turned on (the first method or, with `factor`, one more); the clock moves to the next step. */
  async function addApp(factor?: SecondFactor, name?: string, who: Actor = actor) {
    const enrollment = await t.service.startTotpEnrollment(who, factor);
    const confirmed = await t.service.confirmTotpEnrollment(who, codeAt(enrollment.secret, t.clock), name);
    t.clock.advance(30_000);
    return { secret: enrollment.secret, recoveryCodes: confirmed.recoveryCodes };
  }

  const assertionPayload = async (assertion: string) => {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: await t.deps.signer.publicJwks() }), { currentDate: new Date(t.clock.now()) });
    return payload;
  };

  describe('registration', () => {
    it('offers creation options with a random user handle, a 32-byte challenge, EdDSA/ES256/RS256, no attestation, for 5 minutes', async () => {
      const { options, expiresAt } = await t.service.startWebAuthnRegistration(actor);
      expect(options.rp).toEqual({ id: 'localhost', name: 'Acme' });
      expect(b64urlBytes(options.user.id)).toHaveLength(32);
      expect(b64urlBytes(options.user.id).toString('utf8')).not.toContain(actor.userId);
      expect(options.user.id).not.toBe(Buffer.from(actor.userId).toString('base64url'));
      expect(options.user).toMatchObject({ name: actor.accountName, displayName: actor.accountName });
      expect(b64urlBytes(options.challenge)).toHaveLength(32);
      expect(options.pubKeyCredParams).toEqual([
        { type: 'public-key', alg: -8 },
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -257 },
      ]);
      expect(options.timeout).toBe(300_000);
      expect(options.excludeCredentials).toEqual([]);
      expect(options.authenticatorSelection).toMatchObject({ residentKey: 'discouraged', userVerification: 'discouraged' });
      expect(options.attestation).toBe('none');
      expect(Date.parse(expiresAt) - t.clock.now()).toBe(300_000);
      // Another user gets another handle; the same user keeps hers.
      const other = await t.service.startWebAuthnRegistration(newActor());
      expect(other.options.user.id).not.toBe(options.user.id);
      const again = await t.service.startWebAuthnRegistration(actor);
      expect(again.options.user.id).toBe(options.user.id);
      expect(again.options.challenge).not.toBe(options.challenge);
    });

    it('answers every one of concurrent first starts (a double click) with options carrying the one stored handle', async () => {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => t.service.startWebAuthnRegistration(actor)));
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
      const handles = new Set(results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<TestService['service']['startWebAuthnRegistration']>>>).value.options.user.id));
      expect([...handles]).toEqual([(await item())!.webauthnUserHandle!.S]);
    });

    it('turns MFA on with the first key and hands out 10 recovery codes once', async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key, { name: 'YubiKey 5C' });
      const now = new Date(t.clock.now()).toISOString();
      expect(confirmed).toEqual({
        enabled: true,
        reauthenticate: true,
        authenticator: { id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/), kind: 'webauthn', name: 'YubiKey 5C', createdAt: now, lastUsedAt: null, transports: ['usb'], backedUp: false },
        recoveryCodes: expect.any(Array),
      });
      expect(confirmed.recoveryCodes).toHaveLength(10);
      expect(await t.service.status(actor)).toEqual({
        mfaEnabled: true,
        methods: { totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: true, count: 1 }, email: { enabled: false, count: 0 } },
        recoveryCodes: { remaining: 10 },
        authenticators: [confirmed.authenticator],
        devices: [],
      });
      const stored = (await item())!;
      // The session's pending registration was consumed with the write that added the key.
      expect(stored.webauthnRegistrations!.M).toEqual({});
      expect(stored.authenticators!.M![confirmed.authenticator.id]!.M!.credentialId!.S).toBe(key.credentialId);
      expect(t.audit.names()).toContain('mfa.webauthn.enabled');
      // The recovery codes work.
      await expect(t.service.verify(actor, { recoveryCode: confirmed.recoveryCodes![0]! })).resolves.toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 9 });
    });

    it('names a key "Security key" unless told otherwise, and registers an Ed25519 passkey as backed up', async () => {
      const { confirmed } = await registerKey(new SoftwareAuthenticator({ algorithm: 'EdDSA', passkey: true, countsSignatures: false }));
      expect(confirmed.authenticator).toMatchObject({ name: 'Security key', transports: ['hybrid', 'internal'], backedUp: true });
    });

    it.each([
      ['a code', 'code'],
      ['a recovery code', 'recoveryCode'],
      ['a key', 'webauthn'],
    ] as const)('adds a key while MFA is on with %s, excluding the keys already there, without new recovery codes', async (_, kind) => {
      const first = new SoftwareAuthenticator();
      const { confirmed: firstConfirmed } = await registerKey(first);
      const { secret } = await addApp(await keyProof(first));
      const factor: SecondFactor =
        kind === 'code' ? { code: codeAt(secret, t.clock) } : kind === 'recoveryCode' ? { recoveryCode: firstConfirmed.recoveryCodes![3]! } : await keyProof(first);
      const second = new SoftwareAuthenticator({ transports: ['nfc', 'usb'] });
      const { started, confirmed } = await registerKey(second, { factor, name: 'Backup key' });
      expect(started.options.excludeCredentials).toEqual([{ id: first.credentialId, type: 'public-key', transports: ['usb'] }]);
      expect(confirmed.recoveryCodes).toBeUndefined();
      expect(confirmed.authenticator).toMatchObject({ kind: 'webauthn', name: 'Backup key', transports: ['nfc', 'usb'] });
      const status = await t.service.status(actor);
      expect(status.methods).toMatchObject({ totp: { count: 1 }, webauthn: { enabled: true, count: 2 } });
      expect(status.recoveryCodes.remaining).toBe(kind === 'recoveryCode' ? 9 : 10);
      // The new key proves on its own.
      await expect(t.service.verify(actor, await keyProof(second))).resolves.toMatchObject({ method: 'webauthn' });
    });

    it('needs a proof while MFA is on (step_up_required), and counts a wrong one', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      await expect(t.service.startWebAuthnRegistration(actor)).rejects.toBeInstanceOf(StepUpRequiredError);
      await expect(t.service.startWebAuthnRegistration(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
      expect((await item())!.failures!.N).toBe('1');
      const before = (await item())!;
      await expect(t.service.startWebAuthnRegistration(actor, await keyProof(key, { badSignature: true }))).rejects.toBeInstanceOf(InvalidCredentialError);
      const after = (await item())!;
      // Counted at now, less a unique fraction of a millisecond (so that a copy's check can be given back).
      expect(t.clock.now() - Number(after.proofTimes!.L!.at(-1)!.N)).toBeGreaterThan(0);
      expect(t.clock.now() - Number(after.proofTimes!.L!.at(-1)!.N)).toBeLessThan(1);
      expect(after.webauthnRegistrations).toEqual(before.webauthnRegistrations);
    });

    it('refuses to confirm, while MFA is on, a registration started without a proof before it was', async () => {
      const started = await t.service.startWebAuthnRegistration(actor);
      await addApp();
      const key = new SoftwareAuthenticator();
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register(started.options))).rejects.toBeInstanceOf(StepUpRequiredError);
      expect((await t.service.status(actor)).methods.webauthn.count).toBe(0);
    });

    it('answers registration_not_found when none is pending, after 5 minutes, and once it was used', async () => {
      const key = new SoftwareAuthenticator();
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register({ challenge: 'AAAA' }))).rejects.toBeInstanceOf(RegistrationNotFoundError);
      const expired = await t.service.startWebAuthnRegistration(actor);
      t.clock.advance(300_000);
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register(expired.options))).rejects.toBeInstanceOf(RegistrationNotFoundError);
      const started = await t.service.startWebAuthnRegistration(actor);
      const response = key.register(started.options);
      await t.service.confirmWebAuthnRegistration(actor, response);
      await expect(t.service.confirmWebAuthnRegistration(actor, response)).rejects.toBeInstanceOf(RegistrationNotFoundError);
      expect((await t.service.status(actor)).methods.webauthn.count).toBe(1);
    });

    it('replaces a pending registration when started again: a response to the old challenge is refused', async () => {
      const key = new SoftwareAuthenticator();
      const first = await t.service.startWebAuthnRegistration(actor);
      const second = await t.service.startWebAuthnRegistration(actor);
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register(first.options))).rejects.toBeInstanceOf(InvalidCredentialError);
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register(second.options))).resolves.toMatchObject({ enabled: true });
    });

    it.each<[string, ResponseKnobs]>([
      ['another challenge', { challenge: Buffer.alloc(32, 1).toString('base64url') }],
      ['another origin', { origin: 'https://evil.example' }],
      ['another RP ID hash', { rpId: 'evil.example' }],
      ['the type of an assertion', { type: 'webauthn.get' }],
      ['no user presence', { flags: { up: false } }],
      ['a cross-origin ceremony', { crossOrigin: true }],
    ])('refuses a registration with %s as invalid_credential, changing nothing', async (_, knobs) => {
      const started = await t.service.startWebAuthnRegistration(actor);
      const before = canonicalItem(await item());
      await expect(t.service.confirmWebAuthnRegistration(actor, new SoftwareAuthenticator().register(started.options, knobs))).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(canonicalItem(await item())).toBe(before);
      expect(t.audit.names()).toContain('mfa.webauthn.registration_failed');
    });

    it('refuses a registration whose attestation object is not CBOR', async () => {
      const started = await t.service.startWebAuthnRegistration(actor);
      const response = new SoftwareAuthenticator().register(started.options);
      response.response.attestationObject = Buffer.from('not cbor').toString('base64url');
      await expect(t.service.confirmWebAuthnRegistration(actor, response)).rejects.toBeInstanceOf(InvalidCredentialError);
    });

    it('refuses a key that is already registered (credential_already_registered)', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      const started = await t.service.startWebAuthnRegistration(actor, await keyProof(key));
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register(started.options))).rejects.toBeInstanceOf(CredentialAlreadyRegisteredError);
      expect((await t.service.status(actor)).methods.webauthn.count).toBe(1);
    });

    it('starts a proved registration only with the user handle already stored (the options carry it)', async () => {
      const { started } = await registerKey();
      const hash = (await item())!.recoveryCodes!.SS![0]!;
      const registration = { challenge: Buffer.alloc(32, 2).toString('base64url'), createdAt: t.clock.now(), expiresAt: t.clock.now() + 300_000, proved: true };
      const start = async (userHandle: string) =>
        t.deps.store.commitProof(
          actor.userId,
          { kind: 'recovery_code', hash, digest: 'spent-digest' },
          { kind: 'start_webauthn_registration', sessionId: actor.sessionId, registration, userHandle, pendingRead: (await t.deps.store.get(actor.userId))?.registrations },
          t.clock.now(),
        );
      await expect(start(Buffer.alloc(32, 9).toString('base64url'))).resolves.toBe('conflict');
      expect((await item())!.webauthnUserHandle!.S).toBe(started.options.user.id);
      await expect(start(started.options.user.id)).resolves.toBe('ok');
    });

    it('stores exactly one key when 20 confirmations of one registration arrive at once', async () => {
      const started = await t.service.startWebAuthnRegistration(actor);
      const response = new SoftwareAuthenticator().register(started.options);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => t.service.confirmWebAuthnRegistration(actor, response)));
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      expect(fulfilled).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RegistrationNotFoundError);
      const status = await t.service.status(actor);
      expect(status.methods.webauthn.count).toBe(1);
      expect(status.recoveryCodes.remaining).toBe(10);
    });

    it('stops at 10 authenticators of all kinds (too_many_authenticators), at start and at confirmation', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      for (let i = 0; i < 7; i++) await registerKey(new SoftwareAuthenticator(), { factor: await keyProof(key) });
      await addApp(await keyProof(key));
      expect((await t.service.status(actor)).authenticators).toHaveLength(9);
      // A registration for the 10th is pending while an app takes the 10th place.
      const pending = await t.service.startWebAuthnRegistration(actor, await keyProof(key));
      await addApp(await keyProof(key));
      await expect(t.service.confirmWebAuthnRegistration(actor, new SoftwareAuthenticator().register(pending.options))).rejects.toBeInstanceOf(TooManyAuthenticatorsError);
      await expect(t.service.startWebAuthnRegistration(actor, await keyProof(key))).rejects.toBeInstanceOf(TooManyAuthenticatorsError);
      await expect(t.service.startTotpEnrollment(actor, await keyProof(key))).rejects.toBeInstanceOf(TooManyAuthenticatorsError);
      expect((await t.service.status(actor)).authenticators).toHaveLength(10);
    });
  });

  describe('challenge', () => {
    it('answers webauthn_not_enabled when the user has no key (no MFA, or only an app)', async () => {
      await expect(t.service.startWebAuthnChallenge(actor)).rejects.toBeInstanceOf(WebAuthnNotEnabledError);
      await addApp();
      await expect(t.service.startWebAuthnChallenge(actor)).rejects.toBeInstanceOf(WebAuthnNotEnabledError);
    });

    it("offers the user's keys with their transports, a minted challenge (39 bytes, 16 of them random), user verification discouraged, for 5 minutes", async () => {
      const usb = new SoftwareAuthenticator();
      await registerKey(usb);
      const passkey = new SoftwareAuthenticator({ passkey: true });
      await registerKey(passkey, { factor: await keyProof(usb) });
      const { options, expiresAt } = await t.service.startWebAuthnChallenge(actor);
      expect(options.rpId).toBe('localhost');
      expect(b64urlBytes(options.challenge)).toHaveLength(39);
      // Not stored: the item holds only the user's challenge key.
      const stored = (await item())!;
      expect(stored.webauthnChallengeKey!.B).toHaveLength(32);
      expect(stored.webauthnChallenges).toBeUndefined();
      expect(options.userVerification).toBe('discouraged');
      expect(options.timeout).toBe(300_000);
      expect(options.allowCredentials).toEqual([
        { id: usb.credentialId, type: 'public-key', transports: ['usb'] },
        { id: passkey.credentialId, type: 'public-key', transports: ['hybrid', 'internal'] },
      ]);
      expect(Date.parse(expiresAt) - t.clock.now()).toBe(300_000);
    });
  });

  describe('verify with a key', () => {
    it('issues an assertion with amr mfa, pop, hwk for a device-bound key, and moves its counter', async () => {
      const key = new SoftwareAuthenticator({ counter: 41 });
      const { confirmed } = await registerKey(key);
      const started = await t.service.startWebAuthnChallenge(actor);
      const verified = await t.service.verify(actor, { webauthn: key.assert(started.options) }, 'n-1');
      expect(verified).toMatchObject({ method: 'webauthn', recoveryCodesRemaining: 10 });
      const payload = await assertionPayload(verified.assertion);
      expect(payload).toMatchObject({ sub: actor.userId, amr: ['mfa', 'pop', 'hwk'], nonce: 'n-1' });
      const stored = (await item())!;
      expect(stored.authenticators!.M![confirmed.authenticator.id]!.M!.counter!.N).toBe('42');
      // The challenge was spent in the write that moved the counter: its nonce is kept until it expires.
      expect(Object.values(stored.webauthnSpentChallenges!.M!)).toEqual([{ N: String(Date.parse(started.expiresAt)) }]);
      const view = (await t.service.status(actor)).authenticators[0]!;
      expect(view.lastUsedAt).toBe(new Date(t.clock.now()).toISOString());
      expect(t.audit.events.at(-1)).toMatchObject({ event: 'mfa.verify.succeeded', method: 'webauthn', authenticatorId: confirmed.authenticator.id });
    });

    it('issues swk for a synced passkey, whose counter may stay zero', async () => {
      const passkey = new SoftwareAuthenticator({ passkey: true, countsSignatures: false });
      await registerKey(passkey);
      for (let i = 0; i < 2; i++) {
        const verified = await t.service.verify(actor, await keyProof(passkey));
        expect(decodeJwt(verified.assertion).amr).toEqual(['mfa', 'pop', 'swk']);
      }
    });

    it('issues swk for a key registered backup-eligible that is not backed up yet', async () => {
      const key = new SoftwareAuthenticator();
      const started = await t.service.startWebAuthnRegistration(actor);
      await t.service.confirmWebAuthnRegistration(actor, key.register(started.options, { flags: { be: true, bs: false } }));
      const verified = await t.service.verify(actor, await keyProof(key, { flags: { be: true, bs: false } }));
      expect(decodeJwt(verified.assertion).amr).toEqual(['mfa', 'pop', 'swk']);
    });

    it("accepts a user handle only when it is the user's own", async () => {
      const passkey = new SoftwareAuthenticator({ passkey: true, countsSignatures: false });
      const { started } = await registerKey(passkey);
      await expect(t.service.verify(actor, await keyProof(passkey, { userHandle: started.options.user.id }))).resolves.toMatchObject({ method: 'webauthn' });
      // Refusing another user's handle: see the table below.
    });

    /** Each case arranges a user with a key and returns the factor to send (as `actor`). */
    const REFUSED: Array<[string, (key: SoftwareAuthenticator) => Promise<SecondFactor>]> = [
      ['an assertion to no challenge', async (key) => ({ webauthn: key.assert({ challenge: Buffer.alloc(32, 3).toString('base64url') }) })],
      [
        'an assertion to an expired challenge',
        async (key) => {
          const proof = await keyProof(key);
          t.clock.advance(300_000);
          return proof;
        },
      ],
      [
        "another user's challenge",
        async (key) => {
          const other = newActor('other');
          await registerKey(new SoftwareAuthenticator(), { who: other });
          await keyProof(key); // the user's own challenge is pending too
          const { options } = await t.service.startWebAuthnChallenge(other);
          return { webauthn: key.assert(options) };
        },
      ],
      [
        "another user's key",
        async () => {
          const other = newActor('other');
          const theirs = new SoftwareAuthenticator();
          await registerKey(theirs, { who: other });
          const { options } = await t.service.startWebAuthnChallenge(actor);
          return { webauthn: theirs.assert(options) };
        },
      ],
      ['a bad signature', (key) => keyProof(key, { badSignature: true })],
      ["another user's user handle", async (key) => keyProof(key, { userHandle: (await t.service.startWebAuthnRegistration(newActor())).options.user.id })],
      ['no user presence', (key) => keyProof(key, { flags: { up: false } })],
      ['another origin', (key) => keyProof(key, { origin: 'https://evil.example' })],
      ['another RP ID hash', (key) => keyProof(key, { rpId: 'evil.example' })],
      ['the type of a registration', (key) => keyProof(key, { type: 'webauthn.create' })],
      ['a counter that went backwards', (key) => keyProof(key, { counter: key.counter - 1 })],
      ['a counter that did not move', (key) => keyProof(key, { counter: key.counter })],
    ];

    it.each(REFUSED)('refuses %s as invalid_credential, changing nothing but the attempt counters', async (_, arrange) => {
      const key = new SoftwareAuthenticator({ counter: 5 });
      await registerKey(key);
      await t.service.verify(actor, await keyProof(key)); // counter 6 stored
      const factor = await arrange(key);
      const before = withoutCounters(await item());
      await expect(t.service.verify(actor, factor)).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(withoutCounters(await item())).toBe(before);
      expect(t.audit.events.at(-1)).toMatchObject({ event: 'mfa.verify.failed', method: 'webauthn', outcome: 'failure' });
    });

    it('audits a counter regression as such, and still accepts the key once its counter moves on', async () => {
      const key = new SoftwareAuthenticator({ counter: 9 });
      await registerKey(key);
      await t.service.verify(actor, await keyProof(key));
      const regressed = await keyProof(key, { counter: 3 });
      const events = t.audit.events.length;
      await expect(t.service.verify(actor, regressed)).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(t.audit.events.slice(events).map((e) => e.event)).toEqual(['mfa.webauthn.counter_regression', 'mfa.verify.failed']);
      expect(t.audit.events[events]).toMatchObject({ userId: actor.userId, outcome: 'refused', method: 'webauthn', operation: 'verify', authenticatorId: expect.any(String) });
      await expect(t.service.verify(actor, await keyProof(key))).resolves.toMatchObject({ method: 'webauthn' });
    });

    it('lets exactly one of 50 concurrent posts of one assertion succeed', async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key);
      const factor = await keyProof(key);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => t.service.verify(actor, factor)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect([InvalidCredentialError, TooManyAttemptsError].some((E) => r.reason instanceof E), String(r.reason)).toBe(true);
      }
      expect((await item())!.authenticators!.M![confirmed.authenticator.id]!.M!.counter!.N).toBe('1');
    });

    it("spends a challenge in the store at most once, and only on the spent challenges as read (a conflict, never an error, when they changed)", async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key);
      const started = await t.service.startWebAuthnChallenge(actor);
      await t.service.verify(actor, { webauthn: key.assert(started.options) });
      const spent = (await t.deps.store.get(actor.userId))!.spentChallenges!;
      const [nonce] = Object.keys(spent);
      const now = t.clock.now();
      const proof = (challengeNonce: string, spentRead: Readonly<Record<string, number>> | undefined) => ({
        kind: 'webauthn' as const,
        authenticatorId: confirmed.authenticator.id,
        sessionId: actor.sessionId,
        challengeNonce,
        challengeExpiresAt: now + 300_000,
        spentRead,
        previousCounter: key.counter,
        counter: key.counter + 1,
        backedUp: false,
      });
      const commit = (p: ReturnType<typeof proof>) => t.deps.store.commitProof(actor.userId, p, { kind: 'none' }, now);
      // The same nonce again: refused by the write, whatever the caller read.
      await expect(commit(proof(nonce!, spent))).resolves.toBe('conflict');
      // A new nonce on a stale reading: the map is there but was read as absent.
      await expect(commit(proof('fresh-nonce', undefined))).resolves.toBe('conflict');
      // The map gone meanwhile (every key removed, an admin reset): a conflict, not a failed write.
      const raw = { ...(await item())! };
      await t.client.send(new UpdateItemCommand({ TableName: t.tableName, Key: userKey(actor.userId), UpdateExpression: 'REMOVE webauthnSpentChallenges' }));
      await expect(commit(proof('fresh-nonce', spent))).resolves.toBe('conflict');
      await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: raw }));
      // As read: spent, with the entries that had expired dropped.
      // Expired for longer than the clocks' drift (a minute): dropped.
      t.clock.advance(300_000 + 60_000);
      const later = t.clock.now();
      await expect(t.deps.store.commitProof(actor.userId, { ...proof('fresh-nonce', spent), challengeExpiresAt: later + 300_000 }, { kind: 'none' }, later)).resolves.toBe('ok');
      expect(Object.keys((await item())!.webauthnSpentChallenges!.M!)).toEqual(['fresh-nonce']);
    });

    it('drops at most 20 expired spent challenges per sign-in, so that a long backlog never makes the write too large', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      await t.service.verify(actor, await keyProof(key));
      const backlog = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`expired-${String(i).padStart(3, '0')}`, { N: String(t.clock.now() - 120_000 - i) }]));
      await t.client.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: userKey(actor.userId),
          UpdateExpression: 'SET webauthnSpentChallenges = :backlog',
          ExpressionAttributeValues: { ':backlog': { M: backlog } },
        }),
      );
      await expect(t.service.verify(actor, await keyProof(key))).resolves.toMatchObject({ method: 'webauthn' });
      const left = Object.keys((await item())!.webauthnSpentChallenges!.M!);
      // 200 + this sign-in's nonce, less the 20 oldest (the highest numbers expired first).
      expect(left).toHaveLength(181);
      expect(left.filter((nonce) => nonce.startsWith('expired-1') && Number(nonce.slice(8)) >= 180)).toEqual([]);
    });

    it('refuses copies of one assertion arriving at once as spent: one succeeds, the window keeps one slot for the burst', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      const factor = await keyProof(key);
      const results = await Promise.allSettled(Array.from({ length: 30 }, () => t.service.verify(actor, factor)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect([InvalidCredentialError, TooManyAttemptsError].some((E) => r.reason instanceof E), String(r.reason)).toBe(true);
      }
      const inWindow = async () => ((await t.deps.store.get(actor.userId))?.proofTimes ?? []).filter((time) => time > t.clock.now() - 60_000);
      // Copies given back hold no slot; once the burst used the session's refunds (how many copies
      // reached a refund depends on how it interleaved), a copy is refused 429 with its check left counted.
      const refunds = ((await t.deps.store.get(actor.userId))?.sessions?.[actor.sessionId]?.refundTimes ?? []).filter((time) => time > t.clock.now() - 60_000);
      const refundsLeft = refunds.length < REFUNDS_PER_WINDOW;
      const afterBurst = (await inWindow()).length;
      if (refundsLeft) expect(afterBurst, 'only the success holds a slot of the window').toBe(1);
      else expect(afterBurst).toBeGreaterThanOrEqual(1);
      expect(t.audit.names()).toContain('mfa.code.replay_refused');
      // One more copy: refused as spent and given back while refunds remain, else 429 and counted.
      await expect(t.service.verify(actor, factor)).rejects.toBeInstanceOf(refundsLeft ? InvalidCredentialError : TooManyAttemptsError);
      const held = refundsLeft ? afterBurst : afterBurst + 1;
      expect(await inWindow()).toHaveLength(held);
      if (held < PROOF_ATTEMPTS_PER_WINDOW) {
        // A fresh challenge and assertion work at once (keyProof moves the clock 10 s: well inside the window).
        await expect(t.service.verify(actor, await keyProof(key))).resolves.toMatchObject({ method: 'webauthn' });
        expect(await inWindow()).toHaveLength(held + 1);
      }
    });

    it('refuses another assertion over a spent challenge as spent: invalid_credential, audited as a replay, its slot given back', async () => {
      const key = new SoftwareAuthenticator({ counter: 5 });
      await registerKey(key);
      t.clock.advance(10_000);
      const { options } = await t.service.startWebAuthnChallenge(actor);
      await t.service.verify(actor, { webauthn: key.assert(options) });
      const before = withoutCounters(await item());
      const slots = ((await t.deps.store.get(actor.userId))?.proofTimes ?? []).filter((time) => time > 0).length;
      await expect(t.service.verify(actor, { webauthn: key.assert(options) })).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(withoutCounters(await item())).toBe(before);
      expect(t.audit.events.at(-1)).toMatchObject({ event: 'mfa.code.replay_refused', method: 'webauthn', outcome: 'refused' });
      expect(((await t.deps.store.get(actor.userId))?.proofTimes ?? []).filter((time) => time > 0).length).toBe(slots);
    });

    it('counts a response to the spent challenge that the key did not sign', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      const factor = await keyProof(key);
      await t.service.verify(actor, factor);
      const forged = { webauthn: { ...factor.webauthn, response: { ...factor.webauthn.response, signature: Buffer.alloc(64, 1).toString('base64url') } } };
      const before = ((await t.deps.store.get(actor.userId))?.proofTimes ?? []).filter((time) => time > 0).length;
      await expect(t.service.verify(actor, forged)).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(((await t.deps.store.get(actor.userId))?.proofTimes ?? []).filter((time) => time > 0).length).toBe(before + 1);
    });

    it('is not refused by a code lockout: keys count in their own lane', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      await addApp(await keyProof(key));
      for (let i = 0; i < 5; i++) await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(TooManyAttemptsError);
      await expect(t.service.verify(actor, await keyProof(key))).resolves.toMatchObject({ method: 'webauthn' });
    });

    it('limits key checks to 10 a minute (the proof lane of recovery codes), and a refusal leaves the challenge usable', async () => {
      const key = new SoftwareAuthenticator();
      await registerKey(key);
      const { options } = await t.service.startWebAuthnChallenge(actor);
      for (let i = 0; i < 10; i++) await expect(t.service.verify(actor, { webauthn: key.assert(options, { badSignature: true }) })).rejects.toBeInstanceOf(InvalidCredentialError);
      await expect(t.service.verify(actor, { webauthn: key.assert(options) })).rejects.toBeInstanceOf(TooManyAttemptsError);
      t.clock.advance(60_000);
      await expect(t.service.verify(actor, { webauthn: key.assert(options) })).resolves.toMatchObject({ method: 'webauthn' });
    });
  });

  describe('a key as the proof of the other step-ups', () => {
    it('regenerates recovery codes, disables the apps and removes an authenticator with a key', async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key);
      const { recoveryCodes } = await t.service.regenerateRecoveryCodes(actor, await keyProof(key));
      expect(recoveryCodes).toHaveLength(10);
      await expect(t.service.verify(actor, { recoveryCode: confirmed.recoveryCodes![0]! })).rejects.toBeInstanceOf(InvalidCodeError);
      await addApp(await keyProof(key));
      await expect(t.service.disableTotp(actor, await keyProof(key))).resolves.toEqual({ mfaEnabled: true });
      const removed = await t.service.removeAuthenticator(actor, confirmed.authenticator.id, await keyProof(key));
      expect(removed).toEqual({ mfaEnabled: false, authenticators: [] });
    });

    it('refuses a wrong key proof at each step-up as invalid_credential, changing nothing', async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key);
      await addApp(await keyProof(key));
      const attempts: Array<(factor: SecondFactor) => Promise<unknown>> = [
        (f) => t.service.regenerateRecoveryCodes(actor, f),
        (f) => t.service.disableTotp(actor, f),
        (f) => t.service.removeAuthenticator(actor, confirmed.authenticator.id, f),
        (f) => t.service.startWebAuthnRegistration(actor, f),
        (f) => t.service.startTotpEnrollment(actor, f),
      ];
      for (const attempt of attempts) {
        const factor = await keyProof(key, { badSignature: true });
        const before = withoutCounters(await item());
        await expect(attempt(factor)).rejects.toBeInstanceOf(InvalidCredentialError);
        expect(withoutCounters(await item())).toBe(before);
      }
    });
  });

  describe('several authenticator apps', () => {
    it('needs a proof for a second app: totp_already_enabled with an app on, step_up_required with only keys', async () => {
      const { secret } = await addApp();
      await expect(t.service.startTotpEnrollment(actor)).rejects.toBeInstanceOf(TotpAlreadyEnabledError);
      const keysOnly = newActor();
      const key = new SoftwareAuthenticator();
      await registerKey(key, { who: keysOnly });
      await expect(t.service.startTotpEnrollment(keysOnly)).rejects.toBeInstanceOf(StepUpRequiredError);
      await expect(t.service.startTotpEnrollment(keysOnly, await keyProof(key, {}, keysOnly))).resolves.toHaveProperty('secret');
      await expect(t.service.startTotpEnrollment(actor, { code: codeAt(secret, t.clock) })).resolves.toHaveProperty('secret');
    });

    it('names the apps, checks a code against each, and keeps replay protection per app', async () => {
      const first = await addApp(undefined, 'Phone');
      const second = await addApp({ code: codeAt(first.secret, t.clock) }, 'Tablet');
      expect(second.recoveryCodes).toBeUndefined();
      const status = await t.service.status(actor);
      expect(status.methods.totp).toMatchObject({ enabled: true, count: 2 });
      expect(status.authenticators.map((a) => [a.kind, a.name])).toEqual([
        ['totp', 'Phone'],
        ['totp', 'Tablet'],
      ]);
      t.clock.advance(30_000);
      // One step, two apps: each code works once.
      const fromFirst = codeAt(first.secret, t.clock);
      const fromSecond = codeAt(second.secret, t.clock);
      await expect(t.service.verify(actor, { code: fromSecond })).resolves.toMatchObject({ method: 'totp' });
      await expect(t.service.verify(actor, { code: fromFirst })).resolves.toMatchObject({ method: 'totp' });
      await expect(t.service.verify(actor, { code: fromSecond })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(actor, { code: fromFirst })).rejects.toBeInstanceOf(InvalidCodeError);
      const apps = storedApps(await item());
      expect(apps.map((app) => app.lastStep)).toEqual([Math.floor(t.clock.now() / 30_000), Math.floor(t.clock.now() / 30_000)]);
    });

    it('disable removes every app but keeps a key and the recovery codes; without a key it takes the codes too', async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key);
      const app = await addApp(await keyProof(key));
      await addApp({ code: codeAt(app.secret, t.clock) });
      await expect(t.service.disableTotp(actor, await keyProof(key))).resolves.toEqual({ mfaEnabled: true });
      const status = await t.service.status(actor);
      expect(status.methods).toEqual({ totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: true, count: 1 }, email: { enabled: false, count: 0 } });
      expect(status.recoveryCodes.remaining).toBe(10);
      await expect(t.service.verify(actor, { recoveryCode: confirmed.recoveryCodes![0]! })).resolves.toBeDefined();

      const appsOnly = newActor();
      const a = await addApp(undefined, undefined, appsOnly);
      await addApp({ code: codeAt(a.secret, t.clock) }, undefined, appsOnly);
      await expect(t.service.disableTotp(appsOnly, { code: codeAt(a.secret, t.clock) })).resolves.toEqual({ mfaEnabled: false });
      const gone = (await item(appsOnly))!;
      expect(gone.recoveryCodes).toBeUndefined();
      expect(gone.authenticators).toBeUndefined();
    });
  });

  describe('managing authenticators', () => {
    it('renames one without a proof; an unknown id is authenticator_not_found', async () => {
      const { confirmed } = await registerKey();
      const renamed = await t.service.renameAuthenticator(actor, confirmed.authenticator.id, 'Keychain key');
      expect(renamed).toEqual({ ...confirmed.authenticator, name: 'Keychain key' });
      expect((await t.service.status(actor)).authenticators[0]!.name).toBe('Keychain key');
      await expect(t.service.renameAuthenticator(actor, 'no-such-id', 'x')).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
      await expect(t.service.renameAuthenticator(newActor(), confirmed.authenticator.id, 'x')).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
    });

    it('removes one with a proof; removing the last turns MFA off and deletes the recovery codes', async () => {
      const key = new SoftwareAuthenticator();
      const { confirmed } = await registerKey(key);
      const app = await addApp(await keyProof(key));
      const appId = (await t.service.status(actor)).authenticators.find((a) => a.kind === 'totp')!.id;
      await expect(t.service.removeAuthenticator(actor, 'no-such-id', await keyProof(key))).rejects.toBeInstanceOf(AuthenticatorNotFoundError);
      const left = await t.service.removeAuthenticator(actor, appId, await keyProof(key));
      expect(left).toEqual({ mfaEnabled: true, authenticators: [expect.objectContaining({ id: confirmed.authenticator.id })] });
      await expect(t.service.verify(actor, { code: codeAt(app.secret, t.clock) })).rejects.toBeInstanceOf(InvalidCodeError);
      // The last one, proved by itself.
      await expect(t.service.removeAuthenticator(actor, confirmed.authenticator.id, await keyProof(key))).resolves.toEqual({ mfaEnabled: false, authenticators: [] });
      const stored = (await item())!;
      expect(stored.recoveryCodes).toBeUndefined();
      expect(stored.authenticators).toBeUndefined();
      // The challenge key and the spent challenges go with the last authenticator (the last key's spend is not written: nothing would be left to spend it in).
      expect(stored.webauthnChallengeKey).toBeUndefined();
      expect(stored.webauthnSpentChallenges).toBeUndefined();
      expect(t.audit.names()).toContain('mfa.disabled');
      await expect(t.service.verify(actor, { recoveryCode: confirmed.recoveryCodes![0]! })).rejects.toBeInstanceOf(MfaNotEnabledError);
      await expect(t.service.startWebAuthnChallenge(actor)).rejects.toBeInstanceOf(WebAuthnNotEnabledError);
      // MFA is off again: a key registers without a proof, with new recovery codes.
      await expect(registerKey(key).then((r) => r.confirmed.recoveryCodes)).resolves.toHaveLength(10);
    });
  });

  describe('an item written by version 1', () => {
    async function writeVersion1Item(who: Actor) {
      const secret = generateTotpSecret(cryptoRandom);
      const codes = generateRecoveryCodes(cryptoRandom);
      const sealed = await t.deps.sealer.seal(secret, { purpose: TOTP_SECRET_PURPOSE, userId: who.userId });
      const enabledAt = t.clock.now() - 86_400_000;
      await t.client.send(
        new PutItemCommand({
          TableName: t.tableName,
          Item: {
            ...userKey(who.userId),
            totpSecret: { B: sealed },
            totpEnabledAt: { N: String(enabledAt) },
            lastStep: { N: String(Math.floor(enabledAt / 30_000)) },
            recoveryCodes: { SS: await hashRecoveryCodes(codes, cryptoRandom) },
            failures: { N: '0' },
            windowStart: { N: String(enabledAt) },
            windowFailures: { N: '0' },
          },
        }),
      );
      return { secret: toBase32(secret), codes, enabledAt };
    }

    it('signs in with its app and is rewritten in today\'s shape', async () => {
      const v1 = await writeVersion1Item(actor);
      expect(await t.service.status(actor)).toMatchObject({
        mfaEnabled: true,
        methods: { totp: { enabled: true, count: 1, enrolledAt: new Date(v1.enabledAt).toISOString() }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
        recoveryCodes: { remaining: 10 },
        authenticators: [{ id: LEGACY_TOTP_ID, kind: 'totp', name: 'Authenticator app' }],
      });
      await expect(t.service.verify(actor, { code: codeAt(v1.secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
      const migrated = (await item())!;
      expect(migrated.totpSecret).toBeUndefined();
      expect(migrated.lastStep).toBeUndefined();
      expect(migrated.totpEnabledAt).toBeUndefined();
      expect(storedApps(migrated)).toEqual([{ id: LEGACY_TOTP_ID, secret: expect.anything(), lastStep: Math.floor(t.clock.now() / 30_000) }]);
      // The same code is spent after the move, the recovery codes still work, and a key can join with a proof.
      await expect(t.service.verify(actor, { code: codeAt(v1.secret, t.clock) })).rejects.toBeInstanceOf(InvalidCodeError);
      await expect(t.service.verify(actor, { recoveryCode: v1.codes[0]! })).resolves.toMatchObject({ recoveryCodesRemaining: 9 });
      t.clock.advance(30_000);
      await expect(registerKey(new SoftwareAuthenticator(), { factor: { code: codeAt(v1.secret, t.clock) } })).resolves.toBeDefined();
      expect((await t.service.status(actor)).authenticators.map((a) => a.kind)).toEqual(['totp', 'webauthn']);
    });

    it('signs in with a recovery code (its first rate window starts then) and is rewritten', async () => {
      const v1 = await writeVersion1Item(actor);
      await expect(t.service.verify(actor, { recoveryCode: v1.codes[5]! })).resolves.toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 9 });
      const migrated = (await item())!;
      expect(migrated.totpSecret).toBeUndefined();
      expect(Object.keys(migrated.authenticators!.M!)).toEqual([LEGACY_TOTP_ID]);
      // The ceiling window of today's length; the session's own window came with its first check.
      expect(migrated.proofTimes!.L).toHaveLength(100);
      expect(Object.values(migrated.sessions!.M!)).toHaveLength(1);
      await expect(t.service.verify(actor, { code: codeAt(v1.secret, t.clock) })).resolves.toMatchObject({ method: 'totp' });
    });

    it('renames and removes its app (the item is rewritten first)', async () => {
      const v1 = await writeVersion1Item(actor);
      await expect(t.service.renameAuthenticator(actor, LEGACY_TOTP_ID, 'Old phone')).resolves.toMatchObject({ id: LEGACY_TOTP_ID, name: 'Old phone' });
      expect((await item())!.totpSecret).toBeUndefined();
      expect((await t.service.status(actor)).authenticators).toEqual([expect.objectContaining({ id: LEGACY_TOTP_ID, name: 'Old phone' })]);
      await expect(t.service.removeAuthenticator(actor, LEGACY_TOTP_ID, { recoveryCode: v1.codes[1]! })).resolves.toEqual({ mfaEnabled: false, authenticators: [] });
      expect((await item())!.recoveryCodes).toBeUndefined();
    });

    it('removes its app straight away with a code, turning MFA off', async () => {
      const v1 = await writeVersion1Item(actor);
      await expect(t.service.removeAuthenticator(actor, LEGACY_TOTP_ID, { code: codeAt(v1.secret, t.clock) })).resolves.toEqual({ mfaEnabled: false, authenticators: [] });
      const stored = (await item())!;
      expect(stored.totpSecret).toBeUndefined();
      expect(stored.authenticators).toBeUndefined();
      expect(stored.recoveryCodes).toBeUndefined();
    });

    it('registers a key with a code of its app: the item is rewritten first', async () => {
      const v1 = await writeVersion1Item(actor);
      const { confirmed } = await registerKey(new SoftwareAuthenticator(), { factor: { code: codeAt(v1.secret, t.clock) } });
      expect(confirmed.recoveryCodes).toBeUndefined();
      const stored = (await item())!;
      expect(stored.totpSecret).toBeUndefined();
      expect(Object.keys(stored.authenticators!.M!).sort()).toEqual([LEGACY_TOTP_ID, confirmed.authenticator.id].sort());
    });
  });
});
