import type { Clock } from '../functions/domain/clock.js';

/** A clock moved by hand: shared by the tests and the benchmarks. */
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
