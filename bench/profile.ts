import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Runs `work` under V8's sampling profiler and writes a .cpuprofile (what `node --cpu-prof`
 * writes, scoped to this work; open it in Chrome DevTools or summarise it with
 * `npm run bench:profile-summary -- <file>`). Without a file it just runs the work.
 */
export async function profiled<T>(file: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!file) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

export interface ProfileSummaryRow {
  where: string;
  ms: number;
  share: number;
}

/**
 * Self time of a .cpuprofile grouped by package (node_modules), project file or Node internal
 * area. Frames in a bundle with a source map next to it (`.mjs.map`) are attributed to the
 * package or file they were bundled from.
 */
export function summarizeProfile(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, top = 20): ProfileSummaryRow[] {
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const maps = new Map<string, SourceMap | null>();
  const sourceOf = (url: string, line: number, column: number): string => {
    if (!url.endsWith('.mjs')) return url;
    if (!maps.has(url)) {
      try {
        maps.set(url, new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8'))));
      } catch {
        maps.set(url, null);
      }
    }
    const entry = maps.get(url)?.findEntry(line, column) as { originalSource?: string } | undefined;
    return entry?.originalSource ?? url;
  };
  const byPlace = new Map<string, number>();
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id);
    if (!micros) continue;
    const url = sourceOf(node.callFrame.url, node.callFrame.lineNumber, node.callFrame.columnNumber);
    const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const place = dependency
      ? dependency
      : url.startsWith('node:')
        ? url.split('/').slice(0, 3).join('/')
        : url
          ? url.replace(/^file:\/\//, '').replace(/^.*?\/(functions|local|bench|test|lib)\//, '$1/')
          : `(${node.callFrame.functionName || 'native'})`;
    byPlace.set(place, (byPlace.get(place) ?? 0) + micros / 1000);
  }
  const total = [...byPlace.values()].reduce((sum, ms) => sum + ms, 0);
  return [...byPlace]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, ms]) => ({ where, ms: Math.round(ms), share: Math.round((1000 * ms) / total) / 10 }));
}

/**
 * Inclusive time of each function whose `functionName file` matches `pattern` (a sample counts
 * once per function on its stack): what the function and everything it called synchronously
 * cost. Awaited work resumed later counts under the callback that resumed it.
 */
export function inclusiveByFunction(
  profile: { nodes: (ProfileNode & { children?: number[] })[]; samples: number[]; timeDeltas: number[] },
  pattern: RegExp,
  top = 20,
): ProfileSummaryRow[] {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const nameOf = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^file:\/\//, '').replace(/^.*?\/(node_modules|functions|local|bench|harness|lib)\//, '$1/')}`;
  const micros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(byId.get(at)!);
      if (seen.has(name) || !pattern.test(name)) continue;
      seen.add(name);
      micros.set(name, (micros.get(name) ?? 0) + delta);
    }
  });
  return [...micros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, value]) => ({ where, ms: Math.round(value / 100) / 10, share: Math.round((1000 * value) / total) / 10 }));
}
