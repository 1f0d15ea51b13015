import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ReadableStream as WebReadableStream } from 'node:stream/web';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFERRED_MIDDY_BUILTINS } from '../../lib/deferred-builtins.js';

const dir = mkdtempSync(join(tmpdir(), 'deferred-builtins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in as the bundle holds it: an ES module of its own. */
async function standIn<T>(builtin: string): Promise<T> {
  const file = join(dir, `${builtin.replace(/\W/g, '-')}.mjs`);
  writeFileSync(file, DEFERRED_MIDDY_BUILTINS[builtin]!);
  return (await import(pathToFileURL(file).href)) as T;
}

describe("middy's deferred built-ins (lib/deferred-builtins.ts)", () => {
  it('stand in for exactly what @middy/core imports from them', async () => {
    const { readFileSync } = await import('node:fs');
    const middy = readFileSync(new URL('../../node_modules/@middy/core/index.js', import.meta.url), 'utf8');
    const imports = [...middy.matchAll(/import \{ ([\w, ]+) \} from "(node:stream\/(?:web|promises))"/g)].map(([, names, from]) => `${from}: ${names}`);
    expect(imports.sort()).toEqual(['node:stream/promises: pipeline', 'node:stream/web: ReadableStream']);
  });

  it('answer instanceof ReadableStream as node:stream/web does', async () => {
    const { ReadableStream } = await standIn<{ ReadableStream: object }>('node:stream/web');
    expect(new WebReadableStream() instanceof (ReadableStream as typeof WebReadableStream)).toBe(true);
    expect(Readable.from(['a']) instanceof (ReadableStream as typeof WebReadableStream)).toBe(false);
    expect(('text' as unknown as object) instanceof (ReadableStream as typeof WebReadableStream)).toBe(false);
  });

  it('pipe as node:stream/promises pipeline does, errors included', async () => {
    const { pipeline } = await standIn<{ pipeline: (...streams: unknown[]) => Promise<void> }>('node:stream/promises');
    const written: string[] = [];
    const sink = () => new Writable({ write: (chunk: Buffer, _encoding, done) => (written.push(chunk.toString()), done()) });
    await pipeline(Readable.from(['a', 'b']), sink());
    expect(written).toEqual(['a', 'b']);
    const failing = new Readable({ read() { this.destroy(new Error('source failed')); } });
    await expect(pipeline(failing, sink())).rejects.toThrow('source failed');
  });
});
