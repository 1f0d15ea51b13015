import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ATTR, LEGACY, MFA_TABLE, num, PENDING_ENROLLMENT } from './mfa-item.js';

/** Items of users without an active method linger this long after their last change, then expire. */
export const IDLE_ITEM_TTL_SECONDS = 7 * 24 * 3600;

export const MFA_ON = `(attribute_exists(${ATTR.authenticators}) OR attribute_exists(${LEGACY.secret}))`;
export const MFA_OFF = `(attribute_not_exists(${ATTR.authenticators}) AND attribute_not_exists(${LEGACY.secret}))`;
export const NOT_LOCKED = `(attribute_not_exists(${ATTR.lockedUntil}) OR ${ATTR.lockedUntil} <= :now)`;

/**
 * One UpdateItem being put together: clauses, a condition, and the placeholders they use.
 * Nested authenticator fields are always named through placeholders (several are reserved words).
 */
export class Write {
  readonly set: string[] = [];
  readonly remove: string[] = [];
  readonly del: string[] = [];
  readonly add: string[] = [];
  readonly conditions: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private ids = 0;

  constructor(readonly now: number) {}

  value(placeholder: string, value: AttributeValue): string {
    this.values[placeholder] = value;
    return placeholder;
  }

  /** `authenticators.#aN` for one authenticator id. */
  authenticator(id: string): string {
    const placeholder = `#a${this.ids++}`;
    this.names[placeholder] = id;
    return `${ATTR.authenticators}.${placeholder}`;
  }

  /** `emailCodes.#sN` for one first-factor session. */
  emailCode(sessionId: string): string {
    const placeholder = `#s${this.ids++}`;
    this.names[placeholder] = sessionId;
    return `${ATTR.emailCodes}.${placeholder}`;
  }

  field(path: string, field: string): string {
    this.names[`#${field}`] = field;
    return `${path}.#${field}`;
  }

  /** `map.#kN` for one key of a map attribute keyed by ids (sessions, pending ceremonies). */
  key(map: string, id: string): string {
    const placeholder = `#k${this.ids++}`;
    this.names[placeholder] = id;
    return `${map}.${placeholder}`;
  }

  /** The session's pending enrollment, confirmable now: unexpired, and started with a proof unless MFA is off. */
  pendingConfirmable(sessionId: string): string {
    const pending = this.key(ATTR.pendingEnrollments, sessionId);
    this.value(':true', { BOOL: true });
    return `attribute_exists(${pending}) AND ${this.field(pending, PENDING_ENROLLMENT.expiresAt)} > :now AND (${this.field(pending, PENDING_ENROLLMENT.proved)} = :true OR ${MFA_OFF})`;
  }

  resetCodeFailures(): void {
    this.set.push(`${ATTR.failures} = :zero`, `${ATTR.windowFailures} = if_not_exists(${ATTR.windowFailures}, :one) - :one`);
    this.value(':zero', num(0));
    this.value(':one', num(1));
    this.remove.push(ATTR.lockedUntil);
  }

  idleTtl(): void {
    this.names['#ttl'] = MFA_TABLE.timeToLiveAttribute;
    this.set.push('#ttl = :ttl');
    this.value(':ttl', num(Math.ceil(this.now / 1000) + IDLE_ITEM_TTL_SECONDS));
  }
}
