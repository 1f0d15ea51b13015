import type { ProofMethod } from '../methods/kinds.js';

/**
 * Change events: every change of a user's MFA state, recorded in the same conditional write
 * as the change (the item's outbox) and delivered from the table's stream, so that an event
 * is published if and only if its change committed. Security signals that change no state
 * (a replayed code) are published directly. Never a secret, code, recovery code or token.
 */
export const CHANGE_EVENTS = {
  'mfa.enabled': 'MFA Enabled',
  'authenticator.added': 'MFA Authenticator Added',
  'authenticator.renamed': 'MFA Authenticator Renamed',
  'authenticator.removed': 'MFA Authenticator Removed',
  'mfa.disabled': 'MFA Disabled',
  'recovery_codes.regenerated': 'MFA Recovery Codes Regenerated',
  'recovery_code.used': 'MFA Recovery Code Used',
  'lockout.started': 'MFA Lockout Started',
  'code.replay_refused': 'MFA Replayed Code Refused',
  'authenticator.clone_suspected': 'MFA Authenticator Clone Suspected',
  'proof_ceiling.reached': 'MFA Proof Ceiling Reached',
  'admin.reset': 'MFA Admin Reset',
  'admin.unlock': 'MFA Admin Unlock',
  'device.remembered': 'MFA Device Remembered',
  'device.forgotten': 'MFA Device Forgotten',
} as const;

export type ChangeEventName = keyof typeof CHANGE_EVENTS;

/** The event source on the bus. */
export const EVENT_SOURCE = 'serverless-mfa';

/** What a use case records with its write; the store adds the id and time. */
export interface ChangeEvent {
  event: ChangeEventName;
  requestId: string;
  method?: ProofMethod | undefined;
  authenticatorId?: string | undefined;
  recoveryCodesRemaining?: number | undefined;
  /**
   * The caller's IP address. Kept in the item's outbox for the security notice (which says
   * from where a change came), never put on the bus: `detail` has only the documented fields.
   */
  sourceIp?: string | undefined;
  /**
   * The address security notices went to before this change made them go to another one (an
   * `authenticator.added` with a new verified address). Kept in the item's outbox so that the
   * old address is told too, never put on the bus.
   */
  previousNotifyAddress?: string | undefined;
  /** A remembered browser's id (device events). */
  deviceId?: string | undefined;
  /** Why a remembered browser was forgotten (`device.forgotten`). */
  reason?: DeviceForgottenReason | undefined;
}

/**
 * Why a remembered browser was forgotten: the user forgot it or all of them, a factor was removed,
 * MFA was turned off, an operator reset the user, it expired, or remembering a newer one passed the limit.
 */
export const DEVICE_FORGOTTEN_REASONS = ['user_forgot', 'user_forgot_all', 'authenticator_removed', 'mfa_disabled', 'admin_reset', 'expired', 'limit_reached'] as const;
export type DeviceForgottenReason = (typeof DEVICE_FORGOTTEN_REASONS)[number];

/** An event as delivered: `detail` of the EventBridge entry. */
export interface PublishedChangeEvent extends ChangeEvent {
  /** Unique per event and stable across redeliveries: consumers de-duplicate on it. */
  id: string;
  userId: string;
  /** ISO 8601 time of the change. */
  at: string;
}
