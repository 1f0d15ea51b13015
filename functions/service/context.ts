import type { Clock } from '../domain/clock.js';
import type { RandomSource } from '../domain/random.js';
import type { ProofMethod } from '../methods/kinds.js';
import type { RelyingParty } from '../methods/webauthn/webauthn.js';
import type { AssertionSigner } from '../ports/assertion-signer.js';
import type { AuditContext, AuditEvent, AuditLog } from '../ports/audit-log.js';
import type { Mailer } from '../ports/mailer.js';
import type { MfaRecord } from '../domain/mfa-record.js';
import { sameMailbox } from '../methods/email/email-codes.js';
import type { MfaStore, NotifyAddressChange } from '../ports/mfa-store.js';
import type { SealContext, SecretSealer } from '../ports/secret-sealer.js';
import type { AuthenticationResponseJSON } from '../methods/webauthn/webauthn.js';
import type { DeviceProofInput } from '../methods/device/device.js';

export interface MfaSettings {
  /** Shown in authenticator apps (the otpauth issuer) and as the WebAuthn relying party's name. */
  totpIssuer: string;
  /** `iss` of MFA assertions: the URL that serves /.well-known/openid-configuration. */
  assertionIssuer: string;
  /** First-factor audience (the token's `aud`, else its `client_id`) -> assertion `aud`; unmapped ones pass through. */
  audienceMap: Readonly<Record<string, string>>;
  assertionTtlSeconds: number;
  enrollmentTtlSeconds: number;
  /** Days a remembered browser stays remembered (fixed when remembered); 0: remembering is off. */
  rememberDeviceDays: number;
  relyingParty: RelyingParty;
  /** The deployment offers codes by email (`emailCodes`); off, its routes answer 404. */
  emailCodes?: boolean | undefined;
  /** The principals the operator routes admit (see `Administration.admit`); empty: nobody. */
  adminPrincipalArns: readonly string[];
}

export interface MfaServiceDeps {
  store: MfaStore;
  sealer: SecretSealer;
  signer: AssertionSigner;
  audit: AuditLog;
  clock: Clock;
  random: RandomSource;
  settings: MfaSettings;
  /** Only the functions that send a code by email have one. */
  mailer?: Mailer | undefined;
}

/** Who is asking: the first-factor token's subject, plus what the assertion and the audit trail need. */
export interface Actor {
  userId: string;
  /** The otpauth and WebAuthn account name: the token's email claim, else its subject. */
  accountName: string;
  /** The app the first factor was issued to: the token's `aud`, else its `client_id`. */
  audience?: string | undefined;
  /**
   * The first-factor session (a digest of the token's `sid`, `origin_jti` or `jti`, else of the
   * token): limits on unguessable proofs, pending ceremonies and replay allowances are kept per
   * session, so that another session of the same user (a password holder's) cannot spend them.
   */
  sessionId: string;
  /** The token's `email`, only when its `email_verified` is true: where email codes and security notices may go. */
  verifiedEmail?: string | undefined;
  audit: AuditContext;
}

/**
 * A proof of a current factor: exactly one of a code, a recovery code, a key's assertion or an
 * email code; at sign-in (verify) only, also a remembered browser's signature over its challenge.
 */
export type SecondFactor = { code: string } | { recoveryCode: string } | { webauthn: AuthenticationResponseJSON } | { emailCode: string } | { device: DeviceProofInput };

export type FactorMethod = ProofMethod;

export const methodOf = (factor: SecondFactor): FactorMethod =>
  'code' in factor ? 'totp' : 'recoveryCode' in factor ? 'recovery_code' : 'emailCode' in factor ? 'email' : 'device' in factor ? 'device' : 'webauthn';

export const TOTP_SECRET_PURPOSE = 'totp-secret';

export const sealContextOf = (actor: Actor): SealContext => ({ purpose: TOTP_SECRET_PURPOSE, userId: actor.userId });

/** The context the key of an email code's hash is sealed under (see methods/email/email-codes.ts). */
export const emailCodeSealContextOf = (actor: Pick<Actor, 'userId'>): SealContext => ({ purpose: 'email-code', userId: actor.userId });

/** Where a change came from, for its event: the request, and the caller's IP (told to the user in a security notice). */
export const originOf = (actor: Pick<Actor, 'audit'>): { requestId: string; sourceIp: string } => ({ requestId: actor.audit.requestId, sourceIp: actor.audit.sourceIp });

export function audit(
  deps: Pick<MfaServiceDeps, 'audit'>,
  actor: Actor,
  event: AuditEvent['event'],
  outcome: AuditEvent['outcome'],
  details: Omit<AuditEvent, 'event' | 'userId' | 'outcome'> = {},
): void {
  deps.audit.record({ event, userId: actor.userId, outcome, ...details }, actor.audit);
}

export const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * Where security notices go once a method is added with `address` (the token's verified address,
 * or the one email codes were set up with), conditioned on the address read; and, when that one
 * is another mailbox, the address to tell of the change with the write's `authenticator.added`
 * (so a password holder who adds their own address cannot move the notices away unseen).
 */
export function notifyAddressChangeOf(record: Pick<MfaRecord, 'notifyAddress'>, address: string | undefined): { notifyAddress?: NotifyAddressChange; previousNotifyAddress?: string } {
  if (address === undefined) return {};
  const read = record.notifyAddress;
  const moved = read !== undefined && !sameMailbox(read, address);
  return { notifyAddress: { address, read }, ...(moved ? { previousNotifyAddress: read } : {}) };
}
