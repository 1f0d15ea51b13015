/** Order statistics for benchmark samples. Every figure the bench reports goes through these. */

export interface LatencySummary {
  n: number;
  medianMs: number;
  p95Ms: number;
  p99Ms: number;
}

/** The q-quantile (0..1) by linear interpolation between closest ranks. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

export function summarize(samples: readonly number[]): LatencySummary {
  return { n: samples.length, medianMs: round(median(samples)), p95Ms: round(quantile(samples, 0.95)), p99Ms: round(quantile(samples, 0.99)) };
}

export const ratio = (numerator: number, denominator: number): number => round(numerator / denominator, 3);

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Milliseconds since `start` (from `performance.now()`). */
export const elapsedMs = (start: number): number => performance.now() - start;

/**
 * A figure measured in several rounds of one run: the median of the rounds is the figure, and
 * the rounds themselves and their spread (max - min) are reported beside it.
 */
export interface Repeated {
  value: number;
  rounds: number[];
  spread: number;
}

export function repeated(rounds: readonly number[]): Repeated {
  const values = rounds.map((value) => round(value, 3));
  return { value: round(median(values), 3), rounds: values, spread: round(Math.max(...values) - Math.min(...values), 3) };
}
