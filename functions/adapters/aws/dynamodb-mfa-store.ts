import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
  type Update,
} from '@aws-sdk/client-dynamodb';
import type { ChangeEvent } from '../../domain/change-events.js';
import { ContentionError } from '../../domain/errors.js';
import { NO_CEILING_ATTEMPTS, PROOF_ATTEMPTS_PER_WINDOW, type CountedAttempt } from '../../domain/lockout.js';
import type { MfaRecord, PendingChallenge, PendingDeviceChallenge, PendingEmailCode, PendingEnrollment, WebAuthnAuthenticator } from '../../domain/mfa-record.js';
import { freshSession } from '../../domain/sessions.js';
import { spendChallenge } from './challenge-writes.js';
import { consumeDeviceProof, forgetAllDevices, forgetDevices, putDeviceChallenge, rememberDevice } from './device-writes.js';
import type {
  AuthenticatorSet,
  CeilingChange,
  DecidedAttempt,
  EmailCodeRequires,
  EmailSend,
  KeyWriteResult,
  MfaStore,
  NotifyAddressChange,
  PendingMapRead,
  Proof,
  ProofEffect,
  QuietAttemptGuard,
  QuietAttemptResult,
  SessionChange,
  WriteResult,
} from '../../ports/mfa-store.js';
import {
  ATTR,
  AUTHENTICATOR,
  authenticatorToAttribute,
  CREDENTIAL,
  credentialItem,
  credentialKey,
  LEGACY,
  MFA_TABLE,
  num,
  PENDING_CHALLENGE,
  PENDING_EMAIL_CODE,
  pendingEmailCodeToAttribute,
  PENDING_ENROLLMENT,
  PENDING_MAP,
  pendingChallengeToAttribute,
  pendingEnrollmentToAttribute,
  PREVIOUS_CHALLENGES,
  PREVIOUS_PENDING,
  SESSION,
  sessionToAttribute,
  toRecord,
  userKey,
  type Item,
  type PendingKind,
} from './mfa-item.js';
import { IDLE_ITEM_TTL_SECONDS, MFA_OFF, MFA_ON, NOT_LOCKED, Write } from './item-write.js';
import { changeSessionEntry, countInCeiling, pendingMapOf, putPending } from './session-writes.js';

/**
 * MfaStore on DynamoDB: one item per user, every mutation a single conditional UpdateItem, or a
 * transaction with the uniqueness records of the keys it adds or removes.
 */
export class DynamoDbMfaStore implements MfaStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(userId: string): Promise<MfaRecord | undefined> {
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: userKey(userId), ConsistentRead: true }));
    return item ? toRecord(userId, item) : undefined;
  }

  async countQuietAttempt(userId: string, guard: QuietAttemptGuard, now: number): Promise<QuietAttemptResult> {
    const w = new Write(now);
    w.conditions.push(guard.requires === 'mfa-enabled' ? MFA_ON : guard.requires === 'pending-email' ? `attribute_exists(${ATTR.emailCodes})` : w.pendingConfirmable(guard.sessionId));
    if (guard.lane === 'guessable') {
      w.value(':one', num(1));
      w.value(':windowStartAfter', num(guard.windowStartAfter));
      w.set.push(`${ATTR.failures} = ${ATTR.failures} + :one`, `${ATTR.windowFailures} = ${ATTR.windowFailures} + :one`);
      w.value(':windowFailuresBelow', num(guard.windowFailuresBelow));
      guard.failuresIn.forEach((failures, i) => w.value(`:f${i}`, num(failures)));
      w.conditions.push(
        NOT_LOCKED,
        `${ATTR.windowStart} > :windowStartAfter`,
        `${ATTR.windowFailures} < :windowFailuresBelow`,
        `${ATTR.failures} IN (${guard.failuresIn.map((_, i) => `:f${i}`).join(', ')})`,
      );
    } else {
      // Each window keeps its length: the newest check goes in at the end, the oldest comes out.
      const window = w.field(w.key(ATTR.sessions, guard.sessionId), SESSION.proofTimes);
      w.set.push(`${window}[${PROOF_ATTEMPTS_PER_WINDOW}] = ${w.value(':at', num(guard.at))}`);
      w.remove.push(`${window}[0]`);
      w.conditions.push(`${window}[0] <= ${w.value(':oldestAtMost', num(guard.oldestAtMost))}`);
      countInCeiling(w, { kind: 'count', oldestAtMost: guard.oldestAtMost, at: guard.at });
    }
    // The last clause makes the increment idempotent: a re-send of an applied write fails it and is recognised as done.
    w.conditions.push(`${ATTR.lastWriteId} <> :writeId`);
    const { result, item } = await this.send(userId, w, [], true);
    return { counted: result === 'ok', record: item ? toRecord(userId, item) : undefined };
  }

  async chargeCodeChecks(userId: string, windowStart: number, extra: number, now: number): Promise<void> {
    const w = new Write(now);
    w.set.push(`${ATTR.windowFailures} = ${ATTR.windowFailures} + ${w.value(':extra', num(extra))}`);
    // The window the attempt was counted in; a re-send of an applied write is recognised as done, not applied twice.
    w.conditions.push(`${ATTR.windowStart} = ${w.value(':windowStart', num(windowStart))}`, `${ATTR.lastWriteId} <> :writeId`);
    await this.send(userId, w, []);
  }

  async countDecidedAttempt(userId: string, attempt: DecidedAttempt, now: number): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    w.set.push(`${ATTR.failures} = :next`);
    w.value(':previous', num(attempt.previousFailures));
    w.value(':next', num(attempt.failures));
    w.value(':windowStart', num(attempt.windowStart));
    if (attempt.previousWindowStart === attempt.windowStart) {
      // The same window: one more failure in it, keeping what other requests added meanwhile (a
      // wrong code's charge per app checked, a refund), which a write of the count as read would undo.
      w.set.push(`${ATTR.windowFailures} = if_not_exists(${ATTR.windowFailures}, ${w.value(':zero', num(0))}) + ${w.value(':one', num(1))}`);
      w.conditions.push(`${ATTR.windowStart} = :windowStart`);
    } else {
      w.set.push(`${ATTR.windowStart} = :windowStart`, `${ATTR.windowFailures} = ${w.value(':windowFailures', num(attempt.windowFailures))}`);
    }
    if (attempt.lockedUntil !== undefined) w.set.push(`${ATTR.lockedUntil} = ${w.value(':lockedUntil', num(attempt.lockedUntil))}`);
    w.conditions.push(
      attempt.previousFailures === 0 ? `(attribute_not_exists(${ATTR.failures}) OR ${ATTR.failures} = :previous)` : `${ATTR.failures} = :previous`,
      NOT_LOCKED,
    );
    return (await this.send(userId, w, [])).result;
  }

  async changeSession(
    userId: string,
    session: SessionChange,
    ceiling: CeilingChange | undefined,
    now: number,
    events: readonly ChangeEvent[] = [],
  ): Promise<{ result: WriteResult; record?: MfaRecord | undefined }> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    changeSessionEntry(w, session);
    if (ceiling) countInCeiling(w, ceiling);
    const { result, item } = await this.send(userId, w, events);
    return { result, record: result === 'conflict' && item ? toRecord(userId, item) : undefined };
  }

  async confirmLockout(userId: string, lockedUntil: number, now: number, events: readonly ChangeEvent[]): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`${ATTR.lockedUntil} = ${w.value(':lockedUntil', num(lockedUntil))}`);
    return (await this.send(userId, w, events)).result;
  }

  async reportCeiling(userId: string, reportedAt: number | undefined, now: number, events: readonly ChangeEvent[]): Promise<WriteResult> {
    const w = new Write(now);
    w.set.push(`${ATTR.ceilingReportedAt} = :now`);
    w.conditions.push(
      reportedAt === undefined
        ? `attribute_not_exists(${ATTR.ceilingReportedAt})`
        : `${ATTR.ceilingReportedAt} = ${w.value(':reportedAt', num(reportedAt))}`,
    );
    return (await this.send(userId, w, events)).result;
  }

  async refundCodeAttempt(userId: string, counted: CountedAttempt, now: number): Promise<void> {
    const decrement = (fields: string[]) => {
      const w = new Write(now);
      w.set.push(...fields.map((field) => `${field} = ${field} - :one`));
      w.value(':one', num(1));
      w.value(':windowStart', num(counted.windowStart));
      w.conditions.push(`${ATTR.windowStart} = :windowStart`, ...fields.map((field) => `${field} >= :one`));
      // As for the count: a re-send of an applied decrement (its answer lost) is recognised as done, not applied twice.
      w.conditions.push(`${ATTR.lastWriteId} <> :writeId`);
      return this.send(userId, w, []);
    };
    // When a success reset the consecutive count in between, only the failure window still holds the attempt.
    if ((await decrement([ATTR.failures, ATTR.windowFailures])).result === 'conflict') await decrement([ATTR.windowFailures]);
    if (counted.lockedUntil !== undefined) {
      // The lock this very attempt started goes with it (unless another attempt has started a newer one).
      const w = new Write(now);
      w.remove.push(ATTR.lockedUntil);
      w.conditions.push(`${ATTR.lockedUntil} = ${w.value(':lockedUntil', num(counted.lockedUntil))}`);
      await this.send(userId, w, []);
    }
  }

  async commitProof(userId: string, proof: Proof, effect: ProofEffect, now: number, events: readonly ChangeEvent[] = []): Promise<WriteResult> {
    const w = new Write(now);
    const removing = effect.kind === 'remove_authenticators' ? effect.ids : [];
    const removesAll = effect.kind === 'remove_authenticators' && effect.ids.length === effect.authenticatorCount;

    switch (proof.kind) {
      case 'totp': {
        const app = w.authenticator(proof.authenticatorId);
        w.conditions.push(`${w.field(app, AUTHENTICATOR.secret)} = ${w.value(':secret', { B: proof.sealedSecret })}`);
        w.conditions.push(`${w.field(app, AUTHENTICATOR.lastStep)} < ${w.value(':step', num(proof.step))}`);
        if (!removing.includes(proof.authenticatorId)) {
          w.set.push(
            `${w.field(app, AUTHENTICATOR.lastStep)} = :step`,
            `${w.field(app, AUTHENTICATOR.lastUsedAt)} = :now`,
            `${w.field(app, AUTHENTICATOR.lastCodeDigest)} = ${w.value(':codeDigest', { S: proof.codeDigest })}`,
          );
        }
        w.resetCodeFailures();
        break;
      }
      case 'recovery_code':
        w.conditions.push(MFA_ON, `contains(${ATTR.recoveryCodes}, ${w.value(':hash', { S: proof.hash })})`);
        if (effect.kind !== 'replace_recovery_codes' && !removesAll) {
          // The used code's hash stays with the set: a copy of it is then recognised as spent, not counted as a guess.
          w.del.push(`${ATTR.recoveryCodes} ${w.value(':hashSet', { SS: [proof.hash] })}`);
          w.add.push(`${ATTR.spentRecoveryCodes} :hashSet`, `${ATTR.spentRecoveryCodeDigests} ${w.value(':digestSet', { SS: [proof.digest] })}`);
        }
        break;
      case 'webauthn': {
        const key = w.authenticator(proof.authenticatorId);
        // Compare-and-swap on the signature counter: two assertions of one key can never both move it.
        w.conditions.push(`${w.field(key, AUTHENTICATOR.counter)} = ${w.value(':previousCounter', num(proof.previousCounter))}`);
        if (!removing.includes(proof.authenticatorId)) {
          w.set.push(
            `${w.field(key, AUTHENTICATOR.counter)} = ${w.value(':counter', num(proof.counter))}`,
            `${w.field(key, AUTHENTICATOR.lastUsedAt)} = :now`,
            `${w.field(key, AUTHENTICATOR.backedUp)} = ${w.value(':backedUp', { BOOL: proof.backedUp })}`,
          );
        }
        // The challenge is spent once: its nonce is kept until it expires, so a copy of this response is recognised as spent, not counted as a guess.
        if (!removesAll) spendChallenge(w, proof);
        break;
      }
      case 'device':
        consumeDeviceProof(w, proof);
        break;
      case 'pending_totp': {
        const pending = w.key(ATTR.pendingEnrollments, proof.sessionId);
        w.conditions.push(`${w.field(pending, PENDING_ENROLLMENT.secret)} = ${w.value(':pendingSecret', { B: proof.sealedSecret })}`, w.pendingConfirmable(proof.sessionId));
        w.remove.push(pending);
        w.resetCodeFailures();
        break;
      }
      case 'email':
      case 'pending_email': {
        // The session's code, exactly as checked and still unexpired: consumed by this write, so it works once.
        const code = w.emailCode(proof.sessionId);
        w.conditions.push(
          `${w.field(code, PENDING_EMAIL_CODE.hash)} = ${w.value(':emailHash', { B: proof.hash })}`,
          `${w.field(code, PENDING_EMAIL_CODE.expiresAt)} > :now`,
        );
        if (!removesAll) {
          w.remove.push(code);
          // The consumed code's digest is kept: a copy of it is then recognised as spent, not counted as a guess.
          w.set.push(`${ATTR.emailLastCode} = ${w.value(':emailCodeDigest', { S: proof.codeDigest })}`);
        }
        if (proof.kind === 'email') {
          const method = w.authenticator(proof.authenticatorId);
          w.conditions.push(`attribute_exists(${method})`);
          if (!removing.includes(proof.authenticatorId)) w.set.push(`${w.field(method, AUTHENTICATOR.lastUsedAt)} = :now`);
        } else if (proof.proved) {
          w.conditions.push(`${w.field(code, PENDING_EMAIL_CODE.proved)} = ${w.value(':true', { BOOL: true })}`);
        }
        w.resetCodeFailures();
        break;
      }
    }

    switch (effect.kind) {
      case 'none':
        break;
      case 'replace_recovery_codes':
        w.set.push(`${ATTR.recoveryCodes} = ${w.value(':codes', { SS: effect.hashes })}`);
        w.remove.push(ATTR.spentRecoveryCodes, ATTR.spentRecoveryCodeDigests);
        break;
      case 'add_authenticator':
        // A key claims its credential id in a transaction: only addRegisteredKey adds keys.
        if (effect.authenticator.kind === 'webauthn') throw new Error('Security keys are added by addRegisteredKey.');
        this.addAuthenticator(w, effect.authenticator, effect.authenticatorCount, effect.recoveryCodeHashes, effect.notifyAddress);
        break;
      case 'remember_device':
        rememberDevice(w, effect.device, effect.forget, effect.deviceCount);
        break;
      case 'remove_authenticators':
        w.conditions.push(`size(${ATTR.authenticators}) = ${w.value(':count', num(effect.authenticatorCount))}`);
        // Each one must still be there: the credential ids removed with them are those of the keys read.
        for (const id of effect.ids) {
          const path = w.authenticator(id);
          w.conditions.push(`attribute_exists(${path})`);
          if (!removesAll) w.remove.push(path);
        }
        // Removing any factor forgets every remembered browser (remembered by a factor that may be the one going).
        forgetAllDevices(w, effect.deviceCount);
        if (removesAll) {
          w.remove.push(
            ATTR.authenticators,
            ATTR.recoveryCodes,
            ATTR.spentRecoveryCodes,
            ATTR.spentRecoveryCodeDigests,
            ATTR.challengeKey,
            ATTR.spentChallenges,
            ...PREVIOUS_CHALLENGES,
            ATTR.registrations,
            ATTR.emailCodes,
            ATTR.emailLastCode,
          );
          w.idleTtl();
        }
        break;
      case 'start_totp_enrollment':
        putPending(w, 'enrollment', effect.sessionId, pendingEnrollmentToAttribute(effect.pending), effect.pendingRead);
        break;
      case 'start_webauthn_registration':
        putPending(w, 'registration', effect.sessionId, pendingChallengeToAttribute(effect.registration), effect.pendingRead);
        w.set.push(`${ATTR.userHandle} = ${w.value(':userHandle', { S: effect.userHandle })}`);
        // The options handed out carry this handle: it must be the one stored (a concurrent start may have stored another).
        w.conditions.push(`(attribute_not_exists(${ATTR.userHandle}) OR ${ATTR.userHandle} = :userHandle)`);
        break;
      case 'count_email_send':
        this.countSend(w, effect.send);
        break;
    }
    if (effect.kind === 'remove_authenticators' && effect.credentialIds.length > 0) {
      return this.writeReleasing(userId, w, events, effect.credentialIds);
    }
    return (await this.send(userId, w, events)).result;
  }

  async putPendingEnrollment(userId: string, sessionId: string, pending: PendingEnrollment, now: number): Promise<WriteResult> {
    const ttl = Math.ceil(pending.expiresAt / 1000) + IDLE_ITEM_TTL_SECONDS;
    const written = Buffer.from(pending.sealedSecret);
    const stored = await this.putPendingWhileMfaOff(userId, sessionId, 'enrollment', pendingEnrollmentToAttribute(pending), ttl, now, (record) => {
      const found = record.pendingEnrollments?.[sessionId]?.sealedSecret;
      return found !== undefined && written.equals(found);
    });
    return stored.result;
  }

  async putRegistration(
    userId: string,
    sessionId: string,
    registration: PendingChallenge,
    newUserHandle: string,
    now: number,
  ): Promise<{ result: WriteResult; userHandle?: string | undefined }> {
    const ttl = Math.ceil(registration.expiresAt / 1000) + IDLE_ITEM_TTL_SECONDS;
    const stored = await this.putPendingWhileMfaOff(
      userId,
      sessionId,
      'registration',
      pendingChallengeToAttribute(registration),
      ttl,
      now,
      (record) => record.registrations?.[sessionId]?.challenge === registration.challenge,
      (w) => w.set.push(`${ATTR.userHandle} = if_not_exists(${ATTR.userHandle}, ${w.value(':userHandle', { S: newUserHandle })})`),
    );
    // The options handed out carry the handle the item holds.
    return { result: stored.result, userHandle: stored.result === 'ok' ? stored.record?.webauthnUserHandle : undefined };
  }

  /**
   * Stores the session's pending ceremony of `kind` while MFA is off. The first write needs no
   * read: it creates the map when the item has none (a new user), and comes back with the item;
   * when the map was already there (`stored` says the entry is not the one written), a second
   * write replaces the session's entry in it, dropping others past MAX_PENDING_PER_USER.
   */
  private async putPendingWhileMfaOff(
    userId: string,
    sessionId: string,
    kind: PendingKind,
    entry: AttributeValue,
    ttl: number,
    now: number,
    stored: (record: MfaRecord) => boolean,
    extra: (w: Write) => void = () => undefined,
  ): Promise<{ result: WriteResult; record?: MfaRecord | undefined }> {
    const map = PENDING_MAP[kind];
    let read: PendingMapRead | null = null;
    for (let round = 0; round < 16; round++) {
      const w = new Write(now);
      if (read === null) w.set.push(`${map} = if_not_exists(${map}, ${w.value(':newPendingMap', { M: { [sessionId]: entry } })})`);
      else putPending(w, kind, sessionId, entry, read);
      extra(w);
      this.startCounters(w, sessionId);
      w.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
      w.set.push(`#ttl = ${w.value(':ttl', num(ttl))}`);
      w.conditions.push(MFA_OFF);
      const { result, item } = await this.send(userId, w, [], true);
      const record = item ? toRecord(userId, item) : undefined;
      if (result === 'ok' && record && stored(record)) return { result, record };
      // MFA is on: refused.
      if (result === 'conflict' && record && record.authenticators.length > 0) return { result };
      read = record ? pendingMapOf(record, kind) : undefined;
    }
    throw new ContentionError();
  }

  async recordKeyChallenge(userId: string, input: { challengeKey: { value: Uint8Array; made: boolean }; session: SessionChange }, now: number): Promise<WriteResult> {
    const w = new Write(now);
    const key = w.value(':challengeKey', { B: input.challengeKey.value });
    if (input.challengeKey.made) {
      w.set.push(`${ATTR.challengeKey} = ${key}`);
      w.conditions.push(`attribute_not_exists(${ATTR.challengeKey})`);
    } else {
      // A challenge minted under a key that a reset (and a new key) replaced meanwhile would never open.
      w.conditions.push(`${ATTR.challengeKey} = ${key}`);
    }
    changeSessionEntry(w, input.session);
    w.conditions.push(MFA_ON);
    return (await this.send(userId, w, [])).result;
  }

  async addRegisteredKey(
    userId: string,
    input: {
      sessionId: string;
      challenge: string;
      authenticator: WebAuthnAuthenticator;
      authenticatorCount: number;
      proved: boolean;
      recoveryCodeHashes?: string[] | undefined;
      notifyAddress?: NotifyAddressChange | undefined;
    },
    now: number,
    events: readonly ChangeEvent[] = [],
  ): Promise<KeyWriteResult> {
    const w = new Write(now);
    const pending = w.key(ATTR.registrations, input.sessionId);
    w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.challenge)} = ${w.value(':challenge', { S: input.challenge })}`);
    w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.expiresAt)} > :now`);
    if (input.authenticatorCount > 0) w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.proved)} = ${w.value(':true', { BOOL: true })}`);
    w.remove.push(pending);
    this.addAuthenticator(w, input.authenticator, input.authenticatorCount, input.recoveryCodeHashes, input.notifyAddress);
    // The credential id is claimed in the same transaction: of two users racing one id, one wins.
    const claim: TransactWriteItem = {
      Put: {
        TableName: this.tableName,
        Item: credentialItem(userId, input.authenticator),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': MFA_TABLE.partitionKey },
      },
    };
    return (await this.transact(userId, w, events, [claim])).result;
  }

  async putDeviceChallenge(userId: string, input: { pending: PendingDeviceChallenge; drop: readonly string[]; pendingCount: number }, now: number): Promise<WriteResult> {
    const w = new Write(now);
    putDeviceChallenge(w, input.pending, input.drop, input.pendingCount);
    return (await this.send(userId, w, [])).result;
  }

  async forgetDevices(userId: string, ids: readonly string[], deviceCount: number, now: number, events: readonly ChangeEvent[] = []): Promise<WriteResult> {
    const w = new Write(now);
    forgetDevices(w, ids, deviceCount);
    return (await this.send(userId, w, events)).result;
  }

  async countEmailSend(userId: string, send: EmailSend, requires: EmailCodeRequires, now: number): Promise<WriteResult> {
    const w = new Write(now);
    this.requireForEmailCode(w, requires);
    this.countSend(w, send);
    return (await this.send(userId, w, [])).result;
  }

  async refundEmailSend(userId: string, send: EmailSend, now: number): Promise<void> {
    const w = new Write(now);
    w.conditions.push(`${ATTR.emailSends} = ${w.value(':next', { L: send.next.map(num) })}`);
    if (send.previous === undefined) w.remove.push(ATTR.emailSends);
    else w.set.push(`${ATTR.emailSends} = ${w.value(':previous', { L: send.previous.map(num) })}`);
    await this.send(userId, w, []);
  }

  async putEmailCode(
    userId: string,
    input: { sessionId: string; code: PendingEmailCode; expired: readonly string[]; mapExists: boolean; requires: EmailCodeRequires },
    now: number,
  ): Promise<WriteResult> {
    const w = new Write(now);
    this.requireForEmailCode(w, input.requires);
    const code = pendingEmailCodeToAttribute(input.code);
    if (input.mapExists) {
      w.conditions.push(`attribute_exists(${ATTR.emailCodes})`);
      w.set.push(`${w.emailCode(input.sessionId)} = ${w.value(':code', code)}`);
      for (const sessionId of input.expired) if (sessionId !== input.sessionId) w.remove.push(w.emailCode(sessionId));
    } else {
      w.conditions.push(`attribute_not_exists(${ATTR.emailCodes})`);
      w.set.push(`${ATTR.emailCodes} = ${w.value(':codes', { M: { [input.sessionId]: code } })}`);
    }
    this.startCounters(w, input.sessionId);
    if ('mfa' in input.requires && input.requires.mfa === 'off') {
      w.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
      w.set.push(`#ttl = ${w.value(':ttl', num(Math.ceil(input.code.expiresAt / 1000) + IDLE_ITEM_TTL_SECONDS))}`);
    }
    return (await this.send(userId, w, [])).result;
  }

  async renameAuthenticator(userId: string, authenticatorId: string, name: string, now: number, events: readonly ChangeEvent[] = []): Promise<WriteResult> {
    const w = new Write(now);
    const path = w.authenticator(authenticatorId);
    w.conditions.push(`attribute_exists(${path})`);
    w.set.push(`${w.field(path, AUTHENTICATOR.name)} = ${w.value(':name', { S: name })}`);
    return (await this.send(userId, w, events)).result;
  }

  async resetMfa(userId: string, now: number, events: readonly ChangeEvent[], found: AuthenticatorSet, deviceCount?: number): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    if (deviceCount !== undefined) forgetAllDevices(w, deviceCount);
    else w.remove.push(ATTR.devices, ATTR.deviceChallenges);
    // The authenticators as read, no more and no fewer: the uniqueness records deleted are exactly their keys'.
    if (found.authenticatorIds.length === 0) {
      w.conditions.push(`attribute_not_exists(${ATTR.authenticators})`);
    } else {
      w.conditions.push(`size(${ATTR.authenticators}) = ${w.value(':count', num(found.authenticatorIds.length))}`);
      for (const id of found.authenticatorIds) w.conditions.push(`attribute_exists(${w.authenticator(id)})`);
    }
    w.remove.push(
      ATTR.authenticators,
      ATTR.recoveryCodes,
      ATTR.spentRecoveryCodes,
      ATTR.spentRecoveryCodeDigests,
      ATTR.pendingEnrollments,
      ATTR.registrations,
      ATTR.challengeKey,
      ATTR.spentChallenges,
      ...PREVIOUS_PENDING,
      ...PREVIOUS_CHALLENGES,
      ATTR.userHandle,
      ATTR.emailCodes,
      ATTR.emailLastCode,
      LEGACY.secret,
      LEGACY.enabledAt,
      LEGACY.lastUsedAt,
      LEGACY.lastStep,
    );
    this.clearCounters(w);
    w.idleTtl();
    if (found.credentialIds.length > 0) return this.writeReleasing(userId, w, events, found.credentialIds);
    return (await this.send(userId, w, events)).result;
  }

  async recordEvents(userId: string, now: number, events: readonly ChangeEvent[]): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    return (await this.send(userId, w, events)).result;
  }

  async clearLock(userId: string, now: number, events: readonly ChangeEvent[] = []): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    this.clearCounters(w);
    return (await this.send(userId, w, events)).result;
  }

  async migrateLegacy(record: MfaRecord, now: number): Promise<WriteResult> {
    const legacy = record.authenticators.find((a) => a.kind === 'totp' && record.legacy);
    if (!legacy || legacy.kind !== 'totp') return 'ok';
    const w = new Write(now);
    w.set.push(`${ATTR.authenticators} = ${w.value(':authenticators', { M: { [legacy.id]: authenticatorToAttribute(legacy) } })}`);
    w.remove.push(LEGACY.secret, LEGACY.enabledAt, LEGACY.lastUsedAt, LEGACY.lastStep);
    w.conditions.push(
      `attribute_not_exists(${ATTR.authenticators})`,
      `${LEGACY.secret} = ${w.value(':secret', { B: legacy.sealedSecret })}`,
      `${LEGACY.lastStep} = ${w.value(':lastStep', num(legacy.lastStep))}`,
    );
    return (await this.send(record.userId, w, [])).result;
  }

  /** Adds one authenticator to the `count` read: the first creates the map (MFA was off) with the first recovery codes. */
  private addAuthenticator(
    w: Write,
    authenticator: MfaRecord['authenticators'][number],
    count: number,
    recoveryCodeHashes: string[] | undefined,
    notifyAddress: NotifyAddressChange | undefined,
  ): void {
    if (notifyAddress !== undefined) {
      w.set.push(`${ATTR.notifyAddress} = ${w.value(':notifyAddress', { S: notifyAddress.address })}`);
      // The address read is the one replaced: the change event that tells it (previousNotifyAddress) names no other.
      w.conditions.push(
        notifyAddress.read === undefined
          ? `attribute_not_exists(${ATTR.notifyAddress})`
          : `${ATTR.notifyAddress} = ${w.value(':notifyAddressRead', { S: notifyAddress.read })}`,
      );
    }
    if (count === 0) {
      w.conditions.push(MFA_OFF);
      w.set.push(`${ATTR.authenticators} = ${w.value(':authenticators', { M: { [authenticator.id]: authenticatorToAttribute(authenticator) } })}`);
      w.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
      w.remove.push('#ttl');
    } else {
      w.conditions.push(`size(${ATTR.authenticators}) = ${w.value(':count', num(count))}`);
      w.set.push(`${w.authenticator(authenticator.id)} = ${w.value(':authenticator', authenticatorToAttribute(authenticator))}`);
    }
    if (recoveryCodeHashes) {
      w.set.push(`${ATTR.recoveryCodes} = ${w.value(':codes', { SS: recoveryCodeHashes })}`);
      w.remove.push(ATTR.spentRecoveryCodes, ATTR.spentRecoveryCodeDigests);
    }
  }

  /** The send window moves from `previous` (as read) to `next`, or the write refuses. */
  private countSend(w: Write, send: EmailSend): void {
    w.set.push(`${ATTR.emailSends} = ${w.value(':emailSends', { L: send.next.map(num) })}`);
    w.conditions.push(
      send.previous === undefined ? `attribute_not_exists(${ATTR.emailSends})` : `${ATTR.emailSends} = ${w.value(':previousEmailSends', { L: send.previous.map(num) })}`,
    );
  }

  private requireForEmailCode(w: Write, requires: EmailCodeRequires): void {
    if ('emailAuthenticatorId' in requires) {
      const method = w.authenticator(requires.emailAuthenticatorId);
      w.conditions.push(`${w.field(method, AUTHENTICATOR.kind)} = ${w.value(':emailKind', { S: 'email' })}`);
    } else {
      w.conditions.push(requires.mfa === 'off' ? MFA_OFF : MFA_ON);
    }
  }

  /** No lock, no failures, a fresh failure window, no recovery-code or key attempts counted in any session. */
  private clearCounters(w: Write): void {
    w.value(':zero', num(0));
    w.set.push(
      `${ATTR.failures} = :zero`,
      `${ATTR.windowStart} = :now`,
      `${ATTR.windowFailures} = :zero`,
      `${ATTR.proofTimes} = ${w.value(':noProofAttempts', { L: NO_CEILING_ATTEMPTS.map(num) })}`,
      `${ATTR.sessions} = ${w.value(':noSessions', { M: {} })}`,
    );
    w.remove.push(ATTR.lockedUntil, ATTR.ceilingReportedAt);
  }

  /**
   * Lockout counters, the ceiling window and the starting session's entry come with the item,
   * so that the first check of any kind in that session counts its attempt in one write.
   */
  private startCounters(w: Write, sessionId: string): void {
    w.value(':zero', num(0));
    w.set.push(
      `${ATTR.proofTimes} = if_not_exists(${ATTR.proofTimes}, ${w.value(':noProofAttempts', { L: NO_CEILING_ATTEMPTS.map(num) })})`,
      `${ATTR.sessions} = if_not_exists(${ATTR.sessions}, ${w.value(':firstSession', { M: { [sessionId]: sessionToAttribute(freshSession()) } })})`,
      `${ATTR.failures} = if_not_exists(${ATTR.failures}, :zero)`,
      `${ATTR.windowStart} = if_not_exists(${ATTR.windowStart}, :now)`,
      `${ATTR.windowFailures} = if_not_exists(${ATTR.windowFailures}, :zero)`,
    );
  }

  /**
   * One conditional UpdateItem. Every write also sets a fresh `lastWriteId`: when DynamoDB applied
   * a write but its response was lost, the SDK sends it again and that second send fails its
   * condition against the state the first one wrote. Finding its own id on the item (returned
   * with the failed check) tells the write it succeeded. Every write also replaces the outbox
   * with its own change events (or removes it), so the stream carries each event exactly in the
   * record of the write that committed it. With `returnItem`, the item comes back too: as
   * written when the write applied, as found when not.
   */
  private async send(
    userId: string,
    w: Write,
    events: readonly ChangeEvent[],
    returnItem = false,
  ): Promise<{ result: WriteResult; item?: Item | undefined }> {
    const writeId = randomUUID();
    try {
      const { Attributes: written } = await this.client.send(
        new UpdateItemCommand({
          ...this.update(userId, w, events, writeId),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...(returnItem ? { ReturnValues: 'ALL_NEW' as const } : {}),
        }),
      );
      return { result: 'ok', item: written };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        const found = (error as ConditionalCheckFailedException).Item;
        return { result: found?.[ATTR.lastWriteId]?.S === writeId ? 'ok' : 'conflict', item: found };
      }
      throw error;
    }
  }

  /**
   * The user's item's write and `others` (uniqueness records) in one TransactWriteItems: all
   * apply or none. The write id is also the transaction's client request token, so the SDK's
   * re-send after a lost response is answered as done by DynamoDB (idempotent for 10 minutes).
   * Conflict when the user's item is not as expected (or another transaction held it); else
   * `credential_in_use` when one of `others` failed its condition.
   */
  private async transact(userId: string, w: Write, events: readonly ChangeEvent[], others: TransactWriteItem[]): Promise<{ result: KeyWriteResult; failed: number[] }> {
    const writeId = randomUUID();
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: writeId,
          TransactItems: [{ Update: { ...this.update(userId, w, events, writeId), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }, ...others],
        }),
      );
      return { result: 'ok', failed: [] };
    } catch (error) {
      if ((error as Error).name !== 'TransactionCanceledException') throw error;
      const [own, ...rest] = (error as { CancellationReasons?: { Code?: string; Item?: Item }[] }).CancellationReasons ?? [];
      if (own?.Code === 'ConditionalCheckFailed' && own.Item?.[ATTR.lastWriteId]?.S === writeId) return { result: 'ok', failed: [] };
      const failed = rest.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
      if ((own?.Code ?? 'None') === 'None' && failed.length > 0) return { result: 'credential_in_use', failed };
      return { result: 'conflict', failed: [] };
    }
  }

  /**
   * `w` with the release of the uniqueness records of `credentialIds`, in one transaction. A record
   * held by another user (a duplicate of a key registered before ids were unique) is not this
   * user's to release: the write goes again without it.
   */
  private async writeReleasing(userId: string, w: Write, events: readonly ChangeEvent[], credentialIds: readonly string[]): Promise<WriteResult> {
    let releasing = [...credentialIds];
    while (releasing.length > 0) {
      const { result, failed } = await this.transact(userId, w, events, releasing.map((id) => this.releaseCredential(userId, id)));
      if (result !== 'credential_in_use') return result;
      releasing = releasing.filter((_, index) => !failed.includes(index));
    }
    return (await this.send(userId, w, events)).result;
  }

  /** Deletes a credential id's uniqueness record, if it is this user's (a key registered before version 3 has none). */
  private releaseCredential(userId: string, credentialId: string): TransactWriteItem {
    return {
      Delete: {
        TableName: this.tableName,
        Key: credentialKey(credentialId),
        ConditionExpression: 'attribute_not_exists(#pk) OR #userId = :userId',
        ExpressionAttributeNames: { '#pk': MFA_TABLE.partitionKey, '#userId': CREDENTIAL.userId },
        ExpressionAttributeValues: { ':userId': { S: userId } },
      },
    };
  }

  /** The UpdateItem of `w` on the user's item, with the write id and the outbox (see `send`). */
  private update(userId: string, w: Write, events: readonly ChangeEvent[], writeId: string): Update {
    const values: Record<string, AttributeValue> = { ...w.values, ':writeId': { S: writeId } };
    const set = [`${ATTR.lastWriteId} = :writeId`, ...w.set];
    // A path removed whole takes what is under it along (DynamoDB refuses overlapping paths).
    const remove = [...new Set(w.remove)].filter((path, _i, all) => !all.some((other) => path.startsWith(`${other}.`)));
    if (events.length > 0) set.push(`${ATTR.outbox} = ${outboxValue(events, w.now, values)}`);
    else remove.push(ATTR.outbox);
    const update = [`SET ${set.join(', ')}`, ...(remove.length > 0 ? [`REMOVE ${remove.join(', ')}`] : []), ...(w.add.length > 0 ? [`ADD ${w.add.join(', ')}`] : []), ...(w.del.length > 0 ? [`DELETE ${w.del.join(', ')}`] : [])].join(' ');
    const condition = w.conditions.join(' AND ');
    if (`${update} ${condition}`.includes(':now')) values[':now'] = num(w.now);
    return {
      TableName: this.tableName,
      Key: userKey(userId),
      UpdateExpression: update,
      ...(condition ? { ConditionExpression: condition } : {}),
      ExpressionAttributeValues: values,
      ...(Object.keys(w.names).length > 0 ? { ExpressionAttributeNames: w.names } : {}),
    };
  }
}

/** The outbox: this write's change events, each a map of the event's own fields (the stream adds id, user and time). */
function outboxValue(events: readonly ChangeEvent[], now: number, values: Record<string, AttributeValue>): string {
  values[':outbox'] = {
    L: events.map((event) => {
      const m: Item = { event: { S: event.event }, requestId: { S: event.requestId }, at: num(now) };
      if (event.method) m.method = { S: event.method };
      if (event.authenticatorId) m.authenticatorId = { S: event.authenticatorId };
      if (event.recoveryCodesRemaining !== undefined) m.recoveryCodesRemaining = num(event.recoveryCodesRemaining);
      if (event.sourceIp) m.sourceIp = { S: event.sourceIp };
      if (event.previousNotifyAddress) m.previousNotifyAddress = { S: event.previousNotifyAddress };
      if (event.deviceId) m.deviceId = { S: event.deviceId };
      if (event.reason) m.reason = { S: event.reason };
      return { M: m };
    }),
  };
  return ':outbox';
}
