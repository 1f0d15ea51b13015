import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDeclarationsStandAlone } from '../../scripts/package/declarations.js';

const OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  declaration: true,
  emitDeclarationOnly: true,
  stripInternal: true,
  types: [],
};

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A project whose `src/` ships and whose `internal/` does not, with tsc's declarations emitted to out/. */
function emitted(files: Record<string, string>): { root: string; outDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'mfa-declarations-'));
  roots.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const outDir = join(root, 'out');
  const sources = Object.keys(files).filter((path) => path.startsWith('src/')).map((path) => join(root, path));
  const program = ts.createProgram(sources, { ...OPTIONS, rootDir: root, outDir });
  const result = program.emit();
  expect(ts.getPreEmitDiagnostics(program).concat(result.diagnostics).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  return { root, outDir };
}

function standAlone(project: { root: string; outDir: string }) {
  return makeDeclarationsStandAlone({
    root: project.root,
    outDir: project.outDir,
    entries: [join(project.outDir, 'src/index.d.ts')],
    shipped: ['src'],
    packages: [],
    compilerOptions: { ...OPTIONS, rootDir: project.root },
  });
}

/** Type-checks a declaration file on its own (nothing but it and the standard library). */
function diagnosticsOf(file: string): string[] {
  const program = ts.createProgram([file], { ...OPTIONS, noEmit: true, skipLibCheck: false });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const INTERNAL_TYPES = `
export type Action = 'table:read' | 'table:write';
/** What a function may touch. */
export interface Access {
  /** Table actions. */
  table: readonly Action[];
  name?: string | null;
  limits: Record<string, number>;
}
export class Schema<T> { constructor(readonly shape: T) {} }
export type Infer<S> = S extends Schema<infer T> ? T : never;
export declare const StatusSchema: Schema<{ enabled: boolean; count: number; since: string | null }>;
`;

// Each case compiles two small programs with the standard library: seconds alone, a minute on a loaded machine.
describe('stand-alone declarations (scripts/package/declarations.ts)', { timeout: 5 * 60_000 }, () => {
  it('spells out the types of modules that do not ship, in aliases, in place and as local aliases', () => {
    const project = emitted({
      'internal/types.ts': INTERNAL_TYPES,
      'src/index.ts': `
import type { Access, Infer, StatusSchema } from '../internal/types.js';
export type Status = Infer<typeof StatusSchema>;
export function grant(access: Access, actions: Access['table']): number { return access.table.length + actions.length; }
export function read(status: Infer<typeof StatusSchema>): boolean { return status.enabled; }
`,
    });
    const { files } = standAlone(project);
    const index = join(project.outDir, 'src/index.d.ts');
    expect(files).toEqual([index]);
    const text = readFileSync(index, 'utf8');
    expect(text).not.toContain('internal/');
    expect(text).toMatch(/export type Status = \{\s*enabled: boolean;\s*count: number;\s*since: null \| string;\s*\}/);
    expect(text).toContain('/** Table actions. */');
    expect(text).toMatch(/name\?: null \| string;/);
    expect(text).toMatch(/readonly \("table:read" \| "table:write"\)\[\]/);
    expect(diagnosticsOf(index)).toEqual([]);
  });

  it('fails the build, naming the declaration, when a value of a module that does not ship is exported', () => {
    const project = emitted({
      'internal/types.ts': INTERNAL_TYPES,
      'src/index.ts': `
import { StatusSchema } from '../internal/types.js';
export const schema = StatusSchema;
`,
    });
    expect(() => standAlone(project)).toThrow(/src\/index\.d\.ts: export declare const schema.* names \.\.\/internal\/types\.js, which does not ship; .*mark it @internal/);
  });

  it('leaves out what is marked @internal, and declaration files no entry point reaches', () => {
    const project = emitted({
      'internal/types.ts': INTERNAL_TYPES,
      'src/unreached.ts': `export const unreached = 1;\n`,
      'src/index.ts': `
import { StatusSchema } from '../internal/types.js';
/** @internal */
export const schema = StatusSchema;
export const version = '1';
`,
    });
    // tsc emitted unreached.d.ts (it is in the program); no entry point imports it.
    const { files } = standAlone(project);
    expect(files).toEqual([join(project.outDir, 'src/index.d.ts')]);
    expect(() => readFileSync(join(project.outDir, 'src/unreached.d.ts'))).toThrow(/ENOENT/);
    expect(readFileSync(join(project.outDir, 'src/index.d.ts'), 'utf8')).not.toContain('schema');
  });
});
