import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { CountedAttempt } from '../../domain/lockout.js';
import type { MfaRecord, MfaStore, PendingEnrollment, Proof, ProofEffect, QuietAttemptGuard, QuietAttemptResult, WriteResult } from '../../ports/mfa-store.js';
import { MFA_TABLE, userKey } from './mfa-table.js';

/** Items of users without an active method linger this long after their last change, then expire. */
const IDLE_ITEM_TTL_SECONDS = 7 * 24 * 3600;

const NOT_LOCKED = '(attribute_not_exists(lockedUntil) OR lockedUntil <= :now)';
/** A success hands back the attempt counted against the failure window before its code was checked. */
const GIVE_BACK_ATTEMPT = 'windowFailures = if_not_exists(windowFailures, :one) - :one';
/** The id of the last write applied to the item (see `update`). */
const WRITE_ID = 'lastWriteId';

type Values = Record<string, AttributeValue>;

const num = (value: number): AttributeValue => ({ N: String(value) });
const readNum = (value: AttributeValue | undefined): number | undefined => (value?.N === undefined ? undefined : Number(value.N));

/** MfaStore on DynamoDB: one item per user, every mutation a single conditional UpdateItem. */
export class DynamoDbMfaStore implements MfaStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(userId: string): Promise<MfaRecord | undefined> {
    const { Item: item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: userKey(userId), ConsistentRead: true }),
    );
    return item ? toRecord(userId, item) : undefined;
  }

  async countQuietAttempt(userId: string, guard: QuietAttemptGuard, now: number): Promise<QuietAttemptResult> {
    const values: Values = { ':one': num(1), ':windowFailuresBelow': num(guard.windowFailuresBelow), ':windowStartAfter': num(guard.windowStartAfter) };
    guard.failuresIn.forEach((failures, i) => (values[`:f${i}`] = num(failures)));
    const applies =
      guard.requires === 'totp'
        ? 'attribute_exists(totpSecret)'
        : 'attribute_exists(pendingSecret) AND attribute_not_exists(totpSecret) AND pendingExpiresAt > :now';
    const { result, item } = await this.write(
      userId,
      {
        update: 'SET failures = failures + :one, windowFailures = windowFailures + :one',
        // The last clause makes the increment idempotent: a re-send of an applied write fails it and is recognised as done.
        condition:
          `${applies} AND ${NOT_LOCKED} AND windowStart > :windowStartAfter AND windowFailures < :windowFailuresBelow ` +
          `AND failures IN (${guard.failuresIn.map((_, i) => `:f${i}`).join(', ')}) AND ${WRITE_ID} <> :writeId`,
        values,
        now,
      },
      true,
    );
    return { counted: result === 'ok', record: item ? toRecord(userId, item) : undefined };
  }

  putPendingEnrollment(userId: string, pending: PendingEnrollment, now: number): Promise<WriteResult> {
    return this.update(userId, {
      // The failure window starts here if the item has none, so the first confirmation can count its attempt in one write.
      update:
        'SET pendingSecret = :secret, pendingExpiresAt = :expiresAt, failures = if_not_exists(failures, :zero), ' +
        'windowStart = if_not_exists(windowStart, :now), windowFailures = if_not_exists(windowFailures, :zero), #ttl = :ttl',
      condition: 'attribute_not_exists(totpSecret)',
      names: { '#ttl': MFA_TABLE.timeToLiveAttribute },
      values: {
        ':secret': { B: pending.sealedSecret },
        ':expiresAt': num(pending.expiresAt),
        ':zero': num(0),
        ':ttl': num(Math.ceil(pending.expiresAt / 1000) + IDLE_ITEM_TTL_SECONDS),
      },
      now,
    });
  }

  enableTotp(
    userId: string,
    input: { pendingSealedSecret: Uint8Array; step: number; recoveryCodeHashes?: string[] | undefined },
    now: number,
  ): Promise<WriteResult> {
    const set = ['totpSecret = :secret', 'totpEnabledAt = :now', 'lastStep = :step', 'failures = :zero', GIVE_BACK_ATTEMPT];
    const values: Values = { ':secret': { B: input.pendingSealedSecret }, ':step': num(input.step), ':zero': num(0), ':one': num(1) };
    if (input.recoveryCodeHashes) {
      set.push('recoveryCodes = :codes');
      values[':codes'] = { SS: input.recoveryCodeHashes };
    }
    return this.update(userId, {
      update: `SET ${set.join(', ')} REMOVE pendingSecret, pendingExpiresAt, lockedUntil, totpLastUsedAt, #ttl`,
      condition: 'pendingSecret = :secret AND pendingExpiresAt > :now AND attribute_not_exists(totpSecret)',
      names: { '#ttl': MFA_TABLE.timeToLiveAttribute },
      values,
      now,
    });
  }

  commitProof(userId: string, proof: Proof, effect: ProofEffect, now: number): Promise<WriteResult> {
    const set = ['failures = :zero', GIVE_BACK_ATTEMPT];
    const remove = ['lockedUntil'];
    const values: Values = { ':zero': num(0), ':one': num(1) };
    const names: Record<string, string> = {};
    let del: string | undefined;
    let condition: string;

    if (proof.kind === 'totp') {
      condition = 'totpSecret = :secret AND lastStep < :step';
      values[':secret'] = { B: proof.sealedSecret };
      values[':step'] = num(proof.step);
      if (effect.kind !== 'disable') set.push('lastStep = :step', 'totpLastUsedAt = :now');
    } else {
      condition = 'attribute_exists(totpSecret) AND contains(recoveryCodes, :hash)';
      values[':hash'] = { S: proof.hash };
      if (effect.kind === 'none') {
        del = 'recoveryCodes :hashSet';
        values[':hashSet'] = { SS: [proof.hash] };
      }
    }

    if (effect.kind === 'replace_recovery_codes') {
      set.push('recoveryCodes = :codes');
      values[':codes'] = { SS: effect.hashes };
    } else if (effect.kind === 'disable') {
      remove.push('totpSecret', 'totpEnabledAt', 'totpLastUsedAt', 'lastStep', 'recoveryCodes');
      set.push('#ttl = :ttl');
      names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
      values[':ttl'] = num(Math.ceil(now / 1000) + IDLE_ITEM_TTL_SECONDS);
    }

    return this.update(userId, {
      update: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}${del ? ` DELETE ${del}` : ''}`,
      condition,
      names,
      values,
      now,
    });
  }

  recordFailure(userId: string, input: { previousFailures: number } & CountedAttempt, now: number): Promise<WriteResult> {
    const values: Values = {
      ':previous': num(input.previousFailures),
      ':next': num(input.failures),
      ':windowStart': num(input.windowStart),
      ':windowFailures': num(input.windowFailures),
    };
    let update = 'SET failures = :next, windowStart = :windowStart, windowFailures = :windowFailures';
    if (input.lockedUntil !== undefined) {
      update += ', lockedUntil = :lockedUntil';
      values[':lockedUntil'] = num(input.lockedUntil);
    }
    const unchanged = input.previousFailures === 0 ? '(attribute_not_exists(failures) OR failures = :previous)' : 'failures = :previous';
    return this.update(userId, {
      update,
      condition: `attribute_exists(${MFA_TABLE.partitionKey}) AND ${unchanged} AND ${NOT_LOCKED}`,
      values,
      now,
    });
  }

  /** One conditional UpdateItem (see `write`). */
  private async update(
    userId: string,
    request: { update: string; condition: string; values: Values; names?: Record<string, string>; now: number },
  ): Promise<WriteResult> {
    return (await this.write(userId, request, false)).result;
  }

  /**
   * One conditional UpdateItem. `request.update` starts with its SET clause. Every write also sets
   * a fresh `lastWriteId`: when DynamoDB applied a write but its response was lost, the SDK sends
   * it again and that second send fails its condition against the state the first one wrote.
   * Finding its own id on the item (returned with the failed check) tells the write it succeeded.
   * With `returnItem`, the item comes back too: as written when the write applied, as found when not.
   */
  private async write(
    userId: string,
    request: { update: string; condition: string; values: Values; names?: Record<string, string>; now: number },
    returnItem: boolean,
  ): Promise<{ result: WriteResult; item?: Record<string, AttributeValue> | undefined }> {
    if (!request.update.startsWith('SET ')) throw new Error('An MFA item update starts with its SET clause.');
    const writeId = randomUUID();
    const values: Values = { ...request.values, ':writeId': { S: writeId } };
    if (request.condition.includes(':now') || request.update.includes(':now')) values[':now'] = num(request.now);
    try {
      const { Attributes: written } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: `SET ${WRITE_ID} = :writeId, ${request.update.slice('SET '.length)}`,
          ConditionExpression: request.condition,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...(returnItem ? { ReturnValues: 'ALL_NEW' as const } : {}),
          ...(request.names && Object.keys(request.names).length > 0 ? { ExpressionAttributeNames: request.names } : {}),
        }),
      );
      return { result: 'ok', item: written };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        const found = (error as ConditionalCheckFailedException).Item;
        return { result: found?.[WRITE_ID]?.S === writeId ? 'ok' : 'conflict', item: found };
      }
      throw error;
    }
  }
}

function toRecord(userId: string, item: Record<string, AttributeValue>): MfaRecord {
  const pendingSecret = item.pendingSecret?.B;
  const totpSecret = item.totpSecret?.B;
  return {
    userId,
    pending: pendingSecret ? { sealedSecret: pendingSecret, expiresAt: readNum(item.pendingExpiresAt) ?? 0 } : undefined,
    totp: totpSecret
      ? {
          sealedSecret: totpSecret,
          enabledAt: readNum(item.totpEnabledAt) ?? 0,
          lastUsedAt: readNum(item.totpLastUsedAt),
          lastStep: readNum(item.lastStep) ?? -1,
        }
      : undefined,
    recoveryCodeHashes: item.recoveryCodes?.SS ?? [],
    failures: readNum(item.failures) ?? 0,
    lockedUntil: readNum(item.lockedUntil),
    windowStart: readNum(item.windowStart),
    windowFailures: readNum(item.windowFailures),
  };
}
