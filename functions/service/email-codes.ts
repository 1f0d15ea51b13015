import type { ChangeEvent } from '../domain/change-events.js';
import {
  ContentionError,
  EmailAlreadyEnabledError,
  EmailNotEnabledError,
  EmailNotVerifiedError,
  InvalidCodeError,
  MethodNotOfferedError,
  StepUpRequiredError,
  TooManyAuthenticatorsError,
  TooManyEmailsError,
} from '../domain/errors.js';
import { authenticatorsOf, mfaEnabled, type EmailAuthenticator, type MfaRecord } from '../domain/mfa-record.js';
import { emailCodeMail } from '../mail/templates.js';
import {
  countEmailSend,
  EMAIL_CODE_KEY_BYTES,
  EMAIL_CODE_TTL_MS,
  generateEmailCode,
  hashEmailCode,
  maskEmail,
  type EmailCodePurpose,
} from '../methods/email/email-codes.js';
import { DEFAULT_AUTHENTICATOR_NAMES, MAX_AUTHENTICATORS } from '../methods/kinds.js';
import type { Mailer } from '../ports/mailer.js';
import type { EmailCodeRequires, EmailSend } from '../ports/mfa-store.js';
import type { AttemptEngine } from './attempts.js';
import { audit, emailCodeSealContextOf, notifyAddressChangeOf, originOf, type Actor, type MfaServiceDeps, type SecondFactor } from './context.js';
import { newAuthenticatorId, recoveryCodeSetOnce } from './recovery-code-sets.js';
import { requireRoomForOneMore } from './totp-enrollment.js';
import { recoveryCodeUsedEvents } from './verification.js';
import { authenticatorView, type AuthenticatorView } from './views.js';

const MAX_ROUNDS = 16;

/** A code went out: to this (masked) address, valid until `expiresAt`. */
export interface EmailCodeSent {
  sentTo: string;
  expiresAt: string;
}

export interface EmailEnabled {
  enabled: true;
  reauthenticate: true;
  authenticator: AuthenticatorView;
  recoveryCodes?: string[];
}

/**
 * Codes by email: adding the method (a code to the token's verified address, confirmed by
 * sending it back) and sending a code that proves it. Every send is counted in the user's
 * send window before the mail leaves, and the code is stored only once the mail has gone: a
 * failed send stores nothing (503).
 */
export class EmailCodes {
  constructor(
    private readonly deps: MfaServiceDeps,
    private readonly attempts: AttemptEngine,
  ) {}

  async startEnrollment(actor: Actor, factor?: SecondFactor): Promise<EmailCodeSent> {
    this.requireOffered();
    const address = actor.verifiedEmail;
    if (!address) throw new EmailNotVerifiedError();
    if (factor) {
      // One more method while MFA is on: the proof and the counted send in one write.
      const { record, value: send } = await this.attempts.run<EmailSend>(actor, factor, {
        operation: 'enroll',
        requires: 'mfa-enabled',
        precondition: (found, now) => {
          requireRoomForOneMore(found);
          if (authenticatorsOf(found, 'email').length > 0) throw new EmailAlreadyEnabledError();
          nextSend(found, now);
        },
        commit: async (found, proof, now, store) => {
          const send = nextSend(found, now);
          const events = recoveryCodeUsedEvents(actor, proof, found.recoveryCodeHashes.length - 1);
          return { result: await store.commitProof(actor.userId, proof, { kind: 'count_email_send', send }, now, events), value: send };
        },
      });
      return this.deliver(actor, { address, purpose: 'enroll', proved: true, requires: { mfa: 'on' } }, record, send!);
    }
    const { store, clock } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = await store.get(actor.userId);
      if (mfaEnabled(record)) throw authenticatorsOf(record, 'email').length > 0 ? new EmailAlreadyEnabledError() : new StepUpRequiredError();
      const send = nextSend(record, clock.now());
      if ((await store.countEmailSend(actor.userId, send, { mfa: 'off' }, clock.now())) === 'conflict') continue;
      return this.deliver(actor, { address, purpose: 'enroll', proved: false, requires: { mfa: 'off' } }, record, send);
    }
    throw new ContentionError();
  }

  async confirmEnrollment(actor: Actor, code: string, name?: string): Promise<EmailEnabled> {
    this.requireOffered();
    const newRecoveryCodeSet = recoveryCodeSetOnce(this.deps.random);
    const { value } = await this.attempts.run<{ codes?: string[] | undefined; method: EmailAuthenticator }>(actor, { emailCode: code }, {
      operation: 'confirm',
      requires: 'pending-email',
      precondition: (record, now) => {
        // Nothing was ever sent to this user: there is nothing to count a guess against.
        if (!record) throw new InvalidCodeError();
        if (authenticatorsOf(record, 'email').length > 0) throw new EmailAlreadyEnabledError();
        const pending = record.emailCodes?.[actor.sessionId];
        if (mfaEnabled(record) && pending?.purpose === 'enroll' && !pending.proved) throw new StepUpRequiredError();
        if (record.authenticators.length >= MAX_AUTHENTICATORS) throw new TooManyAuthenticatorsError();
        // No setup code of this session's that is still good: no code sent can be right, so none is counted as a guess.
        if (!pending || pending.purpose !== 'enroll' || pending.expiresAt <= now) throw new InvalidCodeError();
      },
      commit: async (record, proof, now, store) => {
        if (proof.kind !== 'pending_email') throw new InvalidCodeError();
        const first = !mfaEnabled(record);
        // Recovery codes come with the user's first method, in the same write that enables it.
        const firstSet = first ? await newRecoveryCodeSet() : undefined;
        const method: EmailAuthenticator = {
          id: newAuthenticatorId(this.deps.random),
          kind: 'email',
          name: name ?? DEFAULT_AUTHENTICATOR_NAMES.email,
          createdAt: now,
          address: proof.address,
        };
        const { notifyAddress, previousNotifyAddress } = notifyAddressChangeOf(record, proof.address);
        const events: ChangeEvent[] = [
          ...(first ? [{ event: 'mfa.enabled' as const, ...originOf(actor), method: 'email' as const, authenticatorId: method.id }] : []),
          { event: 'authenticator.added', ...originOf(actor), method: 'email', authenticatorId: method.id, previousNotifyAddress },
        ];
        const result = await store.commitProof(
          actor.userId,
          proof,
          {
            kind: 'add_authenticator',
            authenticator: method,
            authenticatorCount: record.authenticators.length,
            recoveryCodeHashes: firstSet?.hashes,
            notifyAddress,
          },
          now,
          events,
        );
        return { result, value: { codes: firstSet?.codes, method } };
      },
    });
    audit(this.deps, actor, 'mfa.email.enabled', 'success', { method: 'email', authenticatorId: value!.method.id });
    const enabled: EmailEnabled = { enabled: true, reauthenticate: true, authenticator: authenticatorView(value!.method) };
    if (value!.codes) enabled.recoveryCodes = value!.codes;
    return enabled;
  }

  /** A new code for this session (replacing only this session's pending one), to prove the email method. */
  async challenge(actor: Actor): Promise<EmailCodeSent> {
    this.requireOffered();
    const { store, clock } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = await store.get(actor.userId);
      const method = authenticatorsOf(record, 'email')[0];
      if (!method) throw new EmailNotEnabledError();
      const requires = { emailAuthenticatorId: method.id };
      const send = nextSend(record, clock.now());
      if ((await store.countEmailSend(actor.userId, send, requires, clock.now())) === 'conflict') continue;
      return this.deliver(actor, { address: method.address, purpose: 'prove', proved: false, requires }, record, send);
    }
    throw new ContentionError();
  }

  private requireOffered(): void {
    if (!this.deps.settings.emailCodes) throw new MethodNotOfferedError();
  }

  /**
   * Sends a new code for this session once its send is counted, then stores it. A failed
   * seal or send gives the counted send back and stores nothing; a code is stored only after
   * its mail left. `record` is the item as read before the count (its pending codes).
   */
  private async deliver(
    actor: Actor,
    to: { address: string; purpose: EmailCodePurpose; proved: boolean; requires: EmailCodeRequires },
    record: MfaRecord | undefined,
    send: EmailSend,
  ): Promise<EmailCodeSent> {
    const { store, sealer, clock, random, settings } = this.deps;
    const mailer = this.mailer();
    const now = clock.now();
    const expiresAt = now + EMAIL_CODE_TTL_MS;
    const code = generateEmailCode(random);
    const key = random.bytes(EMAIL_CODE_KEY_BYTES);
    let sealedKey: Uint8Array;
    try {
      sealedKey = await sealer.seal(key, emailCodeSealContextOf(actor));
      await mailer.send(emailCodeMail({ to: to.address, code, purpose: to.purpose, minutes: EMAIL_CODE_TTL_MS / 60_000, serviceName: settings.totpIssuer }));
    } catch (error) {
      await store.refundEmailSend(actor.userId, send, now).catch(() => undefined);
      audit(this.deps, actor, 'mfa.email.send_failed', 'failure', { method: 'email' });
      throw error;
    }
    const pending = { purpose: to.purpose, hash: hashEmailCode(key, code, actor), sealedKey, expiresAt, address: to.address, proved: to.proved };
    let found = record;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const codes = found?.emailCodes;
      const expired = Object.entries(codes ?? {}).flatMap(([sessionId, pendingCode]) => (pendingCode.expiresAt <= now ? [sessionId] : []));
      const input = { sessionId: actor.sessionId, code: pending, expired, mapExists: codes !== undefined, requires: to.requires };
      if ((await store.putEmailCode(actor.userId, input, now)) === 'ok') {
        audit(this.deps, actor, 'mfa.email.code_sent', 'success', { method: 'email', operation: to.purpose });
        return { sentTo: maskEmail(to.address), expiresAt: new Date(expiresAt).toISOString() };
      }
      found = await store.get(actor.userId);
      // What the code was for no longer holds (the method was removed, MFA turned on or off): the mail's code will not work.
      if (!requirementHolds(found, to.requires)) break;
    }
    throw new ContentionError();
  }

  private mailer(): Mailer {
    if (!this.deps.mailer) throw new Error('This function has no mailer.');
    return this.deps.mailer;
  }
}

/** The send window with one more mail now, or the 429 when it is full. */
function nextSend(record: MfaRecord | undefined, now: number): EmailSend {
  const previous = record?.emailSends;
  const counted = countEmailSend(previous ?? [], now);
  if ('retryAfterSeconds' in counted) throw new TooManyEmailsError(counted.retryAfterSeconds);
  return { previous, next: counted.times };
}

function requirementHolds(record: MfaRecord | undefined, requires: EmailCodeRequires): boolean {
  if ('emailAuthenticatorId' in requires) return authenticatorsOf(record, 'email').some((method) => method.id === requires.emailAuthenticatorId);
  return requires.mfa === 'on' ? mfaEnabled(record) : !mfaEnabled(record);
}
