import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { credentialKey } from '../../functions/adapters/aws/mfa-item.js';
import { CredentialAlreadyRegisteredError, InvalidCredentialError } from '../../functions/domain/errors.js';
import type { Actor, SecondFactor } from '../../functions/service/mfa-service.js';
import { SoftwareAuthenticator, type ResponseKnobs } from '../../harness/software-authenticator.js';
import { changeEventsOf } from '../support/change-events.js';
import type { Operator } from '../../functions/service/administration.js';
import { createTestService, newActor } from '../support/service.js';
import { readUserItem } from '../support/table-snapshot.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;

/**
 * Credential ids, backup eligibility and the cloned-key signal (service on DynamoDB Local, keys
 * in software): a credential id belongs to one key of one user, at most 1023 bytes, named alike
 * by `id`, `rawId` and the attested data; `hwk`/`swk` as registered; a counter that went backwards
 * is a change event.
 */
describe('security-key credentials (service on DynamoDB Local)', () => {
  let t: TestService;
  let actor: Actor;
  beforeEach(async () => {
    t ??= await createTestService();
    actor = newActor();
  });

  const supportOperator: Operator = { principal: 'arn:aws:iam::111122223333:role/support', audit: { requestId: 'req-admin', sourceIp: '198.51.100.9' } };
  const operatorOf = () => t.service.admitOperator(supportOperator, undefined);

  /** The uniqueness item of a credential id, if any. */
  async function credentialRecord(credentialId: string) {
    const { Item: found } = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: credentialKey(credentialId), ConsistentRead: true }));
    return found;
  }

  async function register(key: SoftwareAuthenticator, who: Actor = actor, knobs: ResponseKnobs = {}, factor?: SecondFactor) {
    const started = await t.service.startWebAuthnRegistration(who, factor);
    return t.service.confirmWebAuthnRegistration(who, key.register(started.options, knobs));
  }

  async function keyProof(key: SoftwareAuthenticator, knobs: ResponseKnobs = {}, who: Actor = actor) {
    t.clock.advance(10_000);
    const { options } = await t.service.startWebAuthnChallenge(who);
    return { webauthn: key.assert(options, knobs) };
  }

  describe('credential ids unique across all users', () => {
    it("stores a key's credential id as its own item, naming the user and the key", async () => {
      const key = new SoftwareAuthenticator();
      const confirmed = await register(key);
      expect(await credentialRecord(key.credentialId)).toMatchObject({
        pk: { S: `CREDENTIAL#${key.credentialId}` },
        userId: { S: actor.userId },
        authenticatorId: { S: confirmed.authenticator.id },
      });
    });

    it("refuses another user's credential id as invalid_credential, changing nothing, and audits it", async () => {
      const id = new Uint8Array(32).fill(7).map((byte, i) => byte + i);
      await register(new SoftwareAuthenticator({ credentialId: id }));
      const other = newActor('other');
      const started = await t.service.startWebAuthnRegistration(other);
      const before = await readUserItem(t.client, t.tableName, other.userId);
      await expect(t.service.confirmWebAuthnRegistration(other, new SoftwareAuthenticator({ credentialId: id }).register(started.options))).rejects.toBeInstanceOf(
        InvalidCredentialError,
      );
      expect(await readUserItem(t.client, t.tableName, other.userId)).toEqual(before);
      expect((await credentialRecord(Buffer.from(id).toString('base64url')))?.userId?.S).toBe(actor.userId);
      expect(t.audit.events.at(-1)).toMatchObject({ event: 'mfa.webauthn.credential_in_use', userId: other.userId, outcome: 'refused' });
    });

    it('lets exactly one of two users registering one credential id at once win; the other gets invalid_credential', async () => {
      for (let round = 0; round < 5; round++) {
        const credentialId = crypto.getRandomValues(new Uint8Array(32));
        const users = [newActor('racer-a'), newActor('racer-b')];
        const started = await Promise.all(users.map((who) => t.service.startWebAuthnRegistration(who)));
        const responses = users.map((_, i) => new SoftwareAuthenticator({ credentialId }).register(started[i]!.options));
        const results = await Promise.allSettled(users.map((who, i) => t.service.confirmWebAuthnRegistration(who, responses[i]!)));
        const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
        expect(winners, `round ${round}`).toHaveLength(1);
        const loser = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
        expect(loser.reason).toBeInstanceOf(InvalidCredentialError);
        expect((await credentialRecord(Buffer.from(credentialId).toString('base64url')))?.userId?.S).toBe(users[winners[0]!]!.userId);
        const loserItem = await readUserItem(t.client, t.tableName, users[1 - winners[0]!]!.userId);
        expect(loserItem?.authenticators).toBeUndefined();
      }
    });

    it('still answers a credential id this user holds 409 credential_already_registered', async () => {
      const key = new SoftwareAuthenticator();
      await register(key);
      const started = await t.service.startWebAuthnRegistration(actor, await keyProof(key));
      await expect(t.service.confirmWebAuthnRegistration(actor, key.register(started.options))).rejects.toBeInstanceOf(CredentialAlreadyRegisteredError);
    });

    it('frees the credential id when the key is removed (with its own assertion), so another user may register it', async () => {
      const key = new SoftwareAuthenticator();
      const confirmed = await register(key);
      await t.service.removeAuthenticator(actor, confirmed.authenticator.id, await keyProof(key));
      expect(await credentialRecord(key.credentialId)).toBeUndefined();
      const other = newActor('next-owner');
      await expect(register(new SoftwareAuthenticator({ credentialId: key.credentialIdBytes }), other)).resolves.toMatchObject({ enabled: true });
      expect((await credentialRecord(key.credentialId))?.userId?.S).toBe(other.userId);
    });

    it("frees only the removed key's id when one of two keys goes, and keeps the other's", async () => {
      const first = new SoftwareAuthenticator();
      const second = new SoftwareAuthenticator();
      await register(first);
      const secondId = (await register(second, actor, {}, await keyProof(first))).authenticator.id;
      await t.service.removeAuthenticator(actor, secondId, await keyProof(first));
      expect(await credentialRecord(second.credentialId)).toBeUndefined();
      expect((await credentialRecord(first.credentialId))?.userId?.S).toBe(actor.userId);
    });

    it("frees every key's credential id on an operator's reset", async () => {
      const first = new SoftwareAuthenticator();
      const second = new SoftwareAuthenticator();
      await register(first);
      await register(second, actor, {}, await keyProof(first));
      await t.service.adminReset(operatorOf(), actor.userId, 'ticket 7: lost both keys');
      expect(await credentialRecord(first.credentialId)).toBeUndefined();
      expect(await credentialRecord(second.credentialId)).toBeUndefined();
      await expect(register(first)).resolves.toMatchObject({ enabled: true });
    });

    it('keeps a key registered during a reset consistent: its id is held exactly when the key is stored', async () => {
      const first = new SoftwareAuthenticator();
      await register(first);
      const late = new SoftwareAuthenticator();
      const started = await t.service.startWebAuthnRegistration(actor, await keyProof(first));
      await Promise.allSettled([
        t.service.adminReset(operatorOf(), actor.userId, 'ticket 8'),
        t.service.confirmWebAuthnRegistration(actor, late.register(started.options)),
      ]);
      const stored = Object.values((await readUserItem(t.client, t.tableName, actor.userId))?.authenticators?.M ?? {}).map((value) => value.M?.credentialId?.S);
      expect(Boolean(await credentialRecord(late.credentialId))).toBe(stored.includes(late.credentialId));
      expect(Boolean(await credentialRecord(first.credentialId))).toBe(stored.includes(first.credentialId));
    });
  });

  describe('credential id form', () => {
    it('accepts a 1023-byte credential id and refuses a 1024-byte one as invalid_credential, storing nothing', async () => {
      await expect(register(new SoftwareAuthenticator({ credentialId: new Uint8Array(1023).fill(1) }))).resolves.toMatchObject({ enabled: true });
      const other = newActor('long-id');
      const tooLong = new SoftwareAuthenticator({ credentialId: new Uint8Array(1024).fill(2) });
      await expect(register(tooLong, other)).rejects.toBeInstanceOf(InvalidCredentialError);
      expect((await readUserItem(t.client, t.tableName, other.userId))?.authenticators).toBeUndefined();
      expect(await credentialRecord(tooLong.credentialId)).toBeUndefined();
      expect(t.audit.events.at(-1)).toMatchObject({ event: 'mfa.webauthn.registration_failed', userId: other.userId });
    });

    it('refuses a response whose id and rawId name another credential than the one attested', async () => {
      const key = new SoftwareAuthenticator();
      const elsewhere = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      await expect(register(key, actor, { credentialId: elsewhere })).rejects.toBeInstanceOf(InvalidCredentialError);
      await expect(register(key, actor, { rawId: elsewhere })).rejects.toBeInstanceOf(InvalidCredentialError);
      expect((await readUserItem(t.client, t.tableName, actor.userId))?.authenticators).toBeUndefined();
      expect(await credentialRecord(elsewhere)).toBeUndefined();
      await expect(register(key)).resolves.toMatchObject({ enabled: true });
    });
  });

  describe('backup eligibility fixed at registration', () => {
    it('keeps hwk for a key registered device-bound that later asserts BE=1, and audits the change', async () => {
      const key = new SoftwareAuthenticator();
      const confirmed = await register(key);
      const events = t.audit.events.length;
      const verified = await t.service.verify(actor, await keyProof(key, { flags: { be: true, bs: true } }));
      expect(decodeJwt(verified.assertion).amr).toEqual(['mfa', 'pop', 'hwk']);
      expect(t.audit.events.slice(events)).toContainEqual(
        expect.objectContaining({ event: 'mfa.webauthn.backup_eligibility_changed', authenticatorId: confirmed.authenticator.id, operation: 'verify', outcome: 'success' }),
      );
      const stored = (await readUserItem(t.client, t.tableName, actor.userId))!.authenticators!.M![confirmed.authenticator.id]!.M!;
      expect(stored.backupEligible).toEqual({ BOOL: false });
    });

    it('keeps swk for a passkey registered backup-eligible that later asserts BE=0, and audits the change', async () => {
      const passkey = new SoftwareAuthenticator({ passkey: true, countsSignatures: false });
      const confirmed = await register(passkey);
      const events = t.audit.events.length;
      const verified = await t.service.verify(actor, await keyProof(passkey, { flags: { be: false, bs: false } }));
      expect(decodeJwt(verified.assertion).amr).toEqual(['mfa', 'pop', 'swk']);
      expect(t.audit.events.slice(events).map((event) => event.event)).toContain('mfa.webauthn.backup_eligibility_changed');
      expect(t.audit.events.find((event) => event.event === 'mfa.webauthn.backup_eligibility_changed' && event.userId === actor.userId)).toMatchObject({
        authenticatorId: confirmed.authenticator.id,
      });
    });

    it('audits nothing when the flag is as registered', async () => {
      const key = new SoftwareAuthenticator();
      await register(key);
      const events = t.audit.events.length;
      await t.service.verify(actor, await keyProof(key));
      expect(t.audit.events.slice(events).map((event) => event.event)).not.toContain('mfa.webauthn.backup_eligibility_changed');
    });
  });

  describe('a counter that went backwards (a possible cloned key)', () => {
    it('is refused and published as authenticator.clone_suspected, naming the key, with the audit line', async () => {
      const key = new SoftwareAuthenticator({ counter: 20 });
      const confirmed = await register(key);
      await t.service.verify(actor, await keyProof(key));
      const regressed = await keyProof(key, { counter: 4 });
      const events = t.audit.events.length;
      await expect(t.service.verify(actor, regressed)).rejects.toBeInstanceOf(InvalidCredentialError);
      expect(t.audit.events[events]).toMatchObject({ event: 'mfa.webauthn.counter_regression', authenticatorId: confirmed.authenticator.id, outcome: 'refused' });
      const published = (await changeEventsOf(t.tableName, actor.userId)).filter((event) => event.event === 'authenticator.clone_suspected');
      expect(published).toEqual([
        expect.objectContaining({ event: 'authenticator.clone_suspected', userId: actor.userId, method: 'webauthn', authenticatorId: confirmed.authenticator.id }),
      ]);
    });

    it('publishes nothing of the kind for a right assertion', async () => {
      const key = new SoftwareAuthenticator({ counter: 3 });
      await register(key);
      await t.service.verify(actor, await keyProof(key));
      expect((await changeEventsOf(t.tableName, actor.userId)).map((event) => event.event)).not.toContain('authenticator.clone_suspected');
    });
  });
});
