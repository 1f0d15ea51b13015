import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(m?ts)$/.test(entry.name) && !join(entry.parentPath, entry.name).includes(`${dir}/.build`))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Module specifiers of static and dynamic imports and re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((match) => match[1]!);
}

describe('shared harness', () => {
  it.each([
    ['bench', 'test'],
    ['test', 'bench'],
    ['harness', 'test'],
    ['harness', 'bench'],
  ])('%s/ imports nothing from %s/ (what both need lives in harness/)', (from, forbidden) => {
    const offending = sourceFiles(from).flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith('.') && relative(ROOT, join(ROOT, file, '..', specifier)).split('/')[0] === forbidden)
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
