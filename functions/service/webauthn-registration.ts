import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { ChangeEvent } from '../domain/change-events.js';
import {
  ContentionError,
  CredentialAlreadyRegisteredError,
  InvalidCredentialError,
  RegistrationNotFoundError,
  StepUpRequiredError,
  TooManyAuthenticatorsError,
  WebAuthnNotEnabledError,
} from '../domain/errors.js';
import { authenticatorsOf, mfaEnabled, type WebAuthnAuthenticator } from '../domain/mfa-record.js';
import { freshSession } from '../domain/sessions.js';
import { DEFAULT_AUTHENTICATOR_NAMES, MAX_AUTHENTICATORS } from '../methods/kinds.js';
import {
  authenticationOptions,
  registrationOptions,
  verifyRegistration,
  WEBAUTHN_CEREMONY_TTL_MS,
  WEBAUTHN_CHALLENGE_BYTES,
  WEBAUTHN_USER_HANDLE_BYTES,
  type RegistrationResponseJSON,
} from '../methods/webauthn/webauthn.js';
import { CHALLENGE_KEY_BYTES, CHALLENGE_NONCE_BYTES, mintChallenge } from '../methods/webauthn/challenges.js';
import { sessionChangeOf, type AttemptEngine } from './attempts.js';
import { audit, notifyAddressChangeOf, originOf, type Actor, type MfaServiceDeps, type SecondFactor } from './context.js';
import { newAuthenticatorId, recoveryCodeSetOnce } from './recovery-code-sets.js';
import { requireRoomForOneMore } from './totp-enrollment.js';
import { recoveryCodeUsedEvents } from './verification.js';
import { authenticatorView, type AuthenticatorView } from './views.js';

const MAX_ROUNDS = 16;

export interface RegistrationStarted {
  options: PublicKeyCredentialCreationOptionsJSON;
  expiresAt: string;
}

export interface KeyRegistered {
  enabled: true;
  reauthenticate: true;
  authenticator: AuthenticatorView;
  recoveryCodes?: string[];
}

export interface ChallengeStarted {
  options: PublicKeyCredentialRequestOptionsJSON;
  expiresAt: string;
}

/** Security keys: registering one (the first while MFA is off, more with a proof), and the challenges they answer. */
export class WebAuthnRegistration {
  constructor(
    private readonly deps: MfaServiceDeps,
    private readonly attempts: AttemptEngine,
  ) {}

  async start(actor: Actor, factor?: SecondFactor): Promise<RegistrationStarted> {
    const { store, clock, random, settings } = this.deps;
    const challenge = Buffer.from(random.bytes(WEBAUTHN_CHALLENGE_BYTES)).toString('base64url');
    const newHandle = Buffer.from(random.bytes(WEBAUTHN_USER_HANDLE_BYTES)).toString('base64url');
    let expiresAt: number;
    let handle: string;
    let keys: WebAuthnAuthenticator[];
    if (factor) {
      const { record, value: stored } = await this.attempts.run<number>(actor, factor, {
        operation: 'register',
        requires: 'mfa-enabled',
        precondition: requireRoomForOneMore,
        commit: async (found, proof, now, writer) => {
          const userHandle = found.webauthnUserHandle ?? newHandle;
          const registration = { challenge, createdAt: now, expiresAt: now + WEBAUTHN_CEREMONY_TTL_MS, proved: true };
          const events = recoveryCodeUsedEvents(actor, proof, found.recoveryCodeHashes.length - 1);
          const effect = { kind: 'start_webauthn_registration' as const, sessionId: actor.sessionId, registration, userHandle, pendingRead: found.registrations };
          const result = await writer.commitProof(actor.userId, proof, effect, now, events);
          return { result, value: registration.expiresAt };
        },
      });
      handle = record.webauthnUserHandle ?? newHandle;
      keys = authenticatorsOf(record, 'webauthn');
      // As stored, not a later reading of the clock.
      expiresAt = stored!;
    } else {
      // MFA is off (the write's condition), so there are no keys to exclude and nothing to read first.
      const now = clock.now();
      expiresAt = now + WEBAUTHN_CEREMONY_TTL_MS;
      const stored = await store.putRegistration(actor.userId, actor.sessionId, { challenge, createdAt: now, expiresAt, proved: false }, newHandle, now);
      if (stored.result === 'conflict' || !stored.userHandle) throw new StepUpRequiredError();
      handle = stored.userHandle;
      keys = [];
    }
    const options = await registrationOptions(settings.relyingParty, {
      challenge,
      userHandle: Buffer.from(handle, 'base64url'),
      accountName: actor.accountName,
      exclude: keys,
    });
    audit(this.deps, actor, 'mfa.webauthn.registration.started', 'success', { method: 'webauthn' });
    return { options, expiresAt: new Date(expiresAt).toISOString() };
  }

  async confirm(actor: Actor, credential: RegistrationResponseJSON, name?: string): Promise<KeyRegistered> {
    const { store, clock, random, settings } = this.deps;
    const newRecoveryCodeSet = recoveryCodeSetOnce(random);
    let verified: { challenge: string; key: Awaited<ReturnType<typeof verifyRegistration>> } | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      let record = await store.get(actor.userId);
      // Only the registration this session started.
      const pending = record?.registrations?.[actor.sessionId];
      if (!record || !pending || pending.expiresAt <= now) throw new RegistrationNotFoundError();
      if (mfaEnabled(record) && !pending.proved) throw new StepUpRequiredError();
      if (record.authenticators.length >= MAX_AUTHENTICATORS) throw new TooManyAuthenticatorsError();
      if (verified?.challenge !== pending.challenge) {
        verified = { challenge: pending.challenge, key: await verifyRegistration(settings.relyingParty, credential, pending.challenge) };
      }
      const registered = verified.key;
      if (!registered) {
        audit(this.deps, actor, 'mfa.webauthn.registration_failed', 'failure', { method: 'webauthn' });
        throw new InvalidCredentialError();
      }
      if (authenticatorsOf(record, 'webauthn').some((key) => key.credentialId === registered.credentialId)) throw new CredentialAlreadyRegisteredError();
      if (record.legacy) {
        if ((await store.migrateLegacy(record, now)) === 'conflict') continue;
        record = { ...record, legacy: false };
      }
      const first = !mfaEnabled(record);
      const firstSet = first ? await newRecoveryCodeSet() : undefined;
      const key: WebAuthnAuthenticator = {
        id: newAuthenticatorId(random),
        kind: 'webauthn',
        name: name ?? DEFAULT_AUTHENTICATOR_NAMES.webauthn,
        createdAt: now,
        ...registered,
      };
      const { notifyAddress, previousNotifyAddress } = notifyAddressChangeOf(record, actor.verifiedEmail);
      const events: ChangeEvent[] = [
        ...(first ? [{ event: 'mfa.enabled' as const, ...originOf(actor), method: 'webauthn' as const, authenticatorId: key.id }] : []),
        { event: 'authenticator.added', ...originOf(actor), method: 'webauthn', authenticatorId: key.id, previousNotifyAddress },
      ];
      const result = await store.addRegisteredKey(
        actor.userId,
        {
          sessionId: actor.sessionId,
          challenge: pending.challenge,
          authenticator: key,
          authenticatorCount: record.authenticators.length,
          proved: pending.proved,
          recoveryCodeHashes: firstSet?.hashes,
          notifyAddress,
        },
        now,
        events,
      );
      if (result === 'conflict') continue;
      if (result === 'credential_in_use') {
        // Held by a key of this user registered in the meantime (409), or by another user's key:
        // refused as any unacceptable response is, never saying whose it is.
        const again = await store.get(actor.userId);
        if (authenticatorsOf(again, 'webauthn').some((held) => held.credentialId === key.credentialId)) throw new CredentialAlreadyRegisteredError();
        audit(this.deps, actor, 'mfa.webauthn.credential_in_use', 'refused', { method: 'webauthn' });
        throw new InvalidCredentialError();
      }
      audit(this.deps, actor, 'mfa.webauthn.enabled', 'success', { method: 'webauthn', authenticatorId: key.id });
      const confirmed: KeyRegistered = { enabled: true, reauthenticate: true, authenticator: authenticatorView(key) };
      if (firstSet) confirmed.recoveryCodes = firstSet.codes;
      return confirmed;
    }
    throw new ContentionError();
  }

  /**
   * A fresh authentication challenge for the user's keys, minted for the user and the session
   * (methods/webauthn/challenges.ts), not kept per user: however many challenges other sessions
   * ask for, this one stays answerable until it expires or is answered. The write records its
   * expiry in the session's own entry only (so it replaces that session's earlier challenges),
   * making the entry when the session has none (so that the answer's check counts in one write)
   * and the user's challenge key on the user's first challenge.
   */
  async challenge(actor: Actor): Promise<ChallengeStarted> {
    const { store, clock, random, settings } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = await store.get(actor.userId);
      const keys = authenticatorsOf(record, 'webauthn');
      if (!record || keys.length === 0) throw new WebAuthnNotEnabledError();
      const now = clock.now();
      const challengeKey = record.webauthnChallengeKey ? { value: record.webauthnChallengeKey, made: false } : { value: random.bytes(CHALLENGE_KEY_BYTES), made: true };
      const expiresAt = now + WEBAUTHN_CEREMONY_TTL_MS;
      const before = record.sessions?.[actor.sessionId];
      const session = sessionChangeOf(record, actor.sessionId, before, { ...(before ?? freshSession()), keyChallengeExpiresAt: expiresAt }, now);
      if ((await store.recordKeyChallenge(actor.userId, { challengeKey, session }, now)) === 'conflict') continue;
      const binding = { userId: actor.userId, sessionId: actor.sessionId };
      const challenge = mintChallenge(challengeKey.value, binding, random.bytes(CHALLENGE_NONCE_BYTES), expiresAt);
      audit(this.deps, actor, 'mfa.webauthn.challenge.started', 'success', { method: 'webauthn' });
      return { options: await authenticationOptions(settings.relyingParty, { challenge, keys }), expiresAt: new Date(expiresAt).toISOString() };
    }
    throw new ContentionError();
  }
}
