import type { AuditContext, AuditEvent, AuditLog } from '../../functions/ports/audit-log.js';

/** Defined in harness/ (the benchmarks use it too); re-exported for the tests that import their fakes from here. */
export { ManualClock } from '../../harness/manual-clock.js';

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
