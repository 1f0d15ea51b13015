/**
 * Structured audit trail: one JSON line per MFA event. Never carries a secret, a code,
 * a recovery code or a token; the field set is closed so that nothing else can slip in.
 */
export type AuditEventName =
  | 'mfa.enrollment.started'
  | 'mfa.totp.enabled'
  | 'mfa.enrollment.confirm_failed'
  | 'mfa.verify.succeeded'
  | 'mfa.verify.failed'
  | 'mfa.code.replay_refused'
  | 'mfa.recovery_code.used'
  | 'mfa.recovery_codes.regenerated'
  | 'mfa.totp.disabled'
  | 'mfa.step_up.failed'
  | 'mfa.lockout.started'
  | 'mfa.lockout.refused';

export interface AuditContext {
  requestId: string;
  sourceIp: string;
}

export interface AuditEvent {
  event: AuditEventName;
  userId: string;
  outcome: 'success' | 'failure' | 'refused';
  method?: 'totp' | 'recovery_code' | undefined;
  operation?: string | undefined;
  failures?: number | undefined;
  lockedUntil?: string | undefined;
}

export interface AuditLog {
  record(event: AuditEvent, context: AuditContext): void;
}
