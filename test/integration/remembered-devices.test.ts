import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeviceNotFoundError, DeviceProofNotAcceptedError, InvalidCredentialError, RememberDeviceRefusedError } from '../../functions/domain/errors.js';
import type { Actor, SecondFactor } from '../../functions/service/mfa-service.js';
import { SoftwareAuthenticator } from '../../harness/software-authenticator.js';
import { changeEventsOf } from '../support/change-events.js';
import { DeviceKey } from '../../harness/device-key.js';
import { codeAt, createTestService, newActor, otherSessionOf, TEST_SETTINGS } from '../support/service.js';
import { canonicalItem, readUserItem, type Item } from '../support/table-snapshot.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;

const DAY_MS = 24 * 3600_000;
/** What an attempt may change on a refusal: its own counters (and the write bookkeeping). */
const ATTEMPT_COUNTERS = ['failures', 'windowStart', 'windowFailures', 'lockedUntil', 'proofTimes', 'sessions', 'ceilingReportedAt', 'lastWriteId', 'outbox', 'ttl'];
const withoutCounters = (item: Item | undefined) =>
  canonicalItem(item && Object.fromEntries(Object.entries(item).filter(([name]) => !ATTEMPT_COUNTERS.includes(name))));
/** The support role the test settings name (admitted as the handlers admit a caller). */
const operator = { principal: 'arn:aws:iam::111122223333:role/support', audit: { requestId: 'req-admin', sourceIp: '198.51.100.9' } };

describe('remembered browsers (service on DynamoDB Local)', () => {
  let t: TestService;
  let actor: Actor;
  let secret: string;
  beforeEach(async () => {
    t ??= await createTestService();
    actor = newActor();
    const started = await t.service.startTotpEnrollment(actor);
    secret = started.secret;
    await t.service.confirmTotpEnrollment(actor, codeAt(secret, t.clock));
  });

  const item = (who: Actor = actor) => readUserItem(t.client, t.tableName, who.userId);
  /** A code of the next time step (each code is good once). */
  const nextCode = (): SecondFactor => {
    t.clock.advance(30_000);
    return { code: codeAt(secret, t.clock) };
  };

  async function remember(key = new DeviceKey(), name?: string, who: Actor = actor) {
    const verified = await t.service.verify(who, nextCode(), undefined, { publicKey: key.publicJwk, ...(name ? { name } : {}) });
    return { key, device: verified.device!, verified };
  }

  /** A device proof over a fresh challenge of `who`'s session (10 s apart, so the proof lane's limit is never the point). */
  async function deviceProof(key: DeviceKey, deviceId: string, who: Actor = actor) {
    t.clock.advance(10_000);
    const { challenge } = await t.service.startDeviceChallenge(who, deviceId);
    return key.proof(deviceId, challenge);
  }

  it('remembers a browser with a sign-in, then signs in with it: method device, amr mfa+swk, remembered, auth_time of the real factor', async () => {
    const rememberedAt = t.clock.now() + 30_000;
    const { key, device, verified } = await remember(new DeviceKey(), 'Chrome on Linux');
    expect(device).toEqual({ id: expect.any(String), name: 'Chrome on Linux', expiresAt: new Date(rememberedAt + 30 * DAY_MS).toISOString() });
    const firstClaims = decodeJwt(verified.assertion);
    expect(firstClaims.auth_time).toBe(firstClaims.iat);
    expect(firstClaims).not.toHaveProperty('remembered');

    t.clock.advance(3 * DAY_MS);
    const signedIn = await t.service.verify(actor, await deviceProof(key, device.id), 'n-1');
    expect(signedIn).toMatchObject({ method: 'device', recoveryCodesRemaining: 10 });
    const claims = decodeJwt(signedIn.assertion);
    expect(claims).toMatchObject({ amr: ['mfa', 'swk'], remembered: true, auth_time: Math.floor(rememberedAt / 1000), nonce: 'n-1', sub: actor.userId });
    expect(claims.iat).toBeGreaterThan(claims.auth_time as number);
    expect(claims).not.toHaveProperty('acr');

    const status = await t.service.status(actor);
    expect(status.devices).toEqual([
      {
        id: device.id,
        name: 'Chrome on Linux',
        app: 'acme-app',
        createdAt: new Date(rememberedAt).toISOString(),
        lastUsedAt: new Date(t.clock.now()).toISOString(),
        expiresAt: device.expiresAt,
      },
    ]);
    expect(t.audit.names()).toEqual(expect.arrayContaining(['mfa.device.remembered', 'mfa.device.challenge.started']));
  });

  it('names a browser "Browser" by default and fixes its expiry: use does not extend it', async () => {
    const { key, device } = await remember();
    expect(device.name).toBe('Browser');
    t.clock.advance(10 * DAY_MS);
    await t.service.verify(actor, await deviceProof(key, device.id));
    expect((await t.service.status(actor)).devices[0]!.expiresAt).toBe(device.expiresAt);
  });

  it('puts acr phrh on a device-bound key assertion and auth_time = iat on every fresh proof', async () => {
    const authenticator = new SoftwareAuthenticator();
    const started = await t.service.startWebAuthnRegistration(actor, nextCode());
    await t.service.confirmWebAuthnRegistration(actor, authenticator.register(started.options));
    t.clock.advance(10_000);
    const { options } = await t.service.startWebAuthnChallenge(actor);
    const claims = decodeJwt((await t.service.verify(actor, { webauthn: authenticator.assert(options) })).assertion);
    expect(claims).toMatchObject({ acr: 'phrh', auth_time: claims.iat });
  });

  describe('refuses a device proof, changing nothing but the attempt counters', () => {
    it.each<[string, (key: DeviceKey, id: string) => Promise<{ proof: SecondFactor; who?: Actor }>]>([
      ['signed by another key', async (_key, id) => ({ proof: await deviceProof(new DeviceKey(), id) })],
      [
        'over a spent (replayed) challenge',
        async (key, id) => {
          const proof = await deviceProof(key, id);
          await t.service.verify(actor, proof);
          return { proof };
        },
      ],
      [
        "over another session's challenge",
        async (key, id) => ({ proof: await deviceProof(key, id), who: otherSessionOf(actor) }),
      ],
      [
        'of a browser that expired (the challenge still pending)',
        async (key, id) => {
          t.clock.advance(30 * DAY_MS - 60_000);
          const proof = await deviceProof(key, id);
          t.clock.advance(60_000);
          return { proof };
        },
      ],
      [
        'of a forgotten browser',
        async (key, id) => {
          const proof = await deviceProof(key, id);
          await t.service.forgetDevice(actor, id);
          return { proof };
        },
      ],
      [
        "of another app's browser (same session)",
        async (key, id) => ({ proof: await deviceProof(key, id), who: { ...actor, audience: 'other-app' } }),
      ],
      [
        'over an expired challenge',
        async (key, id) => {
          const proof = await deviceProof(key, id);
          t.clock.advance(2 * 60_000);
          return { proof };
        },
      ],
    ])('%s: invalid_credential', async (_, arrange) => {
      const { key, device } = await remember();
      const { proof, who = actor } = await arrange(key, device.id);
      const before = withoutCounters(await item());
      await expect(t.service.verify(who, proof)).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(withoutCounters(await item())).toBe(before);
      expect(t.audit.names()).toContain('mfa.verify.failed');
    });

    it('as the step-up of regenerating codes, removing or disabling: refused before anything is counted', async () => {
      const { key, device } = await remember();
      const proof = await deviceProof(key, device.id);
      const before = canonicalItem(await item());
      const appId = (await t.service.status(actor)).authenticators[0]!.id;
      await expect(t.service.regenerateRecoveryCodes(actor, proof)).rejects.toBeInstanceOf(DeviceProofNotAcceptedError);
      await expect(t.service.removeAuthenticator(actor, appId, proof)).rejects.toBeInstanceOf(DeviceProofNotAcceptedError);
      await expect(t.service.disableTotp(actor, proof)).rejects.toBeInstanceOf(DeviceProofNotAcceptedError);
      await expect(t.service.startWebAuthnRegistration(actor, proof)).rejects.toBeInstanceOf(DeviceProofNotAcceptedError);
      expect(canonicalItem(await item())).toBe(before);
      // Still good for a sign-in afterwards: nothing was spent.
      await expect(t.service.verify(actor, proof)).resolves.toMatchObject({ method: 'device' });
    });

    it('with rememberDevice (a remembered browser never remembers another)', async () => {
      const { key, device } = await remember();
      const proof = await deviceProof(key, device.id);
      const before = canonicalItem(await item());
      await expect(t.service.verify(actor, proof, undefined, { publicKey: new DeviceKey().publicJwk })).rejects.toBeInstanceOf(RememberDeviceRefusedError);
      expect(canonicalItem(await item())).toBe(before);
    });
  });

  it('answers device_not_found for a challenge of an unknown, expired, forgotten or other app\'s browser', async () => {
    const { device } = await remember();
    await expect(t.service.startDeviceChallenge(actor, 'no-such-device')).rejects.toBeInstanceOf(DeviceNotFoundError);
    await expect(t.service.startDeviceChallenge({ ...actor, audience: 'other-app' }, device.id)).rejects.toBeInstanceOf(DeviceNotFoundError);
    t.clock.advance(30 * DAY_MS + 30_000);
    await expect(t.service.startDeviceChallenge(actor, device.id)).rejects.toBeInstanceOf(DeviceNotFoundError);
    const other = await remember();
    await t.service.forgetDevice(actor, other.device.id);
    await expect(t.service.startDeviceChallenge(actor, other.device.id)).rejects.toBeInstanceOf(DeviceNotFoundError);
  });

  it('refuses a private JWK and refuses remembering when rememberDeviceDays is 0, spending nothing', async () => {
    const key = new DeviceKey();
    const before = canonicalItem(await item());
    await expect(t.service.verify(actor, nextCode(), undefined, { publicKey: key.privateJwk() })).rejects.toBeInstanceOf(RememberDeviceRefusedError);
    await expect(t.service.verify(actor, nextCode(), undefined, { publicKey: { ...key.publicJwk, x: key.publicJwk.y.replace(/^./, 'A') } })).rejects.toBeInstanceOf(
      RememberDeviceRefusedError,
    );
    expect(canonicalItem(await item())).toBe(before);

    const off = await createTestService({ settings: { ...TEST_SETTINGS, rememberDeviceDays: 0 } });
    const user = newActor();
    const started = await off.service.startTotpEnrollment(user);
    await off.service.confirmTotpEnrollment(user, codeAt(started.secret, off.clock));
    off.clock.advance(30_000);
    await expect(off.service.verify(user, { code: codeAt(started.secret, off.clock) }, undefined, { publicKey: key.publicJwk })).rejects.toBeInstanceOf(
      RememberDeviceRefusedError,
    );
  });

  it('keeps one pending challenge per session: a new one replaces it, and each session signs its own', async () => {
    const { key, device } = await remember();
    const first = await deviceProof(key, device.id);
    const second = await deviceProof(key, device.id);
    await expect(t.service.verify(actor, first)).rejects.toBeInstanceOf(InvalidCredentialError);
    const otherSession = otherSessionOf(actor);
    const theirs = await deviceProof(key, device.id, otherSession);
    await expect(t.service.verify(actor, second)).resolves.toMatchObject({ method: 'device' });
    await expect(t.service.verify(otherSession, theirs)).resolves.toMatchObject({ method: 'device' });
  });

  describe('forgetting', () => {
    it('forgets one browser, then all of them, with events and audit lines saying why', async () => {
      const a = await remember();
      const b = await remember();
      const c = await remember();
      const left = await t.service.forgetDevice(actor, a.device.id);
      expect(left.devices.map((device) => device.id)).toEqual([b.device.id, c.device.id]);
      await expect(t.service.forgetDevice(actor, a.device.id)).rejects.toBeInstanceOf(DeviceNotFoundError);
      expect(await t.service.forgetAllDevices(actor)).toEqual({ devices: [] });
      expect((await t.service.status(actor)).devices).toEqual([]);
      expect(await t.service.forgetAllDevices(actor)).toEqual({ devices: [] });

      const events = (await changeEventsOf(t.tableName, actor.userId)).filter((event) => event.event.startsWith('device.'));
      expect(events.map(({ event, deviceId, reason }) => ({ event, deviceId, reason }))).toEqual([
        { event: 'device.remembered', deviceId: a.device.id, reason: undefined },
        { event: 'device.remembered', deviceId: b.device.id, reason: undefined },
        { event: 'device.remembered', deviceId: c.device.id, reason: undefined },
        { event: 'device.forgotten', deviceId: a.device.id, reason: 'user_forgot' },
        { event: 'device.forgotten', deviceId: b.device.id, reason: 'user_forgot_all' },
        { event: 'device.forgotten', deviceId: c.device.id, reason: 'user_forgot_all' },
      ]);
      const forgotten = t.audit.events.filter((event) => event.event === 'mfa.device.forgotten' && event.userId === actor.userId);
      expect(forgotten.map(({ deviceId, reason }) => [deviceId, reason])).toEqual([
        [a.device.id, 'user_forgot'],
        [b.device.id, 'user_forgot_all'],
        [c.device.id, 'user_forgot_all'],
      ]);
    });

    it('forgets every browser when an authenticator is removed', async () => {
      const authenticator = new SoftwareAuthenticator();
      const started = await t.service.startWebAuthnRegistration(actor, nextCode());
      const { authenticator: keyView } = await t.service.confirmWebAuthnRegistration(actor, authenticator.register(started.options));
      const { key, device } = await remember();
      const pending = await deviceProof(key, device.id);
      await t.service.removeAuthenticator(actor, keyView.id, nextCode());
      expect((await t.service.status(actor)).devices).toEqual([]);
      expect((await item())?.deviceChallenges).toBeUndefined();
      await expect(t.service.verify(actor, pending)).rejects.toBeInstanceOf(InvalidCredentialError);
      const events = await changeEventsOf(t.tableName, actor.userId);
      expect(events.at(-1)).toMatchObject({ event: 'device.forgotten', deviceId: device.id, reason: 'authenticator_removed' });
    });

    it('forgets every browser when MFA is turned off', async () => {
      const { device } = await remember();
      await t.service.disableTotp(actor, nextCode());
      expect((await item())?.devices).toBeUndefined();
      const events = await changeEventsOf(t.tableName, actor.userId);
      expect(events.at(-1)).toMatchObject({ event: 'device.forgotten', deviceId: device.id, reason: 'mfa_disabled' });
    });

    it('forgets every browser on an admin reset, in the reset\'s own write', async () => {
      const { device } = await remember();
      const status = await t.service.adminReset(t.service.admitOperator(operator, actor.userId), actor.userId, 'ticket 7');
      expect(status).toMatchObject({ mfaEnabled: false, devices: [], authenticators: [] });
      expect((await item())?.devices).toBeUndefined();
      const events = await changeEventsOf(t.tableName, actor.userId);
      expect(events.slice(-2)).toMatchObject([
        { event: 'admin.reset' },
        { event: 'device.forgotten', deviceId: device.id, reason: 'admin_reset' },
      ]);
      expect(events.at(-1)!.id.split(':')[0]).toBe(events.at(-2)!.id.split(':')[0]);
    });

    it('keeps at most 20: the 21st forgets the oldest (event limit_reached)', async () => {
      const remembered: string[] = [];
      for (let i = 0; i < 21; i++) remembered.push((await remember()).device.id);
      const ids = (await t.service.status(actor)).devices.map((device) => device.id);
      expect(ids).toHaveLength(20);
      expect(ids).toEqual(remembered.slice(1));
      const events = await changeEventsOf(t.tableName, actor.userId);
      expect(events.slice(-2)).toMatchObject([
        { event: 'device.forgotten', deviceId: remembered[0], reason: 'limit_reached' },
        { event: 'device.remembered', deviceId: remembered[20] },
      ]);
    });
  });
});
