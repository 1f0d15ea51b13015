import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { USER_PROOF_CEILING } from '../../domain/lockout.js';
import type { MfaRecord } from '../../domain/mfa-record.js';
import { pendingToDrop } from '../../domain/sessions.js';
import type { CeilingChange, PendingMapRead, SessionChange } from '../../ports/mfa-store.js';
import { Write } from './item-write.js';
import { ATTR, num, PENDING_CHALLENGE, PENDING_MAP, sessionToAttribute, type PendingKind } from './mfa-item.js';

/**
 * The parts of a write that change what is kept per first-factor session: the user's ceiling
 * window, a session's entry (its rate window and replay allowance), and the maps of pending
 * ceremonies keyed by session. Each applies only to the state as read, so that sessions writing
 * at once never undo each other.
 */

/** One more check (or a check given back) in the user's ceiling window, conditioned as `change` says. */
export function countInCeiling(w: Write, change: CeilingChange): void {
  switch (change.kind) {
    case 'count':
      w.set.push(`${ATTR.proofTimes}[${USER_PROOF_CEILING}] = ${w.value(':ceilingAt', num(change.at))}`);
      w.remove.push(`${ATTR.proofTimes}[0]`);
      w.conditions.push(
        `${ATTR.proofTimes}[0] <= ${w.value(':ceilingOldestAtMost', num(change.oldestAtMost))}`,
        `size(${ATTR.proofTimes}) = ${w.value(':ceilingSize', num(USER_PROOF_CEILING))}`,
      );
      break;
    case 'replace':
      w.set.push(`${ATTR.proofTimes} = ${w.value(':ceilingAfter', { L: change.after.map(num) })}`);
      w.conditions.push(
        change.before === undefined ? `attribute_not_exists(${ATTR.proofTimes})` : `${ATTR.proofTimes} = ${w.value(':ceilingBefore', { L: change.before.map(num) })}`,
      );
      break;
    case 'give_back':
      // In place: every session writes this window, so it is not rewritten whole; the free slot counts once it reaches the front.
      w.set.push(`${ATTR.proofTimes}[${change.index}] = ${w.value(':free', num(0))}`);
      w.conditions.push(`${ATTR.proofTimes}[${change.index}] = ${w.value(':givenBack', num(change.at))}`);
      break;
  }
}

/** One session's entry written whole, only if still as read; other sessions' entries dropped only if still as read. */
export function changeSessionEntry(w: Write, change: SessionChange): void {
  if (!change.mapExists) {
    w.set.push(`${ATTR.sessions} = ${w.value(':sessions', { M: { [change.sessionId]: sessionToAttribute(change.after) } })}`);
    w.conditions.push(`attribute_not_exists(${ATTR.sessions})`);
    return;
  }
  const entry = w.key(ATTR.sessions, change.sessionId);
  w.set.push(`${entry} = ${w.value(':sessionAfter', sessionToAttribute(change.after))}`);
  w.conditions.push(change.before === undefined ? `attribute_not_exists(${entry})` : `${entry} = ${w.value(':sessionBefore', sessionToAttribute(change.before))}`);
  change.drop.forEach((dropped, i) => {
    const path = w.key(ATTR.sessions, dropped.sessionId);
    w.remove.push(path);
    w.conditions.push(`${path} = ${w.value(`:droppedSession${i}`, sessionToAttribute(dropped.entry))}`);
  });
}

/** The map of pending ceremonies of `kind` as read, for the next write to drop from. */
export function pendingMapOf(record: MfaRecord, kind: PendingKind): PendingMapRead {
  switch (kind) {
    case 'enrollment':
      return record.pendingEnrollments;
    case 'registration':
      return record.registrations;
  }
}

/**
 * The session's pending ceremony of `kind` stored, replacing its own; other sessions' expired
 * ones and, past MAX_PENDING_PER_USER, the oldest are dropped (each only if still as read), and
 * the map must still hold what was read, so that concurrent starts can never leave more.
 */
export function putPending(w: Write, kind: PendingKind, sessionId: string, entry: AttributeValue, read: PendingMapRead): void {
  const map = PENDING_MAP[kind];
  if (read === undefined) {
    w.set.push(`${map} = ${w.value(':pendingMap', { M: { [sessionId]: entry } })}`);
    w.conditions.push(`attribute_not_exists(${map})`);
    return;
  }
  w.set.push(`${w.key(map, sessionId)} = ${w.value(':pendingEntry', entry)}`);
  w.conditions.push(`size(${map}) = ${w.value(':pendingCount', num(Object.keys(read).length))}`);
  pendingToDrop(read, sessionId, w.now).forEach((dropped, i) => {
    const path = w.key(map, dropped);
    w.remove.push(path);
    w.conditions.push(`${w.field(path, PENDING_CHALLENGE.createdAt)} = ${w.value(`:droppedPending${i}`, num(read[dropped]!.createdAt))}`);
  });
}
