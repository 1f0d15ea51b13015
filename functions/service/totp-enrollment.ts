import type { ChangeEvent } from '../domain/change-events.js';
import { EnrollmentNotFoundError, MfaNotEnabledError, StepUpRequiredError, TooManyAuthenticatorsError, TotpAlreadyEnabledError } from '../domain/errors.js';
import { authenticatorsOf, mfaEnabled, type MfaRecord, type TotpAuthenticator } from '../domain/mfa-record.js';
import { DEFAULT_AUTHENTICATOR_NAMES, MAX_AUTHENTICATORS } from '../methods/kinds.js';
import { spentCodeDigest } from '../methods/totp/totp-proof.js';
import { buildOtpauthUri, generateTotpSecret, toBase32 } from '../methods/totp/totp.js';
import type { AttemptEngine } from './attempts.js';
import { audit, notifyAddressChangeOf, sealContextOf, type Actor, type MfaServiceDeps, type SecondFactor, originOf } from './context.js';
import { newAuthenticatorId, recoveryCodeSetOnce } from './recovery-code-sets.js';
import { recoveryCodeUsedEvents } from './verification.js';

/** The QR code of `otpauthUri` is drawn by the enrollment handler: no other function bundles a QR encoder. */
export interface EnrollmentStarted {
  secret: string;
  otpauthUri: string;
  expiresAt: string;
}

/** As in version 1: the new app's id and name are in the status (GET /v1/mfa). */
export interface EnrollmentConfirmed {
  enabled: true;
  reauthenticate: true;
  recoveryCodes?: string[];
}

/** Setting up an authenticator app: the first one while MFA is off, more with a proof of a current factor. */
export class TotpEnrollment {
  constructor(
    private readonly deps: MfaServiceDeps,
    private readonly attempts: AttemptEngine,
  ) {}

  async start(actor: Actor, factor?: SecondFactor): Promise<EnrollmentStarted> {
    const { store, sealer, clock, random, settings } = this.deps;
    const secret = generateTotpSecret(random);
    const now = clock.now();
    const expiresAt = now + settings.enrollmentTtlSeconds * 1000;
    // Sealed once, and with a proof only once the proof is known to be good: a wrong one costs no KMS call.
    let sealing: Promise<Uint8Array> | undefined;
    const sealed = () => (sealing ??= sealer.seal(secret, sealContextOf(actor)));
    if (factor) {
      await this.attempts.run(actor, factor, {
        operation: 'enroll',
        requires: 'mfa-enabled',
        precondition: requireRoomForOneMore,
        commit: async (record, proof, at, writer) => ({
          result: await writer.commitProof(
            actor.userId,
            proof,
            {
              kind: 'start_totp_enrollment',
              sessionId: actor.sessionId,
              pending: { sealedSecret: await sealed(), createdAt: now, expiresAt, proved: true },
              pendingRead: record.pendingEnrollments,
            },
            at,
            recoveryCodeUsedEvents(actor, proof, record.recoveryCodeHashes.length - 1),
          ),
        }),
      });
    } else if ((await store.putPendingEnrollment(actor.userId, actor.sessionId, { sealedSecret: await sealed(), createdAt: now, expiresAt, proved: false }, now)) === 'conflict') {
      // MFA is on: another app needs a proof of a current factor.
      const record = await store.get(actor.userId);
      throw authenticatorsOf(record, 'totp').length > 0 ? new TotpAlreadyEnabledError() : new StepUpRequiredError();
    }
    audit(this.deps, actor, 'mfa.enrollment.started', 'success');
    return { secret: toBase32(secret), otpauthUri: buildOtpauthUri(secret, settings.totpIssuer, actor.accountName), expiresAt: new Date(expiresAt).toISOString() };
  }

  async confirm(actor: Actor, code: string, name?: string): Promise<EnrollmentConfirmed> {
    const newRecoveryCodeSet = recoveryCodeSetOnce(this.deps.random);
    const { value } = await this.attempts.run<{ codes?: string[] | undefined; app: TotpAuthenticator }>(actor, { code }, {
      operation: 'confirm',
      requires: 'pending-enrollment',
      precondition: (record, now) => {
        // Only the app this session started setting up.
        const pending = record?.pendingEnrollments?.[actor.sessionId];
        if (!pending || pending.expiresAt <= now) {
          if (authenticatorsOf(record, 'totp').length > 0 && !pending) throw new TotpAlreadyEnabledError();
          throw new EnrollmentNotFoundError();
        }
        if (mfaEnabled(record) && !pending.proved) {
          throw authenticatorsOf(record, 'totp').length > 0 ? new TotpAlreadyEnabledError() : new StepUpRequiredError();
        }
        if (record.authenticators.length >= MAX_AUTHENTICATORS) throw new TooManyAuthenticatorsError();
      },
      commit: async (record, proof, now, store) => {
        if (proof.kind !== 'pending_totp') throw new EnrollmentNotFoundError();
        const first = !mfaEnabled(record);
        // Recovery codes come with the user's first method, in the same write that enables it.
        const firstSet = first ? await newRecoveryCodeSet() : undefined;
        const app: TotpAuthenticator = {
          id: newAuthenticatorId(this.deps.random),
          kind: 'totp',
          name: name ?? DEFAULT_AUTHENTICATOR_NAMES.totp,
          createdAt: now,
          sealedSecret: proof.sealedSecret,
          lastStep: proof.step,
        };
        app.lastCodeDigest = spentCodeDigest(actor.userId, proof.step, code);
        const { notifyAddress, previousNotifyAddress } = notifyAddressChangeOf(record, actor.verifiedEmail);
        const events: ChangeEvent[] = [
          ...(first ? [{ event: 'mfa.enabled' as const, ...originOf(actor), method: 'totp' as const, authenticatorId: app.id }] : []),
          { event: 'authenticator.added', ...originOf(actor), method: 'totp', authenticatorId: app.id, previousNotifyAddress },
        ];
        const result = await store.commitProof(
          actor.userId,
          proof,
          {
            kind: 'add_authenticator',
            authenticator: app,
            authenticatorCount: record.authenticators.length,
            recoveryCodeHashes: firstSet?.hashes,
            notifyAddress,
          },
          now,
          events,
        );
        return { result, value: { codes: firstSet?.codes, app } };
      },
    });
    audit(this.deps, actor, 'mfa.totp.enabled', 'success', { method: 'totp', authenticatorId: value!.app.id });
    const confirmed: EnrollmentConfirmed = { enabled: true, reauthenticate: true };
    if (value!.codes) confirmed.recoveryCodes = value!.codes;
    return confirmed;
  }
}

/** Precondition of adding a factor with a proof: MFA is on, and there is room for one more. */
export function requireRoomForOneMore(record: MfaRecord | undefined): asserts record is MfaRecord {
  if (!mfaEnabled(record)) throw new MfaNotEnabledError();
  if (record!.authenticators.length >= MAX_AUTHENTICATORS) throw new TooManyAuthenticatorsError();
}
