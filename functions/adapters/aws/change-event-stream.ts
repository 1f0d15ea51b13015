import { CHANGE_EVENTS, DEVICE_FORGOTTEN_REASONS, EVENT_SOURCE, type ChangeEventName, type DeviceForgottenReason, type PublishedChangeEvent } from '../../domain/change-events.js';
import { isNotifiedEvent, type NotifiedEvent } from '../../mail/templates.js';
import { maskEmail, sameMailbox } from '../../methods/email/email-codes.js';
import type { ProofMethod } from '../../methods/kinds.js';
import { ATTR, MFA_TABLE } from './mfa-item.js';

/**
 * From the table's stream to change events: the one converter, used by the stream function in
 * the cloud and by the local stream reader. Every write replaces the item's outbox with its own
 * events (or removes it), so the NewImage of each stream record holds exactly the events of the
 * write that committed them: nothing is published for a write that did not apply, and a write
 * the SDK re-sent after a lost response committed (and streamed) once.
 */

/** An attribute as both a Lambda stream event (JSON) and the DynamoDB Streams client carry it. */
export interface StreamAttribute {
  S?: string | undefined;
  N?: string | undefined;
  L?: StreamAttribute[] | undefined;
  M?: Record<string, StreamAttribute> | undefined;
}

export type StreamImage = Record<string, StreamAttribute>;

const USER_PREFIX = 'USER#';
const isEventName = (name: string | undefined): name is ChangeEventName => name !== undefined && Object.hasOwn(CHANGE_EVENTS, name);

/**
 * The change events a stream record's new image carries: id `${lastWriteId}:${index}` (stable
 * across redeliveries, unique per event), the user from the partition key. An image without
 * outbox (a write that changed no tracked state, or a TTL removal) carries none.
 */
export function changeEventsOfImage(image: StreamImage | undefined): PublishedChangeEvent[] {
  const outbox = image?.[ATTR.outbox]?.L;
  const pk = image?.[MFA_TABLE.partitionKey]?.S;
  const writeId = image?.[ATTR.lastWriteId]?.S;
  if (!outbox || !pk?.startsWith(USER_PREFIX) || !writeId) return [];
  const userId = pk.slice(USER_PREFIX.length);
  return outbox.flatMap((entry, index): PublishedChangeEvent[] => {
    const m = entry.M;
    const event = m?.event?.S;
    const at = Number(m?.at?.N);
    if (!m || !isEventName(event) || !Number.isFinite(at)) return [];
    const published: PublishedChangeEvent = { id: `${writeId}:${index}`, event, userId, at: new Date(at).toISOString(), requestId: m.requestId?.S ?? '' };
    if (m.method?.S) published.method = m.method.S as ProofMethod;
    if (m.authenticatorId?.S) published.authenticatorId = m.authenticatorId.S;
    if (m.recoveryCodesRemaining?.N !== undefined) published.recoveryCodesRemaining = Number(m.recoveryCodesRemaining.N);
    if (m.deviceId?.S) published.deviceId = m.deviceId.S;
    if ((DEVICE_FORGOTTEN_REASONS as readonly string[]).includes(m.reason?.S ?? '')) published.reason = m.reason!.S as DeviceForgottenReason;
    return [published];
  });
}

/** The event as an EventBridge rule's target receives it (and as the local events.jsonl holds it). */
export interface DeliveredChangeEvent {
  source: typeof EVENT_SOURCE;
  'detail-type': (typeof CHANGE_EVENTS)[ChangeEventName];
  time: string;
  detail: PublishedChangeEvent;
}

/** `detail` in a fixed field order: exactly the documented fields, nothing else. */
export function detailOf(event: PublishedChangeEvent): PublishedChangeEvent {
  return {
    id: event.id,
    event: event.event,
    userId: event.userId,
    ...(event.method !== undefined ? { method: event.method } : {}),
    ...(event.authenticatorId !== undefined ? { authenticatorId: event.authenticatorId } : {}),
    ...(event.recoveryCodesRemaining !== undefined ? { recoveryCodesRemaining: event.recoveryCodesRemaining } : {}),
    ...(event.deviceId !== undefined ? { deviceId: event.deviceId } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    at: event.at,
    requestId: event.requestId,
  };
}

export function deliveredEventOf(event: PublishedChangeEvent): DeliveredChangeEvent {
  return { source: EVENT_SOURCE, 'detail-type': CHANGE_EVENTS[event.event], time: event.at, detail: detailOf(event) };
}

/** One security notice to send, to the user's verified address; `id` is its notice id (noticeIdOf), the ledger's key. */
export interface SecurityNotice {
  id: string;
  to: string;
  change: NotifiedEvent;
}

/**
 * The security notices a stream record's new image calls for: one per change event the user is
 * told about (functions/mail/templates.ts), when the item holds the address recorded at
 * enrollment. The caller's IP comes from the outbox (it is never on the bus). A change that made
 * the notices go to another address is told to the address they went to before as well (its
 * notice id is the event's with `:previous`), with the new address masked. Renames share one
 * notice id per user, method kind and clock hour (noticeIdOf), so the user gets at most one rename
 * notice an hour for each kind of method.
 */
export function securityNoticesOfImage(image: StreamImage | undefined): SecurityNotice[] {
  const to = image?.[ATTR.notifyAddress]?.S;
  if (!to) return [];
  const outbox = image?.[ATTR.outbox]?.L ?? [];
  return changeEventsOfImage(image).flatMap((event): SecurityNotice[] => {
    if (!isNotifiedEvent(event.event)) return [];
    const index = Number(event.id.slice(event.id.lastIndexOf(':') + 1));
    const sourceIp = outbox[index]?.M?.sourceIp?.S;
    const change: NotifiedEvent = { event: event.event, at: event.at, method: event.method, recoveryCodesRemaining: event.recoveryCodesRemaining, sourceIp };
    const previous = outbox[index]?.M?.previousNotifyAddress?.S;
    const told = previous && !sameMailbox(previous, to) ? [{ id: `${event.id}:previous`, to: previous, change: { ...change, noticesNowGoTo: maskEmail(to) } }] : [];
    return [{ id: noticeIdOf(event), to, change }, ...told];
  });
}

/** How often a user is told of renames at most: renaming needs no proof, so a password holder could otherwise mail the user without end. */
export const RENAME_NOTICE_PERIOD_MS = 3_600_000;

/**
 * The ledger's id of a change event's notice: the event's own, except that every rename of one
 * user's methods of one kind in one period (a clock hour) shares one id. The ledger sends the first
 * and finds the rest sent; the change events themselves are all published. The kind is in the id so
 * that a rename of the app does not hide a later rename of a key in the same hour.
 */
function noticeIdOf(event: PublishedChangeEvent): string {
  if (event.event !== 'authenticator.renamed') return event.id;
  return `authenticator.renamed:${event.method ?? ''}:${Math.floor(Date.parse(event.at) / RENAME_NOTICE_PERIOD_MS)}:${event.userId}`;
}
