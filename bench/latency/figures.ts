import { median, ratio, summarize, type LatencySummary } from '../stats.js';

export interface OverheadFigure {
  ratio: number;
  p95Ratio: number;
  p99Ratio: number;
  requestMs: LatencySummary;
  floorMs: LatencySummary;
}

export function overhead(request: number[], floor: number[]): OverheadFigure {
  const requestMs = summarize(request);
  const floorMs = summarize(floor);
  return {
    ratio: ratio(median(request), median(floor)),
    p95Ratio: ratio(requestMs.p95Ms, floorMs.p95Ms),
    p99Ratio: ratio(requestMs.p99Ms, floorMs.p99Ms),
    requestMs,
    floorMs,
  };
}

/** Approximate DynamoDB item size (attribute names plus values), as request units are billed. */
export function itemBytes(item: Record<string, { S?: string; N?: string; B?: Uint8Array; SS?: string[]; BS?: Uint8Array[] }>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.replace(/^-/, '').replace('.', '').length / 2) + 1;
    else if (value.B !== undefined) bytes += value.B.length;
    else if (value.SS !== undefined) bytes += value.SS.reduce((sum, entry) => sum + Buffer.byteLength(entry), 0);
    else if (value.BS !== undefined) bytes += value.BS.reduce((sum, entry) => sum + entry.length, 0);
  }
  return bytes;
}
