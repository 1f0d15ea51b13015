import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

/**
 * No import circles, at two scales: no file reaches itself through its imports (type-only
 * imports count: they tie files together as much as any other), and no top-level folder does
 * (bench/ importing test/ while test/ imports bench/ is a circle even when no single file is in
 * one). Circles make a file impossible to read, test or move on its own.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The source folders of the repository; those that do not exist (yet) are left out. */
const AREAS = ['functions', 'lib', 'bin', 'local', 'client', 'web', 'bench', 'scripts', 'test', 'verifier', 'examples'];

const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js|jsx)$/;

interface ImportGraph {
  /** Every source file analysed, relative to the root. */
  files: string[];
  /** File-level circles, each as the chain of files dpdm found. */
  fileCircles: string[][];
  /** Top-level folder -> the top-level folders its files import. */
  folderImports: Map<string, Set<string>>;
  /** "from -> to" between folders: the files of one such import, to say where a circle closes. */
  examples: Map<string, string>;
}

async function importGraph(root: string, areas: string[]): Promise<ImportGraph> {
  const present = areas.filter((area) => existsSync(join(root, area)));
  const rootFiles = readdirSync(root).filter((name) => SOURCE.test(name));
  const tree = await parseDependencyTree([...present.map((area) => `${area}/**/*.{ts,tsx,mts,cts,js,mjs,cjs}`), ...rootFiles], {
    cwd: root,
    context: root,
    // The root's tsconfig.json resolves `./file.js` to `./file.ts`, as NodeNext does.
    tsconfig: join(root, 'tsconfig.json'),
    transform: false,
    exclude: /node_modules|(^|\/)dist\/|cdk\.out/,
  });
  const isSource = (id: string | null): id is string => id !== null && SOURCE.test(id) && !id.includes('node_modules');
  const folderOf = (file: string) => file.split('/')[0]!;
  const folderImports = new Map<string, Set<string>>();
  const examples = new Map<string, string>();
  for (const [file, dependencies] of Object.entries(tree)) {
    if (!isSource(file) || !dependencies) continue;
    for (const { id } of dependencies) {
      if (!isSource(id) || folderOf(id) === folderOf(file)) continue;
      const targets = folderImports.get(folderOf(file)) ?? new Set<string>();
      folderImports.set(folderOf(file), targets.add(folderOf(id)));
      if (!examples.has(`${folderOf(file)} -> ${folderOf(id)}`)) examples.set(`${folderOf(file)} -> ${folderOf(id)}`, `${file} imports ${id}`);
    }
  }
  return { files: Object.keys(tree).filter(isSource), fileCircles: parseCircular(tree), folderImports, examples };
}

/** Groups of folders that reach each other through imports (strongly connected, more than one). */
function folderCircles(imports: Map<string, Set<string>>): string[][] {
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const queue = [from];
    while (queue.length > 0) {
      for (const next of imports.get(queue.shift()!) ?? []) {
        if (next === to) return true;
        if (!seen.has(next)) queue.push(next), seen.add(next);
      }
    }
    return false;
  };
  const folders = [...new Set([...imports.keys(), ...[...imports.values()].flatMap((targets) => [...targets])])].sort();
  const groups: string[][] = [];
  for (const folder of folders) {
    if (groups.some((group) => group.includes(folder))) continue;
    const group = folders.filter((other) => other === folder || (reaches(folder, other) && reaches(other, folder)));
    if (group.length > 1) groups.push(group);
  }
  return groups;
}

/** Each circle as "a -> b -> a", started at its first file in sorted order so the words are stable. */
function describeCircles(circles: string[][]): string[] {
  return circles.map((circle) => {
    const start = circle.indexOf([...circle].sort()[0]!);
    const rotated = [...circle.slice(start), ...circle.slice(0, start)];
    return [...rotated, rotated[0]].join(' -> ');
  });
}

describe('import circles', () => {
  it('are found when there is one (a fixture with a file circle and a folder circle)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'import-circles-'));
    try {
      await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
      await mkdir(join(root, 'web'));
      await mkdir(join(root, 'bench'));
      await mkdir(join(root, 'test'));
      await writeFile(join(root, 'web', 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
      await writeFile(join(root, 'web', 'b.ts'), "import type { a } from './a.js';\nexport const b: typeof a | 1 = 1;\n");
      await writeFile(join(root, 'bench', 'run.ts'), "import { clock } from '../test/clock.js';\nexport const run = clock;\n");
      await writeFile(join(root, 'test', 'clock.ts'), 'export const clock = 1;\n');
      await writeFile(join(root, 'test', 'bench.test.ts'), "import { run } from '../bench/run.js';\nexport const ran = run;\n");

      const graph = await importGraph(root, AREAS);

      expect(describeCircles(graph.fileCircles)).toEqual(['web/a.ts -> web/b.ts -> web/a.ts']);
      expect(folderCircles(graph.folderImports)).toEqual([['bench', 'test']]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  describe('in this repository', async () => {
    const graph = await importGraph(REPO, AREAS);

    it('analyses every source folder', () => {
      for (const area of AREAS.filter((name) => existsSync(join(REPO, name)))) {
        expect(graph.files.some((file) => file.startsWith(`${area}/`)), area).toBe(true);
      }
      expect(graph.files.length).toBeGreaterThan(100);
    });

    it('has no file that imports itself through other files', () => {
      expect(describeCircles(graph.fileCircles)).toEqual([]);
    });

    it('has no top-level folder that imports itself through other folders', () => {
      // Each folder import inside a circle, with one file import that makes it.
      const inCircles = folderCircles(graph.folderImports).flatMap((group) =>
        [...graph.examples].filter(([edge]) => group.includes(edge.split(' -> ')[0]!) && group.includes(edge.split(' -> ')[1]!)).map(([edge, files]) => `${edge}: ${files}`),
      );
      expect(inCircles).toEqual([]);
    });
  });
});
