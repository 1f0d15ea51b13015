import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const page = readFileSync(new URL('docs/security.md', root), 'utf8');

/** The rows of the table under `## Standards`. */
function standardsRows(): string[] {
  const section = page.split(/^## /m).find((part) => part.startsWith('Standards'));
  return (section ?? '').split('\n').filter((line) => /^\| (RFC|NIST|OWASP)/.test(line));
}

/** What each `it(` of a test file is called: the source between `it(` and its function, placeholders included. */
function testNames(file: string): string[] {
  const source = readFileSync(new URL(file, root), 'utf8');
  return [...source.matchAll(/\bit(?:\.each\([\s\S]*?\))?\(\s*([\s\S]*?),\s*(?:async\s*)?\(/g)].map((match) => match[1]!);
}

describe('docs/security.md: the standards table', () => {
  it('maps every applicable requirement of RFC 6238 §5, NIST SP 800-63B 5.1.2 and 5.1.4, and OWASP ASVS 4.0.3 V2.6 and V2.8', () => {
    const requirements = standardsRows().map((row) => row.split('|')[1]!.trim());
    for (const expected of ['RFC 6238 §5.1', 'RFC 6238 §5.2', 'NIST 800-63B §5.1.2.1', 'NIST 800-63B §5.1.2.2', 'NIST 800-63B §5.1.4.1', 'NIST 800-63B §5.1.4.2']) {
      expect(requirements.some((requirement) => requirement.startsWith(expected)), expected).toBe(true);
    }
    for (const item of ['2.6.1', '2.6.2', '2.6.3', '2.8.1', '2.8.2', '2.8.3', '2.8.4', '2.8.5', '2.8.6', '2.8.7']) {
      expect(requirements, item).toContain(`OWASP ASVS 4.0.3 ${item}`);
    }
  });

  it('names only tests that exist: every `file` › "name" in it is a test of that file', () => {
    const references = standardsRows().flatMap((row) => [...row.matchAll(/`(test\/[^`]+\.test\.ts)` › "([^"]+)"/g)].map((match) => ({ file: match[1]!, name: match[2]! })));
    expect(references.length).toBeGreaterThanOrEqual(25);
    for (const { file, name } of references) {
      expect(existsSync(new URL(file, root)), file).toBe(true);
      expect(testNames(file).some((test) => test.includes(name)), `${file} › "${name}"`).toBe(true);
    }
  });

  it('gives a test for every row, or says why there is none', () => {
    for (const row of standardsRows()) {
      const proof = row.split('|')[4]!.trim();
      expect(proof === '—' ? /Deployment|Not applicable/.test(row) : proof.includes('›'), row).toBe(true);
    }
  });
});
