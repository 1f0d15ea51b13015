import { randomUUID } from 'node:crypto';
import type { ChangeEvent } from '../domain/change-events.js';
import { MfaNotEnabledError } from '../domain/errors.js';
import { mfaEnabled, type MfaRecord } from '../domain/mfa-record.js';
import type { Proof } from '../ports/mfa-store.js';
import type { AttemptEngine } from './attempts.js';
import { audit, type Actor, type FactorMethod, type MfaServiceDeps, type SecondFactor, originOf } from './context.js';

export interface Verified {
  assertion: string;
  method: FactorMethod;
  expiresAt: string;
  recoveryCodesRemaining: number;
}

export function requireMfaEnabled(record: MfaRecord | undefined): asserts record is MfaRecord {
  if (!mfaEnabled(record)) throw new MfaNotEnabledError();
}

/**
 * Authentication method references (RFC 8176) of a proof: `pop` for a key's signature
 * (phishing-resistant), with `hwk` for a device-bound key or `swk` for a synced passkey.
 */
export function amrOf(proof: Proof & { backupEligible?: boolean }): string[] {
  switch (proof.kind) {
    case 'totp':
    case 'pending_totp':
      return ['mfa', 'otp'];
    case 'recovery_code':
      return ['mfa'];
    case 'email':
    case 'pending_email':
      // A code from a mailbox: a one-time password, and no proof of possession (so never `pop`).
      return ['mfa', 'otp', 'email'];
    case 'webauthn':
      return ['mfa', 'pop', proof.backedUp || proof.backupEligible ? 'swk' : 'hwk'];
  }
}

/** The second step of sign-in: a proof of a current factor buys a signed MFA assertion. */
export class Verification {
  constructor(
    private readonly deps: MfaServiceDeps,
    private readonly attempts: AttemptEngine,
  ) {}

  async verify(actor: Actor, factor: SecondFactor, nonce?: string): Promise<Verified> {
    const { signer, settings } = this.deps;
    const { record, proof, value: signed } = await this.attempts.run(actor, factor, {
      operation: 'verify',
      requires: 'mfa-enabled',
      precondition: requireMfaEnabled,
      commit: async (found, proof, now, store) => {
        // Signed before the write: if signing fails, the proof has not been spent.
        const iat = Math.floor(now / 1000);
        const exp = iat + settings.assertionTtlSeconds;
        const firstFactorAudience = actor.audience ?? '';
        const assertion = await signer.sign({
          iss: settings.assertionIssuer,
          sub: actor.userId,
          aud: settings.audienceMap[firstFactorAudience] ?? firstFactorAudience,
          iat,
          nbf: iat,
          exp,
          jti: randomUUID(),
          amr: amrOf(proof),
          ...(nonce !== undefined ? { nonce } : {}),
        });
        const events = recoveryCodeUsedEvents(actor, proof, found.recoveryCodeHashes.length - 1);
        const result = await store.commitProof(actor.userId, proof, { kind: 'none' }, now, events);
        return { result, value: { assertion, exp } };
      },
    });
    const method = methodOfProof(proof);
    if (method === 'recovery_code') audit(this.deps, actor, 'mfa.recovery_code.used', 'success', { method, operation: 'verify' });
    audit(this.deps, actor, 'mfa.verify.succeeded', 'success', { method, ...(proof.kind === 'totp' || proof.kind === 'webauthn' || proof.kind === 'email' ? { authenticatorId: proof.authenticatorId } : {}) });
    return {
      assertion: signed!.assertion,
      method,
      expiresAt: new Date(signed!.exp * 1000).toISOString(),
      recoveryCodesRemaining: record.recoveryCodeHashes.length - (method === 'recovery_code' ? 1 : 0),
    };
  }
}

/**
 * The event of a proof that spent a recovery code, with the count left after the write (the
 * audit trail's `mfa.recovery_code.used`, for whoever tells the user their codes run low).
 */
export function recoveryCodeUsedEvents(actor: Actor, proof: Proof, remainingAfter: number): ChangeEvent[] {
  return proof.kind === 'recovery_code'
    ? [{ event: 'recovery_code.used', ...originOf(actor), method: 'recovery_code', recoveryCodesRemaining: Math.max(0, remainingAfter) }]
    : [];
}

export const methodOfProof = (proof: Proof): FactorMethod =>
  proof.kind === 'recovery_code' ? 'recovery_code' : proof.kind === 'webauthn' ? 'webauthn' : proof.kind === 'email' || proof.kind === 'pending_email' ? 'email' : 'totp';
