import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMfaStore } from '../../functions/adapters/aws/dynamodb-mfa-store.js';
import { CHANGE_EVENTS, type PublishedChangeEvent } from '../../functions/domain/change-events.js';
import { InvalidCodeError, TooManyAttemptsError } from '../../functions/domain/errors.js';
import { LOCKOUT_THRESHOLD } from '../../functions/domain/lockout.js';
import { MfaService, type Actor, type AdmittedOperator, type Operator } from '../../functions/service/mfa-service.js';
import { changeEventsOf, streamOf } from '../support/change-events.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { FaultInjector } from '../support/fault-injection.js';
import { codeAt, createTestService, newActor } from '../support/service.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;

const supportOperator: Operator = { principal: 'arn:aws:iam::111122223333:role/support', audit: { requestId: 'req-admin', sourceIp: '198.51.100.9' } };
/** Everything secret a test handed out or typed in: none of it may appear in any event. */
const secrets: string[] = [];

async function enroll(t: TestService, actor: Actor, service: MfaService = t.service) {
  const enrollment = await service.startTotpEnrollment(actor);
  const code = codeAt(enrollment.secret, t.clock);
  const confirmed = await service.confirmTotpEnrollment(actor, code);
  t.clock.advance(30_000);
  secrets.push(enrollment.secret, code, ...(confirmed.recoveryCodes ?? []));
  return { secret: enrollment.secret, recoveryCodes: confirmed.recoveryCodes! };
}

/** What each event must say, apart from its id and time (checked on their own). */
const shape = (events: PublishedChangeEvent[]) => events.map(({ id: _id, at: _at, ...rest }) => rest);

describe('change events from the table stream', () => {
  let t: TestService;
  /** Admitted as the handlers admit a caller (the test settings name this principal). */
  let operator: AdmittedOperator;
  beforeAll(async () => {
    t = await createTestService();
    operator = t.service.admitOperator(supportOperator, undefined);
  });

  it('records exactly one event per committed change, and none for requests that changed nothing', async () => {
    const actor = newActor('events');
    const requestId = actor.audit.requestId;
    await t.service.status(actor);
    await expect(t.service.verify(actor, { code: '123456' })).rejects.toThrow();
    const { secret, recoveryCodes } = await enroll(t, actor);
    const [app] = (await t.service.status(actor)).authenticators;

    const code = codeAt(secret, t.clock);
    await t.service.verify(actor, { code });
    await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
    await t.service.verify(actor, { recoveryCode: recoveryCodes[0]! });
    await t.service.renameAuthenticator(actor, app!.id, 'Work phone');
    t.clock.advance(30_000);
    const fresh = await t.service.regenerateRecoveryCodes(actor, { code: codeAt(secret, t.clock) });
    secrets.push(...fresh.recoveryCodes);
    await t.service.removeAuthenticator(actor, app!.id, { recoveryCode: fresh.recoveryCodes[3]! });

    const events = await changeEventsOf(t.tableName, actor.userId);
    expect(shape(events)).toEqual([
      { event: 'mfa.enabled', userId: actor.userId, requestId, method: 'totp', authenticatorId: app!.id },
      { event: 'authenticator.added', userId: actor.userId, requestId, method: 'totp', authenticatorId: app!.id },
      { event: 'recovery_code.used', userId: actor.userId, requestId, method: 'recovery_code', recoveryCodesRemaining: 9 },
      { event: 'authenticator.renamed', userId: actor.userId, requestId, method: 'totp', authenticatorId: app!.id },
      { event: 'recovery_codes.regenerated', userId: actor.userId, requestId, method: 'totp', recoveryCodesRemaining: 10 },
      { event: 'recovery_code.used', userId: actor.userId, requestId, method: 'recovery_code', recoveryCodesRemaining: 0 },
      { event: 'authenticator.removed', userId: actor.userId, requestId, method: 'totp', authenticatorId: app!.id },
      { event: 'mfa.disabled', userId: actor.userId, requestId },
    ]);
  });

  it('reports, when a recovery code pays for a regenerate, what was left of the old set in "used" and the new set in "regenerated"', async () => {
    const actor = newActor('regenerate-with-code');
    const { recoveryCodes } = await enroll(t, actor);
    await t.service.verify(actor, { recoveryCode: recoveryCodes[0]! });
    const fresh = await t.service.regenerateRecoveryCodes(actor, { recoveryCode: recoveryCodes[1]! });
    secrets.push(...fresh.recoveryCodes);

    const events = shape(await changeEventsOf(t.tableName, actor.userId)).slice(2);
    expect(events).toEqual([
      { event: 'recovery_code.used', userId: actor.userId, requestId: actor.audit.requestId, method: 'recovery_code', recoveryCodesRemaining: 9 },
      { event: 'recovery_code.used', userId: actor.userId, requestId: actor.audit.requestId, method: 'recovery_code', recoveryCodesRemaining: 8 },
      { event: 'recovery_codes.regenerated', userId: actor.userId, requestId: actor.audit.requestId, method: 'recovery_code', recoveryCodesRemaining: 10 },
    ]);
  });

  it('gives every event a stable unique id (the write id and its place in the write) and the time of its change', async () => {
    const actor = newActor('ids');
    const before = t.clock.now();
    await enroll(t, actor);
    const [enabled, added] = await changeEventsOf(t.tableName, actor.userId);
    expect(enabled!.id).toMatch(/^[0-9a-f-]{36}:0$/);
    expect(added!.id).toBe(enabled!.id.replace(/:0$/, ':1'));
    expect(enabled!.at).toBe(new Date(before).toISOString());
    const all = (await streamOf(t.tableName)).events.map((event) => event.id);
    expect(new Set(all).size).toBe(all.length);
    for (const event of (await streamOf(t.tableName)).events) expect(Object.keys(CHANGE_EVENTS)).toContain(event.event);
  });

  it('signals a replayed code (a change of nothing) once, and a lockout once when it starts', async () => {
    const actor = newActor('lockout');
    const { secret } = await enroll(t, actor);
    const code = codeAt(secret, t.clock);
    await t.service.verify(actor, { code });
    await expect(t.service.verify(actor, { code })).rejects.toBeInstanceOf(InvalidCodeError);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(InvalidCodeError);
    await expect(t.service.verify(actor, { code: '000000' })).rejects.toBeInstanceOf(TooManyAttemptsError);

    const events = (await changeEventsOf(t.tableName, actor.userId)).map((event) => event.event);
    expect(events).toEqual(['mfa.enabled', 'authenticator.added', 'code.replay_refused', 'lockout.started']);
    const replay = (await changeEventsOf(t.tableName, actor.userId))[2]!;
    expect(replay).toMatchObject({ method: 'totp', requestId: actor.audit.requestId });
  });

  it("records an operator's unlock and reset, and a fresh enrollment after the reset brings recovery codes again", async () => {
    const actor = newActor('admin');
    await enroll(t, actor);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await t.service.verify(actor, { code: '000000' }).catch(() => {});
    const unlocked = await t.service.adminUnlock(operator, actor.userId, 'Ticket 1: locked out');
    expect(unlocked.lock).toEqual({ locked: false, failures: 0, lockedUntil: null });
    expect(unlocked.mfaEnabled).toBe(true);
    const reset = await t.service.adminReset(operator, actor.userId, 'Ticket 2: lost every factor');
    expect(reset).toMatchObject({ mfaEnabled: false, authenticators: [], recoveryCodes: { remaining: 0 } });
    const again = await enroll(t, actor);
    expect(again.recoveryCodes).toHaveLength(10);

    const events = await changeEventsOf(t.tableName, actor.userId);
    expect(events.map((event) => event.event)).toEqual([
      'mfa.enabled',
      'authenticator.added',
      'lockout.started',
      'admin.unlock',
      'admin.reset',
      'mfa.enabled',
      'authenticator.added',
    ]);
    expect(shape(events.filter((event) => event.event.startsWith('admin.')))).toEqual([
      { event: 'admin.unlock', userId: actor.userId, requestId: 'req-admin' },
      { event: 'admin.reset', userId: actor.userId, requestId: 'req-admin' },
    ]);
  });

  it('records nothing for an operator acting on an unknown user', async () => {
    const before = (await streamOf(t.tableName)).records.length;
    await expect(t.service.adminReset(operator, 'nobody-here', 'typo')).rejects.toThrow();
    await expect(t.service.adminUnlock(operator, 'nobody-here', 'typo')).rejects.toThrow();
    expect((await streamOf(t.tableName)).records.length).toBe(before);
  });

  it('loses no event and doubles none when a write applied but its response was lost', async () => {
    const injector = new FaultInjector();
    const retrying = new DynamoDbMfaStore(injector.instrumentDynamoDb(new DynamoDBClient({ endpoint: testDynamoDbEndpoint(), maxAttempts: 3 })), t.tableName);
    const faulty = new MfaService({ ...t.deps, store: retrying });
    let faulted = 0;
    for (let index = 0; ; index++) {
      const actor = newActor(`lost-${index}`);
      const enrollment = await t.service.startTotpEnrollment(actor);
      injector.failCall(index, 'timeout', 'lost-response');
      await faulty.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
      await faulty.adminReset(operator, actor.userId, 'lost response');
      const reached = injector.calls.length > index;
      injector.reset();
      const events = (await changeEventsOf(t.tableName, actor.userId)).map((event) => event.event);
      expect(events, `fault at call ${index}`).toEqual(['mfa.enabled', 'authenticator.added', 'admin.reset']);
      if (!reached) break;
      faulted += 1;
    }
    expect(faulted).toBeGreaterThanOrEqual(3);
  });

  it('never carries a secret, a code, a recovery code or a sealed secret', async () => {
    const { records, events } = await streamOf(t.tableName);
    expect(secrets.length).toBeGreaterThan(30);
    const published = JSON.stringify(events);
    for (const secret of secrets) expect(published).not.toContain(secret);
    const allowed = new Set(['id', 'event', 'userId', 'method', 'authenticatorId', 'recoveryCodesRemaining', 'at', 'requestId']);
    for (const event of events) for (const key of Object.keys(event)) expect(allowed).toContain(key);
    // The outbox itself (what the stream carries beside the item) holds only the event fields, and
    // the caller's IP, which only the user's own security notice names (never a published event).
    for (const record of records) {
      for (const entry of record.dynamodb?.NewImage?.outbox?.L ?? []) {
        expect(Object.keys(entry.M ?? {}).sort()).toEqual(expect.arrayContaining(['at', 'event', 'requestId']));
        for (const key of Object.keys(entry.M ?? {})) expect(['event', 'requestId', 'at', 'method', 'authenticatorId', 'recoveryCodesRemaining', 'sourceIp']).toContain(key);
      }
    }
  });
});
