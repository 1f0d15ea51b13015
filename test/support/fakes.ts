import type { Clock } from '../../functions/domain/clock.js';
import type { AuditContext, AuditEvent, AuditLog } from '../../functions/ports/audit-log.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.UTC(2026, 10, 28, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/** Keeps audit events in memory so tests can assert on the trail. */
export class RecordingAuditLog implements AuditLog {
  readonly events: Array<AuditEvent & AuditContext> = [];
  record(event: AuditEvent, context: AuditContext): void {
    this.events.push({ ...event, ...context });
  }
  names(): string[] {
    return this.events.map((event) => event.event);
  }
}
