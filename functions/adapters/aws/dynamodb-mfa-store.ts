import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { ChangeEvent } from '../../domain/change-events.js';
import { NO_PROOF_ATTEMPTS, PROOF_ATTEMPTS_PER_WINDOW, refundProofAttempt, type CountedAttempt } from '../../domain/lockout.js';
import type { MfaRecord, PendingChallenge, PendingEmailCode, PendingEnrollment } from '../../domain/mfa-record.js';
import type {
  DecidedAttempt,
  EmailCodeRequires,
  EmailSend,
  MfaStore,
  Proof,
  ProofEffect,
  QuietAttemptGuard,
  QuietAttemptResult,
  WriteResult,
} from '../../ports/mfa-store.js';
import {
  ATTR,
  AUTHENTICATOR,
  authenticatorToAttribute,
  LEGACY,
  MFA_TABLE,
  num,
  PENDING_CHALLENGE,
  PENDING_EMAIL_CODE,
  pendingChallengeToAttribute,
  pendingEmailCodeToAttribute,
  toRecord,
  userKey,
  type Item,
} from './mfa-item.js';

/** Items of users without an active method linger this long after their last change, then expire. */
const IDLE_ITEM_TTL_SECONDS = 7 * 24 * 3600;

const MFA_ON = `(attribute_exists(${ATTR.authenticators}) OR attribute_exists(${LEGACY.secret}))`;
const MFA_OFF = `(attribute_not_exists(${ATTR.authenticators}) AND attribute_not_exists(${LEGACY.secret}))`;
const NOT_LOCKED = `(attribute_not_exists(${ATTR.lockedUntil}) OR ${ATTR.lockedUntil} <= :now)`;
const PENDING_CONFIRMABLE = `attribute_exists(${ATTR.pendingSecret}) AND ${ATTR.pendingExpiresAt} > :now AND (${ATTR.pendingProved} = :true OR ${MFA_OFF})`;

/**
 * One UpdateItem being put together: clauses, a condition, and the placeholders they use.
 * Nested authenticator fields are always named through placeholders (several are reserved words).
 */
class Write {
  readonly set: string[] = [];
  readonly remove: string[] = [];
  readonly del: string[] = [];
  readonly add: string[] = [];
  readonly conditions: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private ids = 0;

  constructor(readonly now: number) {}

  value(placeholder: string, value: AttributeValue): string {
    this.values[placeholder] = value;
    return placeholder;
  }

  /** `authenticators.#aN` for one authenticator id. */
  authenticator(id: string): string {
    const placeholder = `#a${this.ids++}`;
    this.names[placeholder] = id;
    return `${ATTR.authenticators}.${placeholder}`;
  }

  /** `emailCodes.#sN` for one first-factor session. */
  emailCode(sessionId: string): string {
    const placeholder = `#s${this.ids++}`;
    this.names[placeholder] = sessionId;
    return `${ATTR.emailCodes}.${placeholder}`;
  }

  field(path: string, field: string): string {
    this.names[`#${field}`] = field;
    return `${path}.#${field}`;
  }

  resetCodeFailures(): void {
    this.set.push(`${ATTR.failures} = :zero`, `${ATTR.windowFailures} = if_not_exists(${ATTR.windowFailures}, :one) - :one`);
    this.value(':zero', num(0));
    this.value(':one', num(1));
    this.remove.push(ATTR.lockedUntil);
  }

  idleTtl(): void {
    this.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
    this.set.push('#ttl = :ttl');
    this.value(':ttl', num(Math.ceil(this.now / 1000) + IDLE_ITEM_TTL_SECONDS));
  }
}

/** MfaStore on DynamoDB: one item per user, every mutation a single conditional UpdateItem. */
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
    w.conditions.push(guard.requires === 'mfa-enabled' ? MFA_ON : guard.requires === 'pending-email' ? `attribute_exists(${ATTR.emailCodes})` : PENDING_CONFIRMABLE);
    if (guard.requires === 'pending-enrollment') w.value(':true', { BOOL: true });
    if (guard.lane === 'code') {
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
      // The window keeps its length: the newest check goes in at the end, the oldest comes out.
      w.set.push(`${ATTR.proofTimes}[${PROOF_ATTEMPTS_PER_WINDOW}] = ${w.value(':at', num(guard.at))}`);
      w.remove.push(`${ATTR.proofTimes}[0]`);
      w.conditions.push(`${ATTR.proofTimes}[0] <= ${w.value(':oldestAtMost', num(guard.oldestAtMost))}`);
    }
    // The last clause makes the increment idempotent: a re-send of an applied write fails it and is recognised as done.
    w.conditions.push(`${ATTR.lastWriteId} <> :writeId`);
    const { result, item } = await this.send(userId, w, [], true);
    return { counted: result === 'ok', record: item ? toRecord(userId, item) : undefined };
  }

  async countDecidedAttempt(userId: string, attempt: DecidedAttempt, now: number, events: readonly ChangeEvent[] = []): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    if (attempt.lane === 'code') {
      w.set.push(`${ATTR.failures} = :next`, `${ATTR.windowStart} = :windowStart`, `${ATTR.windowFailures} = :windowFailures`);
      w.value(':previous', num(attempt.previousFailures));
      w.value(':next', num(attempt.failures));
      w.value(':windowStart', num(attempt.windowStart));
      w.value(':windowFailures', num(attempt.windowFailures));
      if (attempt.lockedUntil !== undefined) w.set.push(`${ATTR.lockedUntil} = ${w.value(':lockedUntil', num(attempt.lockedUntil))}`);
      w.conditions.push(
        attempt.previousFailures === 0 ? `(attribute_not_exists(${ATTR.failures}) OR ${ATTR.failures} = :previous)` : `${ATTR.failures} = :previous`,
        NOT_LOCKED,
      );
    } else {
      w.set.push(`${ATTR.proofTimes} = ${w.value(':proofTimes', { L: attempt.proofTimes.map(num) })}`);
      w.conditions.push(`attribute_not_exists(${ATTR.proofTimes})`);
    }
    return (await this.send(userId, w, events)).result;
  }

  async refundCodeAttempt(userId: string, counted: CountedAttempt, now: number, events: readonly ChangeEvent[] = []): Promise<void> {
    const decrement = (fields: string[]) => {
      const w = new Write(now);
      w.set.push(...fields.map((field) => `${field} = ${field} - :one`));
      w.value(':one', num(1));
      w.value(':windowStart', num(counted.windowStart));
      w.conditions.push(`${ATTR.windowStart} = :windowStart`, ...fields.map((field) => `${field} >= :one`));
      return this.send(userId, w, events);
    };
    // When a success reset the consecutive count in between, only the failure window still holds the attempt.
    if ((await decrement([ATTR.failures, ATTR.windowFailures])).result === 'conflict' && (await decrement([ATTR.windowFailures])).result === 'conflict') {
      if (events.length > 0) {
        // Nothing left to give back: the events still need a write to carry them to the stream.
        const w = new Write(now);
        w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
        await this.send(userId, w, events);
      }
    }
    if (counted.lockedUntil !== undefined) {
      // The lock this very attempt started goes with it (unless another attempt has started a newer one).
      const w = new Write(now);
      w.remove.push(ATTR.lockedUntil);
      w.conditions.push(`${ATTR.lockedUntil} = ${w.value(':lockedUntil', num(counted.lockedUntil))}`);
      await this.send(userId, w, []);
    }
  }

  async refundProofAttempt(userId: string, at: number, now: number, known?: readonly number[], events: readonly ChangeEvent[] = []): Promise<void> {
    let times = known;
    for (let round = 0; round < 16; round++) {
      if (times === undefined) times = (await this.get(userId))?.proofTimes;
      const window = times && refundProofAttempt(times, at);
      if (!times || !window) break;
      // Applied only to the window as read: a check counted in between shifts it, and this round reads it again.
      const w = new Write(now);
      w.set.push(`${ATTR.proofTimes} = ${w.value(':proofTimes', { L: window.map(num) })}`);
      w.conditions.push(`size(${ATTR.proofTimes}) = ${w.value(':size', num(times.length))}`);
      times.forEach((time, i) => w.conditions.push(`${ATTR.proofTimes}[${i}] = ${w.value(`:t${i}`, num(time))}`));
      const { result, item } = await this.send(userId, w, events);
      if (result === 'ok') return;
      times = item ? (toRecord(userId, item).proofTimes ?? []) : [];
    }
    if (events.length > 0) {
      // Nothing (more) to give back: the events still need a write to carry them to the stream.
      const w = new Write(now);
      w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
      await this.send(userId, w, events);
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
          w.set.push(`${w.field(app, AUTHENTICATOR.lastStep)} = :step`, `${w.field(app, AUTHENTICATOR.lastUsedAt)} = :now`);
        }
        w.resetCodeFailures();
        break;
      }
      case 'recovery_code':
        w.conditions.push(MFA_ON, `contains(${ATTR.recoveryCodes}, ${w.value(':hash', { S: proof.hash })})`);
        if (effect.kind !== 'replace_recovery_codes' && !removesAll) {
          // The used code's hash stays with the set: a copy of it is then recognised as spent, not counted as a guess.
          w.del.push(`${ATTR.recoveryCodes} ${w.value(':hashSet', { SS: [proof.hash] })}`);
          w.add.push(`${ATTR.spentRecoveryCodes} :hashSet`);
        }
        break;
      case 'webauthn': {
        const key = w.authenticator(proof.authenticatorId);
        const pending = ATTR.authentication;
        w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.challenge)} = ${w.value(':challenge', { S: proof.challenge })}`);
        w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.expiresAt)} > :now`);
        // Compare-and-swap on the signature counter: two assertions of one key can never both move it.
        w.conditions.push(`${w.field(key, AUTHENTICATOR.counter)} = ${w.value(':previousCounter', num(proof.previousCounter))}`);
        if (!removing.includes(proof.authenticatorId)) {
          w.set.push(
            `${w.field(key, AUTHENTICATOR.counter)} = ${w.value(':counter', num(proof.counter))}`,
            `${w.field(key, AUTHENTICATOR.lastUsedAt)} = :now`,
            `${w.field(key, AUTHENTICATOR.backedUp)} = ${w.value(':backedUp', { BOOL: proof.backedUp })}`,
          );
        }
        w.remove.push(pending);
        // The consumed challenge is kept: a copy of this response is then recognised as spent, not counted as a guess.
        if (!removesAll) w.set.push(`${ATTR.lastChallenge} = :challenge`);
        break;
      }
      case 'pending_totp':
        w.conditions.push(`${ATTR.pendingSecret} = ${w.value(':pendingSecret', { B: proof.sealedSecret })}`, PENDING_CONFIRMABLE);
        w.value(':true', { BOOL: true });
        w.remove.push(ATTR.pendingSecret, ATTR.pendingExpiresAt, ATTR.pendingProved);
        w.resetCodeFailures();
        break;
      case 'email':
      case 'pending_email': {
        // The session's code, exactly as checked and still unexpired: consumed by this write, so it works once.
        const code = w.emailCode(proof.sessionId);
        w.conditions.push(
          `${w.field(code, PENDING_EMAIL_CODE.hash)} = ${w.value(':emailHash', { B: proof.hash })}`,
          `${w.field(code, PENDING_EMAIL_CODE.expiresAt)} > :now`,
        );
        if (!removesAll) w.remove.push(code);
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
        w.remove.push(ATTR.spentRecoveryCodes);
        break;
      case 'add_authenticator':
        this.addAuthenticator(w, effect.authenticator, effect.authenticatorCount, effect.recoveryCodeHashes, effect.notifyAddress);
        break;
      case 'remove_authenticators':
        w.conditions.push(`size(${ATTR.authenticators}) = ${w.value(':count', num(effect.authenticatorCount))}`);
        if (removesAll) {
          w.remove.push(ATTR.authenticators, ATTR.recoveryCodes, ATTR.spentRecoveryCodes, ATTR.authentication, ATTR.lastChallenge, ATTR.registration, ATTR.emailCodes);
          w.idleTtl();
        } else {
          for (const id of effect.ids) {
            const path = w.authenticator(id);
            w.conditions.push(`attribute_exists(${path})`);
            w.remove.push(path);
          }
        }
        break;
      case 'start_totp_enrollment':
        w.set.push(
          `${ATTR.pendingSecret} = ${w.value(':newPendingSecret', { B: effect.pending.sealedSecret })}`,
          `${ATTR.pendingExpiresAt} = ${w.value(':pendingExpiresAt', num(effect.pending.expiresAt))}`,
          `${ATTR.pendingProved} = ${w.value(':proved', { BOOL: true })}`,
        );
        break;
      case 'start_webauthn_registration':
        w.set.push(
          `${ATTR.registration} = ${w.value(':registration', pendingChallengeToAttribute(effect.registration))}`,
          `${ATTR.userHandle} = ${w.value(':userHandle', { S: effect.userHandle })}`,
        );
        // The options handed out carry this handle: it must be the one stored (a concurrent start may have stored another).
        w.conditions.push(`(attribute_not_exists(${ATTR.userHandle}) OR ${ATTR.userHandle} = :userHandle)`);
        break;
      case 'count_email_send':
        this.countSend(w, effect.send);
        break;
    }
    return (await this.send(userId, w, events)).result;
  }

  async putPendingEnrollment(userId: string, pending: PendingEnrollment, now: number): Promise<WriteResult> {
    const w = new Write(now);
    w.set.push(
      `${ATTR.pendingSecret} = ${w.value(':secret', { B: pending.sealedSecret })}`,
      `${ATTR.pendingExpiresAt} = ${w.value(':expiresAt', num(pending.expiresAt))}`,
      `${ATTR.pendingProved} = ${w.value(':proved', { BOOL: false })}`,
    );
    this.startCounters(w);
    w.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
    w.set.push(`#ttl = ${w.value(':ttl', num(Math.ceil(pending.expiresAt / 1000) + IDLE_ITEM_TTL_SECONDS))}`);
    w.conditions.push(MFA_OFF);
    return (await this.send(userId, w, [])).result;
  }

  async putRegistration(
    userId: string,
    registration: PendingChallenge,
    newUserHandle: string,
    now: number,
  ): Promise<{ result: WriteResult; userHandle?: string | undefined }> {
    const w = new Write(now);
    w.set.push(
      `${ATTR.registration} = ${w.value(':registration', pendingChallengeToAttribute(registration))}`,
      `${ATTR.userHandle} = if_not_exists(${ATTR.userHandle}, ${w.value(':userHandle', { S: newUserHandle })})`,
    );
    this.startCounters(w);
    w.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
    w.set.push(`#ttl = ${w.value(':ttl', num(Math.ceil(registration.expiresAt / 1000) + IDLE_ITEM_TTL_SECONDS))}`);
    w.conditions.push(MFA_OFF);
    // The item comes back with the write: the options handed out carry the handle it holds.
    const { result, item } = await this.send(userId, w, [], true);
    return { result, userHandle: result === 'ok' ? item?.[ATTR.userHandle]?.S : undefined };
  }

  async putAuthenticationChallenge(userId: string, challenge: PendingChallenge, now: number): Promise<WriteResult> {
    const w = new Write(now);
    w.set.push(`${ATTR.authentication} = ${w.value(':authentication', pendingChallengeToAttribute(challenge))}`);
    w.conditions.push(MFA_ON);
    return (await this.send(userId, w, [])).result;
  }

  async addRegisteredKey(
    userId: string,
    input: {
      challenge: string;
      authenticator: MfaRecord['authenticators'][number];
      authenticatorCount: number;
      proved: boolean;
      recoveryCodeHashes?: string[] | undefined;
      notifyAddress?: string | undefined;
    },
    now: number,
    events: readonly ChangeEvent[] = [],
  ): Promise<WriteResult> {
    const w = new Write(now);
    const pending = ATTR.registration;
    w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.challenge)} = ${w.value(':challenge', { S: input.challenge })}`);
    w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.expiresAt)} > :now`);
    if (input.authenticatorCount > 0) w.conditions.push(`${w.field(pending, PENDING_CHALLENGE.proved)} = ${w.value(':true', { BOOL: true })}`);
    w.remove.push(pending);
    this.addAuthenticator(w, input.authenticator, input.authenticatorCount, input.recoveryCodeHashes, input.notifyAddress);
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
    this.startCounters(w);
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

  async resetMfa(userId: string, now: number, events: readonly ChangeEvent[] = []): Promise<WriteResult> {
    const w = new Write(now);
    w.conditions.push(`attribute_exists(${MFA_TABLE.partitionKey})`);
    w.remove.push(
      ATTR.authenticators,
      ATTR.recoveryCodes,
      ATTR.spentRecoveryCodes,
      ATTR.pendingSecret,
      ATTR.pendingExpiresAt,
      ATTR.pendingProved,
      ATTR.registration,
      ATTR.authentication,
      ATTR.lastChallenge,
      ATTR.userHandle,
      ATTR.emailCodes,
      LEGACY.secret,
      LEGACY.enabledAt,
      LEGACY.lastUsedAt,
      LEGACY.lastStep,
    );
    this.clearCounters(w);
    w.idleTtl();
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
    notifyAddress: string | undefined,
  ): void {
    if (notifyAddress !== undefined) w.set.push(`${ATTR.notifyAddress} = ${w.value(':notifyAddress', { S: notifyAddress })}`);
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
      w.remove.push(ATTR.spentRecoveryCodes);
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

  /** No lock, no failures, a fresh failure window, no recovery-code or key attempts counted. */
  private clearCounters(w: Write): void {
    w.value(':zero', num(0));
    w.set.push(
      `${ATTR.failures} = :zero`,
      `${ATTR.windowStart} = :now`,
      `${ATTR.windowFailures} = :zero`,
      `${ATTR.proofTimes} = ${w.value(':noProofAttempts', { L: NO_PROOF_ATTEMPTS.map(num) })}`,
    );
    w.remove.push(ATTR.lockedUntil);
  }

  /** Lockout counters and the rate window start with the item, so the first check of any kind counts its attempt in one write. */
  private startCounters(w: Write): void {
    w.value(':zero', num(0));
    w.set.push(
      `${ATTR.proofTimes} = if_not_exists(${ATTR.proofTimes}, ${w.value(':noProofAttempts', { L: NO_PROOF_ATTEMPTS.map(num) })})`,
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
    const values: Record<string, AttributeValue> = { ...w.values, ':writeId': { S: writeId } };
    const set = [`${ATTR.lastWriteId} = :writeId`, ...w.set];
    const remove = [...new Set(w.remove)];
    if (events.length > 0) set.push(`${ATTR.outbox} = ${outboxValue(events, w.now, values)}`);
    else remove.push(ATTR.outbox);
    const update = [`SET ${set.join(', ')}`, ...(remove.length > 0 ? [`REMOVE ${remove.join(', ')}`] : []), ...(w.add.length > 0 ? [`ADD ${w.add.join(', ')}`] : []), ...(w.del.length > 0 ? [`DELETE ${w.del.join(', ')}`] : [])].join(' ');
    const condition = w.conditions.join(' AND ');
    if (`${update} ${condition}`.includes(':now')) values[':now'] = num(w.now);
    try {
      const { Attributes: written } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: update,
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...(returnItem ? { ReturnValues: 'ALL_NEW' as const } : {}),
          ...(Object.keys(w.names).length > 0 ? { ExpressionAttributeNames: w.names } : {}),
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
      return { M: m };
    }),
  };
  return ':outbox';
}
