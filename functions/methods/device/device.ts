import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { activeDevices, type DevicePublicKey, type MfaRecord, type PendingDeviceChallenge, type RememberedDevice } from '../../domain/mfa-record.js';
import { MAX_PENDING_PER_USER } from '../../domain/sessions.js';
import type { Proof } from '../../ports/mfa-store.js';
import type { Evaluation } from '../evaluation.js';

/**
 * Remembered browsers: a browser keeps an ECDSA P-256 key that WebCrypto made non-extractable
 * and proves it holds it by signing a challenge. The service keeps the public key only.
 */

/** Random bytes of a device challenge (base64url on the wire). */
export const DEVICE_CHALLENGE_BYTES = 32;
/** A device challenge is good for 2 minutes. */
export const DEVICE_CHALLENGE_TTL_MS = 2 * 60_000;
/** At most this many remembered browsers per user: remembering one more forgets the oldest. */
export const MAX_REMEMBERED_DEVICES = 20;
/** At most this many pending device challenges per user (one per session; the oldest goes), as for every other ceremony. */
export const MAX_PENDING_DEVICE_CHALLENGES = MAX_PENDING_PER_USER;
export const DEFAULT_DEVICE_NAME = 'Browser';
/** Random bytes of a device id. */
export const DEVICE_ID_BYTES = 16;
/** The longest `rememberDeviceDays` an operator may choose. */
export const MAX_REMEMBER_DEVICE_DAYS = 90;

/** The length of an IEEE P1363 ECDSA P-256 signature (r ‖ s), as `crypto.subtle.sign` returns it. */
const P1363_SIGNATURE_BYTES = 64;
const COORDINATE_BYTES = 32;

/** What a device proof carries: the device, the challenge it was handed, and the signature over that challenge's UTF-8 bytes. */
export interface DeviceProofInput {
  id: string;
  challenge: string;
  signature: string;
}

export type DeviceProof = Extract<Proof, { kind: 'device' }>;

const isCoordinate = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) && Buffer.from(value, 'base64url').length === COORDINATE_BYTES;

/**
 * The public key of an ES256 JWK (`kty: EC`, `crv: P-256`, `x`, `y`), or null when it is anything
 * else: a private key (`d`), another curve or key type, or a point that is not on the curve.
 */
export function devicePublicKeyOf(jwk: Record<string, unknown>): DevicePublicKey | null {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) return null;
  if (!isCoordinate(jwk.x) || !isCoordinate(jwk.y)) return null;
  const key = { x: jwk.x, y: jwk.y };
  return keyObjectOf(key) ? key : null;
}

function keyObjectOf(key: DevicePublicKey): KeyObject | null {
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: key.x, y: key.y }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** Whether `signature` (base64url, 64 bytes r ‖ s) is the device key's ECDSA P-256 SHA-256 signature over `challenge`'s UTF-8 bytes. */
export function isDeviceSignature(key: DevicePublicKey, challenge: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64url');
  if (bytes.length !== P1363_SIGNATURE_BYTES || bytes.toString('base64url') !== signature) return false;
  const publicKey = keyObjectOf(key);
  if (!publicKey) return false;
  return verify('sha256', Buffer.from(challenge, 'utf8'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, bytes);
}

/** The device `id` as it may sign in to `app` at `now`: remembered, not expired, and remembered for that app. */
export function usableDevice(record: MfaRecord | undefined, id: string, app: string, now: number): RememberedDevice | undefined {
  return activeDevices(record, now).find((device) => device.id === id && device.app === app);
}

/**
 * Checks a device proof against the stored state: the session's pending challenge, for this
 * device and app, not expired, is the one signed, and the signature is the device key's.
 * Anything else is `wrong` (a signature cannot be guessed; there is no "spent" copy to forgive:
 * the challenge goes with its one use).
 */
export function proveDevice(record: MfaRecord, input: DeviceProofInput, session: { sessionId: string; app: string }, now: number): Evaluation<DeviceProof> {
  const device = usableDevice(record, input.id, session.app, now);
  const pending = pendingChallengeOf(record, session.sessionId);
  if (!device || !pending || pending.deviceId !== device.id || pending.app !== session.app || pending.expiresAt <= now || pending.challenge !== input.challenge) {
    return { refused: 'wrong' };
  }
  if (!isDeviceSignature(device.publicKey, pending.challenge, input.signature)) return { refused: 'wrong' };
  return { proof: { kind: 'device', deviceId: device.id, sessionId: session.sessionId, challenge: pending.challenge, authTime: device.authTime } };
}

export const pendingChallengeOf = (record: MfaRecord | undefined, sessionId: string): PendingDeviceChallenge | undefined =>
  record?.deviceChallenges?.find((pending) => pending.sessionId === sessionId);

/**
 * The sessions whose pending challenges go when `sessionId` stores a new one: expired ones, and
 * the oldest beyond MAX_PENDING_DEVICE_CHALLENGES (the session's own is replaced, not dropped).
 */
export function challengesToDrop(record: MfaRecord | undefined, sessionId: string, now: number): string[] {
  const others = (record?.deviceChallenges ?? []).filter((pending) => pending.sessionId !== sessionId);
  const expired = others.filter((pending) => pending.expiresAt <= now);
  const live = others.filter((pending) => pending.expiresAt > now).sort((a, b) => a.expiresAt - b.expiresAt);
  const excess = live.slice(0, Math.max(0, live.length - (MAX_PENDING_DEVICE_CHALLENGES - 1)));
  return [...expired, ...excess].map((pending) => pending.sessionId);
}

/**
 * The devices that go when one more is remembered at `now`: expired ones (reason `expired`), then
 * the oldest until MAX_REMEMBERED_DEVICES - 1 remain (reason `limit_reached`).
 */
export function devicesToForget(record: MfaRecord | undefined, now: number): Array<{ id: string; reason: 'expired' | 'limit_reached' }> {
  const devices = [...(record?.devices ?? [])].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const expired = devices.filter((device) => device.expiresAt <= now);
  const live = devices.filter((device) => device.expiresAt > now);
  const excess = live.slice(0, Math.max(0, live.length - (MAX_REMEMBERED_DEVICES - 1)));
  return [...expired.map((device) => ({ id: device.id, reason: 'expired' as const })), ...excess.map((device) => ({ id: device.id, reason: 'limit_reached' as const }))];
}
