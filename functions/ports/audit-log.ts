import type { ProofMethod } from '../methods/kinds.js';

/**
 * Structured audit trail: one JSON line per MFA event. Never carries a secret, a code,
 * a recovery code, a credential or a token; the field set is closed so that nothing else can slip in.
 */
export type AuditEventName =
  | 'mfa.enrollment.started'
  | 'mfa.totp.enabled'
  | 'mfa.enrollment.confirm_failed'
  | 'mfa.webauthn.registration.started'
  | 'mfa.webauthn.registration_failed'
  | 'mfa.webauthn.enabled'
  | 'mfa.webauthn.challenge.started'
  | 'mfa.webauthn.counter_regression'
  | 'mfa.email.code_sent'
  | 'mfa.email.send_failed'
  | 'mfa.email.enabled'
  | 'mfa.webauthn.credential_in_use'
  | 'mfa.webauthn.backup_eligibility_changed'
  | 'mfa.authenticator.renamed'
  | 'mfa.authenticator.removed'
  | 'mfa.verify.succeeded'
  | 'mfa.verify.failed'
  | 'mfa.code.replay_refused'
  | 'mfa.proof.raced'
  | 'mfa.recovery_code.used'
  | 'mfa.recovery_codes.regenerated'
  | 'mfa.totp.disabled'
  | 'mfa.disabled'
  | 'mfa.step_up.failed'
  | 'mfa.lockout.started'
  | 'mfa.lockout.refused'
  | 'mfa.proof_ceiling.reached'
  | 'mfa.admin.status'
  | 'mfa.admin.reset'
  | 'mfa.admin.unlock'
  | 'mfa.device.remembered'
  | 'mfa.device.challenge.started'
  | 'mfa.device.forgotten'
  | 'mfa.admin.refused';

export interface AuditContext {
  requestId: string;
  sourceIp: string;
  /** The IAM principal ARN of an admin call. */
  principal?: string | undefined;
  /** The first-factor session of a user's call (a digest, see `Actor.sessionId`). */
  sessionId?: string | undefined;
}

export interface AuditEvent {
  event: AuditEventName;
  userId: string;
  outcome: 'success' | 'failure' | 'refused';
  method?: ProofMethod | undefined;
  operation?: string | undefined;
  authenticatorId?: string | undefined;
  failures?: number | undefined;
  lockedUntil?: string | undefined;
  /** A remembered browser's id (device events). */
  deviceId?: string | undefined;
  /** Why an operator acted (admin calls), or why a remembered browser was forgotten. */
  reason?: string | undefined;
}

export interface AuditLog {
  record(event: AuditEvent, context: AuditContext): void;
}
