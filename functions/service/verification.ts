import { randomUUID } from 'node:crypto';
import type { ChangeEvent } from '../domain/change-events.js';
import { RememberDeviceRefusedError } from '../domain/errors.js';
import type { MfaRecord, RememberedDevice } from '../domain/mfa-record.js';
import type { Proof, ProofEffect } from '../ports/mfa-store.js';
import { requireMfaEnabled, type AttemptEngine } from './attempts.js';
import { audit, originOf, type Actor, type FactorMethod, type MfaServiceDeps, type SecondFactor } from './context.js';
import { auditRemembered, newRememberedDevice, rememberEffect, type RememberDeviceRequest } from './remembered-devices.js';

export interface Verified {
  assertion: string;
  method: FactorMethod;
  expiresAt: string;
  recoveryCodesRemaining: number;
  /** The browser remembered with this sign-in (when asked to). */
  device?: { id: string; name: string; expiresAt: string };
}

/**
 * Authentication method references (RFC 8176) of a proof: `pop` for a key's signature
 * (phishing-resistant), with `hwk` for a key registered device-bound (BE=0) or `swk` for one
 * registered backup-eligible (a syncable passkey), whatever the flags of later assertions say. A
 * remembered browser's key is a software key (`swk`) and never `pop`: it proves the browser, not
 * a factor presented now.
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
      return ['mfa', 'pop', proof.backupEligible ? 'swk' : 'hwk'];
    case 'device':
      return ['mfa', 'swk'];
  }
}

/**
 * The OpenID EAP ACR value of a proof, for a key only: `phrh` (phishing-resistant, hardware-
 * protected) for a device-bound key, `phr` for a synced passkey, by the backup eligibility the key
 * was registered with (a key cannot change it later).
 */
export function acrOf(proof: Proof, record: MfaRecord): 'phr' | 'phrh' | undefined {
  if (proof.kind !== 'webauthn') return undefined;
  const key = record.authenticators.find((a) => a.id === proof.authenticatorId);
  return key?.kind === 'webauthn' && !key.backupEligible ? 'phrh' : 'phr';
}

/** The second step of sign-in: a proof of a current factor buys a signed MFA assertion (and, when asked, remembers the browser). */
export class Verification {
  constructor(
    private readonly deps: MfaServiceDeps,
    private readonly attempts: AttemptEngine,
  ) {}

  async verify(actor: Actor, factor: SecondFactor, nonce?: string, rememberDevice?: RememberDeviceRequest): Promise<Verified> {
    const { signer, settings } = this.deps;
    // A remembered browser's proof never remembers another one; a refused request costs no attempt.
    if (rememberDevice && 'device' in factor) throw new RememberDeviceRefusedError('A remembered browser cannot remember another one.');
    const deviceAt = rememberDevice ? newRememberedDevice(this.deps, actor, rememberDevice) : undefined;
    let remembered: RememberedDevice | undefined;
    const { record, proof, value: signed } = await this.attempts.run(actor, factor, {
      operation: 'verify',
      requires: 'mfa-enabled',
      precondition: requireMfaEnabled,
      commit: async (found, proof, now, store) => {
        // Signed before the write: if signing fails, the proof has not been spent.
        const iat = Math.floor(now / 1000);
        const exp = iat + settings.assertionTtlSeconds;
        const firstFactorAudience = actor.audience ?? '';
        const acr = acrOf(proof, found);
        const assertion = await signer.sign({
          iss: settings.assertionIssuer,
          sub: actor.userId,
          aud: settings.audienceMap[firstFactorAudience] ?? firstFactorAudience,
          iat,
          nbf: iat,
          exp,
          jti: randomUUID(),
          amr: amrOf(proof),
          // When a factor was last proven: now, or for a remembered browser when it was remembered.
          auth_time: proof.kind === 'device' ? Math.floor(proof.authTime / 1000) : iat,
          ...(acr ? { acr } : {}),
          ...(proof.kind === 'device' ? { remembered: true } : {}),
          ...(nonce !== undefined ? { nonce } : {}),
        });
        const events = recoveryCodeUsedEvents(actor, proof, found.recoveryCodeHashes.length - 1);
        let effect: ProofEffect = { kind: 'none' };
        remembered = deviceAt?.(now);
        if (remembered) {
          const remembering = rememberEffect(actor, found, remembered, now);
          effect = remembering.effect;
          events.push(...remembering.events);
        }
        const result = await store.commitProof(actor.userId, proof, effect, now, events);
        return { result, value: { assertion, exp, now } };
      },
    });
    const method = methodOfProof(proof);
    audit(this.deps, actor, 'mfa.verify.succeeded', 'success', {
      method,
      ...(proof.kind === 'totp' || proof.kind === 'webauthn' || proof.kind === 'email' ? { authenticatorId: proof.authenticatorId } : {}),
      ...(proof.kind === 'device' ? { deviceId: proof.deviceId } : {}),
    });
    if (remembered) auditRemembered(this.deps, actor, record, remembered, signed!.now);
    return {
      assertion: signed!.assertion,
      method,
      expiresAt: new Date(signed!.exp * 1000).toISOString(),
      recoveryCodesRemaining: record.recoveryCodeHashes.length - (method === 'recovery_code' ? 1 : 0),
      ...(remembered ? { device: { id: remembered.id, name: remembered.name, expiresAt: new Date(remembered.expiresAt).toISOString() } } : {}),
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
  proof.kind === 'recovery_code'
    ? 'recovery_code'
    : proof.kind === 'webauthn'
      ? 'webauthn'
      : proof.kind === 'email' || proof.kind === 'pending_email'
        ? 'email'
        : proof.kind === 'device'
          ? 'device'
          : 'totp';
