import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { PendingDeviceChallenge, RememberedDevice } from '../../domain/mfa-record.js';
import type { Proof } from '../../ports/mfa-store.js';
import { ATTR, DEVICE, DEVICE_CHALLENGE, deviceChallengeToAttribute, deviceToAttribute, num } from './mfa-item.js';

/**
 * The clauses of the writes that change remembered browsers and their challenges: remembering
 * one, consuming a device proof, storing a session's challenge, forgetting. Each adds to the one
 * conditional UpdateItem the store is putting together (its `Write`), so that a device changes in
 * the same write as the proof or effect it belongs to.
 */
export interface WriteClauses {
  readonly now: number;
  readonly set: string[];
  readonly remove: string[];
  readonly conditions: string[];
  readonly names: Record<string, string>;
  value(placeholder: string, value: AttributeValue): string;
  field(path: string, field: string): string;
}

/** `attribute.#pN` for one map key (a device id or a session digest), always through a placeholder. */
function entry(w: WriteClauses, attribute: string, prefix: string, key: string): string {
  let index = 0;
  while (`#${prefix}${index}` in w.names && w.names[`#${prefix}${index}`] !== key) index++;
  const placeholder = `#${prefix}${index}`;
  w.names[placeholder] = key;
  return `${attribute}.${placeholder}`;
}

const devicePath = (w: WriteClauses, id: string) => entry(w, ATTR.devices, 'dev', id);
const challengePath = (w: WriteClauses, sessionId: string) => entry(w, ATTR.deviceChallenges, 'ses', sessionId);

/** The map holds exactly `count` entries (none: absent, or emptied by earlier removals). */
function holds(w: WriteClauses, attribute: string, count: number, placeholder: string): string {
  return count === 0
    ? `(attribute_not_exists(${attribute}) OR size(${attribute}) = ${w.value(':zero', num(0))})`
    : `size(${attribute}) = ${w.value(placeholder, num(count))}`;
}

/** A device proof: the session's pending challenge is the one signed, for this device, unexpired; it is consumed, and the device's last use moves. */
export function consumeDeviceProof(w: WriteClauses, proof: Extract<Proof, { kind: 'device' }>): void {
  const device = devicePath(w, proof.deviceId);
  const pending = challengePath(w, proof.sessionId);
  w.conditions.push(
    `${w.field(pending, DEVICE_CHALLENGE.challenge)} = ${w.value(':deviceChallenge', { S: proof.challenge })}`,
    `${w.field(pending, DEVICE_CHALLENGE.deviceId)} = ${w.value(':deviceId', { S: proof.deviceId })}`,
    `${w.field(pending, DEVICE_CHALLENGE.expiresAt)} > :now`,
    `${w.field(device, DEVICE.expiresAt)} > :now`,
  );
  w.set.push(`${w.field(device, DEVICE.lastUsedAt)} = :now`);
  w.remove.push(pending);
}

/** Remembers `device`, forgetting `forget`, on the `deviceCount` devices read (the count keeps the limit exact under races). */
export function rememberDevice(w: WriteClauses, device: RememberedDevice, forget: readonly string[], deviceCount: number): void {
  w.conditions.push(holds(w, ATTR.devices, deviceCount, ':deviceCount'));
  if (deviceCount === 0) {
    w.set.push(`${ATTR.devices} = ${w.value(':devices', { M: { [device.id]: deviceToAttribute(device) } })}`);
    return;
  }
  w.set.push(`${devicePath(w, device.id)} = ${w.value(':device', deviceToAttribute(device))}`);
  for (const id of forget) w.remove.push(devicePath(w, id));
}

/** Forgets every remembered browser and pending device challenge, of the `deviceCount` read. */
export function forgetAllDevices(w: WriteClauses, deviceCount: number): void {
  w.conditions.push(holds(w, ATTR.devices, deviceCount, ':deviceCount'));
  w.remove.push(ATTR.devices, ATTR.deviceChallenges);
}

/** Forgets these of the `deviceCount` devices read (all of them: with every pending challenge). */
export function forgetDevices(w: WriteClauses, ids: readonly string[], deviceCount: number): void {
  if (ids.length === deviceCount) return forgetAllDevices(w, deviceCount);
  w.conditions.push(holds(w, ATTR.devices, deviceCount, ':deviceCount'));
  for (const id of ids) {
    const path = devicePath(w, id);
    w.conditions.push(`attribute_exists(${path})`);
    w.remove.push(path);
  }
}

/**
 * Stores the session's pending challenge (replacing its own), drops the `drop` sessions' ones,
 * while the device is remembered for the app and unexpired. `existing`: the sessions with a
 * pending challenge as read (none: the map is written whole).
 */
export function putDeviceChallenge(w: WriteClauses, pending: PendingDeviceChallenge, drop: readonly string[], existing: number): void {
  const device = devicePath(w, pending.deviceId);
  w.conditions.push(
    `attribute_exists(${device})`,
    `${w.field(device, DEVICE.expiresAt)} > :now`,
    `${w.field(device, DEVICE.app)} = ${w.value(':app', { S: pending.app })}`,
  );
  if (existing === 0) {
    w.conditions.push(holds(w, ATTR.deviceChallenges, 0, ':challengeCount'));
    w.set.push(`${ATTR.deviceChallenges} = ${w.value(':deviceChallenges', { M: { [pending.sessionId]: deviceChallengeToAttribute(pending) } })}`);
    return;
  }
  w.conditions.push(`attribute_exists(${ATTR.deviceChallenges})`);
  w.set.push(`${challengePath(w, pending.sessionId)} = ${w.value(':deviceChallenge', deviceChallengeToAttribute(pending))}`);
  for (const sessionId of drop) w.remove.push(challengePath(w, sessionId));
}
