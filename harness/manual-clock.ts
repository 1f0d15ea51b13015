import type { Clock } from '../functions/domain/clock.js';

/**
 * A clock moved by hand: shared by the tests and the benchmarks.
 *
 * It starts at the wall clock's current minute (so at the start of a TOTP step and of a rate
 * window, as a fixed start would), never at a fixed date: DynamoDB Local runs the table's TTL,
 * so an item written with an idle TTL computed from a start date more than 7 days in the past
 * (IDLE_ITEM_TTL_SECONDS) is deleted under a running test. A fixed start of 2026-11-28 made
 * every suite flaky from 2026-12-05 on.
 */
export class ManualClock implements Clock {
  constructor(private current: number = Math.floor(Date.now() / 60_000) * 60_000) {}
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
