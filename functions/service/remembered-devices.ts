import type { ChangeEvent, DeviceForgottenReason } from '../domain/change-events.js';
import { ContentionError, DeviceNotFoundError, RememberDeviceRefusedError } from '../domain/errors.js';
import { activeDevices, type MfaRecord, type RememberedDevice } from '../domain/mfa-record.js';
import {
  challengesToDrop,
  DEFAULT_DEVICE_NAME,
  DEVICE_CHALLENGE_BYTES,
  DEVICE_CHALLENGE_TTL_MS,
  DEVICE_ID_BYTES,
  devicePublicKeyOf,
  devicesToForget,
  usableDevice,
} from '../methods/device/device.js';
import type { ProofEffect } from '../ports/mfa-store.js';
import { audit, iso, type Actor, type MfaServiceDeps } from './context.js';

const MAX_ROUNDS = 16;
const DAY_MS = 24 * 3600_000;

/** What a sign-in asks to remember: the browser's public JWK and a name for it. */
export interface RememberDeviceRequest {
  publicKey: Record<string, unknown>;
  name?: string | undefined;
}

/** One remembered browser as its owner sees it: never its key. */
export interface DeviceView {
  id: string;
  name: string;
  app: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
}

export interface DeviceChallengeStarted {
  challenge: string;
  expiresAt: string;
}

export const deviceView = (device: RememberedDevice): DeviceView => ({
  id: device.id,
  name: device.name,
  app: device.app,
  createdAt: iso(device.createdAt)!,
  lastUsedAt: iso(device.lastUsedAt),
  expiresAt: iso(device.expiresAt)!,
});

/** The remembered browsers the user sees at `now` (every app's), oldest first. */
export const deviceViews = (record: MfaRecord | undefined, now: number): DeviceView[] => activeDevices(record, now).map(deviceView);

/** The change event of each forgotten browser, with why. */
export const forgottenEvents = (actor: Pick<Actor, 'audit'>, ids: ReadonlyArray<{ id: string; reason: DeviceForgottenReason }>): ChangeEvent[] =>
  ids.map(({ id, reason }) => ({ event: 'device.forgotten', requestId: actor.audit.requestId, sourceIp: actor.audit.sourceIp, deviceId: id, reason }));

/**
 * A browser to remember with a sign-in's proof: checked before the proof is (a refused request
 * costs no attempt), written by the proof's own commit (see `rememberEffect`).
 */
export function newRememberedDevice(deps: Pick<MfaServiceDeps, 'random' | 'settings'>, actor: Actor, request: RememberDeviceRequest): (now: number) => RememberedDevice {
  const days = deps.settings.rememberDeviceDays;
  if (days === 0) throw new RememberDeviceRefusedError('Remembering a browser is turned off for this service.');
  const publicKey = devicePublicKeyOf(request.publicKey);
  if (!publicKey) throw new RememberDeviceRefusedError('rememberDevice.publicKey must be an ES256 public JWK (kty EC, crv P-256, x, y; no d).');
  const id = Buffer.from(deps.random.bytes(DEVICE_ID_BYTES)).toString('base64url');
  return (now) => ({
    id,
    name: request.name ?? DEFAULT_DEVICE_NAME,
    app: actor.audience ?? '',
    publicKey,
    createdAt: now,
    // Fixed now: the expiry never slides with use.
    expiresAt: now + days * DAY_MS,
    authTime: now,
  });
}

/** The effect and events of remembering `device` on `record` (expired ones and the oldest past the limit go). */
export function rememberEffect(actor: Actor, record: MfaRecord, device: RememberedDevice, now: number): { effect: ProofEffect; events: ChangeEvent[] } {
  const forget = devicesToForget(record, now);
  return {
    effect: { kind: 'remember_device', device, forget: forget.map(({ id }) => id), deviceCount: record.devices?.length ?? 0 },
    events: [...forgottenEvents(actor, forget), { event: 'device.remembered', requestId: actor.audit.requestId, sourceIp: actor.audit.sourceIp, deviceId: device.id }],
  };
}

/** Audit lines of a remembered browser and of the ones it pushed out. */
export function auditRemembered(deps: Pick<MfaServiceDeps, 'audit'>, actor: Actor, record: MfaRecord, device: RememberedDevice, now: number): void {
  for (const { id, reason } of devicesToForget(record, now)) audit(deps, actor, 'mfa.device.forgotten', 'success', { deviceId: id, reason });
  audit(deps, actor, 'mfa.device.remembered', 'success', { method: 'device', deviceId: device.id });
}

/** Remembered browsers: the challenge a browser signs, and forgetting (no proof: forgetting only takes access away). */
export class RememberedDevices {
  constructor(private readonly deps: MfaServiceDeps) {}

  /** A fresh challenge for one of the user's browsers remembered for this app, replacing this session's pending one. */
  async challenge(actor: Actor, deviceId: string): Promise<DeviceChallengeStarted> {
    const { store, clock, random, settings } = this.deps;
    const app = actor.audience ?? '';
    const challenge = Buffer.from(random.bytes(DEVICE_CHALLENGE_BYTES)).toString('base64url');
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      const record = await store.get(actor.userId);
      if (settings.rememberDeviceDays === 0 || !usableDevice(record, deviceId, app, now)) throw new DeviceNotFoundError();
      const pending = { sessionId: actor.sessionId, deviceId, app, challenge, expiresAt: now + DEVICE_CHALLENGE_TTL_MS };
      const drop = challengesToDrop(record, actor.sessionId, now);
      const result = await store.putDeviceChallenge(actor.userId, { pending, drop, pendingCount: record?.deviceChallenges?.length ?? 0 }, now);
      if (result === 'conflict') continue;
      audit(this.deps, actor, 'mfa.device.challenge.started', 'success', { method: 'device', deviceId });
      return { challenge, expiresAt: new Date(pending.expiresAt).toISOString() };
    }
    throw new ContentionError();
  }

  /** Forgets one remembered browser (of any app: the user sees them all). */
  async forget(actor: Actor, deviceId: string): Promise<{ devices: DeviceView[] }> {
    return this.forgetSome(actor, (record, now) => {
      if (!activeDevices(record, now).some((device) => device.id === deviceId)) throw new DeviceNotFoundError();
      return [{ id: deviceId, reason: 'user_forgot' }];
    });
  }

  /** Forgets every remembered browser. */
  async forgetAll(actor: Actor): Promise<{ devices: DeviceView[] }> {
    return this.forgetSome(actor, (record) => (record?.devices ?? []).map((device) => ({ id: device.id, reason: 'user_forgot_all' })));
  }

  private async forgetSome(
    actor: Actor,
    choose: (record: MfaRecord | undefined, now: number) => Array<{ id: string; reason: DeviceForgottenReason }>,
  ): Promise<{ devices: DeviceView[] }> {
    const { store, clock } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      const record = await store.get(actor.userId);
      const forget = choose(record, now);
      const left = (record?.devices ?? []).filter((device) => !forget.some(({ id }) => id === device.id));
      if (forget.length === 0) return { devices: deviceViews(record, now) };
      const events = forgottenEvents(actor, forget);
      const result = await store.forgetDevices(actor.userId, forget.map(({ id }) => id), record?.devices?.length ?? 0, now, events);
      if (result === 'conflict') continue;
      for (const { id, reason } of forget) audit(this.deps, actor, 'mfa.device.forgotten', 'success', { deviceId: id, reason });
      return { devices: left.filter((device) => device.expiresAt > now).map(deviceView) };
    }
    throw new ContentionError();
  }
}
