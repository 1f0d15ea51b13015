import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportedNames, refusingModule } from '../../lib/local-stand-ins.js';

/** The module a bundle gets in place of a local adapter, loaded as Node loads a bundle's code. */
async function load(source: string): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as Record<string, unknown>;
}

describe('the local stand-ins left out of the Lambda bundles (lib/local-stand-ins.ts)', () => {
  it('name every value a local adapter exports, and no type', () => {
    expect(exportedNames(readFileSync('functions/adapters/local/local-secret-sealer.ts', 'utf8'), 'sealer')).toEqual(['LocalSecretSealer']);
    expect(exportedNames(readFileSync('functions/adapters/local/smtp-mailer.ts', 'utf8'), 'mailer')).toEqual(['SmtpMailer']);
    expect(exportedNames('export interface A {}\nexport type B = 1;\nexport async function c() {}\nexport const d = 1;\nexport abstract class E {}\n', 'x')).toEqual(['c', 'd', 'E']);
  });

  it('fail the build on an export form they cannot name', () => {
    expect(() => exportedNames('const a = 1;\nexport { a };\n', 'functions/adapters/local/new.ts')).toThrow(/functions\/adapters\/local\/new\.ts: only named declarations/);
    expect(() => exportedNames("export * from './other.js';\n", 'x')).toThrow(/only named declarations/);
    expect(() => exportedNames('export default class {}\n', 'x')).toThrow(/only named declarations/);
  });

  it('refuse loudly to be constructed, called or asked for a static method, naming the adapter', async () => {
    const module = await load(refusingModule('functions/adapters/local/local-secret-sealer.ts', ['LocalSecretSealer', 'helper']));
    const Sealer = module.LocalSecretSealer as { new (path: string): unknown; inDataDir(dir: string): unknown };
    const refusal = /^LocalSecretSealer is a local stand-in for AWS \(functions\/adapters\/local\/local-secret-sealer\.ts\): the Lambda bundles do not carry it/;
    expect(() => new Sealer('/tmp/key')).toThrow(refusal);
    expect(() => Sealer.inDataDir('/tmp')).toThrow(refusal);
    expect(() => (module.helper as () => unknown)()).toThrow(/^helper is a local stand-in/);
  });
});
