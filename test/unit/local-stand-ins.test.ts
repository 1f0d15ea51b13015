import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportedNames, refusingModule } from '../../lib/local-stand-ins.js';

const dir = mkdtempSync(join(tmpdir(), 'mfa-stand-ins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A module file with `source`, for exportedNames to read. */
function moduleFile(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

/** The module a bundle gets in place of a local adapter, loaded as Node loads a bundle's code. */
async function load(source: string): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as Record<string, unknown>;
}

describe('the local stand-ins left out of the Lambda bundles (lib/local-stand-ins.ts)', () => {
  it('name every value each local adapter exports, and no type', async () => {
    expect(await exportedNames('functions/adapters/local/local-secret-sealer.ts')).toEqual(['LocalSecretSealer']);
    expect(await exportedNames('functions/adapters/local/local-assertion-signer.ts')).toEqual(['LocalAssertionSigner']);
    expect(await exportedNames('functions/adapters/local/smtp-mailer.ts')).toEqual(['SmtpMailer']);
    expect(await exportedNames('functions/adapters/local/key-files.ts')).toEqual(['readOrCreateKeyFile']);
  });

  it('name every export form, as esbuild reads them', async () => {
    const source = [
      'export interface A { a: number }',
      'export type B = 1;',
      'export var c = 1;',
      'export enum D { x }',
      'export function* e() {}',
      'export async function f() {}',
      'export const g = 1, h = 2;',
      'export const { i, j } = { i: 1, j: 2 };',
      'export abstract class K {}',
      'const l = 1;',
      'export { l as m };',
      'export default class {}',
    ].join('\n');
    expect((await exportedNames(moduleFile('forms.ts', source))).sort()).toEqual(['D', 'K', 'c', 'default', 'e', 'f', 'g', 'h', 'i', 'j', 'm']);
  });

  it('fail the build on a module that re-exports another', async () => {
    await expect(exportedNames(moduleFile('reexport.ts', "export * from './forms.js';\n"))).rejects.toThrow(/re-exports another module/);
  });

  it('refuse loudly to be constructed, called, asked for a static method or tested with instanceof, naming the adapter', async () => {
    const module = await load(refusingModule('functions/adapters/local/local-secret-sealer.ts', ['LocalSecretSealer', 'helper', 'default']));
    const Sealer = module.LocalSecretSealer as { new (path: string): unknown; inDataDir(dir: string): unknown };
    const refusal = /^LocalSecretSealer is a local stand-in for AWS \(functions\/adapters\/local\/local-secret-sealer\.ts\): the Lambda bundles do not carry it/;
    expect(() => new Sealer('/tmp/key')).toThrow(refusal);
    expect(() => Sealer.inDataDir('/tmp')).toThrow(refusal);
    expect(() => ({}) instanceof (Sealer as unknown as new () => unknown)).toThrow(refusal);
    expect(() => (module.helper as () => unknown)()).toThrow(/^helper is a local stand-in/);
    expect(() => (module.default as () => unknown)()).toThrow(/^default is a local stand-in/);
    // Not thenable: awaiting it gives it back rather than calling it.
    expect(await (Sealer as unknown as Promise<unknown>)).toBe(Sealer);
  });
});
