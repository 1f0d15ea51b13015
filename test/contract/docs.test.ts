import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_LOCKOUT_MS, DAILY_FAILURE_CAP, FAILURE_WINDOW_MS, LOCKOUT_THRESHOLD, MAX_LOCKOUT_MS } from '../../functions/domain/lockout.js';

/**
 * The docs say what the code does: no merge left half-done, no link that leads nowhere, no
 * command that does not exist, and the lockout figures they quote are functions/domain/lockout.ts's.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((path) => path !== '' && existsSync(join(ROOT, path)));
const markdownFiles = tracked.filter((path) => path.endsWith('.md'));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Markdown without fenced code blocks and inline code: what a reader sees as prose, links and headings. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, text] of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const plain = text!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*_~]/g, (mark) => (mark === '_' ? '_' : ''));
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

/** Every link target in a Markdown file: inline links and images, and reference definitions. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[(?:[^\]\n]|\][^(\n])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
  const references = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]!);
  return [...inline, ...references];
}

const CONFLICT_MARKER = /^(<{7}|>{7})( |$)|^={7}$/m;

describe('the documentation', () => {
  it('finds the tracked files to check', () => {
    expect(markdownFiles).toEqual(expect.arrayContaining(['README.md', 'docs/deploying.md', 'docs/auditing.md', 'docs/web-client.md']));
  });

  it('has no merge-conflict markers in any tracked file', () => {
    const conflicted = tracked.filter((path) => {
      const buffer = readFileSync(join(ROOT, path));
      return !buffer.subarray(0, 8000).includes(0) && CONFLICT_MARKER.test(buffer.toString('utf8'));
    });
    expect(conflicted).toEqual([]);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    let anchorsChecked = 0;
    for (const file of markdownFiles) {
      for (const target of linkTargets(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and the like
        const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
        const path = pathPart === '' ? file : relative(ROOT, resolve(ROOT, dirname(file), decodeURIComponent(pathPart)));
        if (path.startsWith('..') || !existsSync(join(ROOT, path))) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (anchor === undefined || anchor === '') continue;
        if (statSync(join(ROOT, path)).isDirectory() || !path.endsWith('.md')) {
          if (!/^L\d+(-L\d+)?$/.test(anchor)) broken.push(`${file}: ${target} (an anchor into a file that is not Markdown)`);
          continue;
        }
        anchorsChecked += 1;
        if (!headingSlugs(read(path)).has(decodeURIComponent(anchor))) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
    expect(anchorsChecked).toBeGreaterThan(10);
  });

  it('names only npm scripts that package.json has', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = markdownFiles.flatMap((file) => [...read(file).matchAll(/npm run ([\w:.-]+)/g)].map((match) => ({ file, script: match[1]! })));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter(({ script }) => !scripts.includes(script))).toEqual([]);
  });

  it('describes the service by both kinds of method (package.json, openapi.json and the /docs page it feeds)', () => {
    const described = [(JSON.parse(read('package.json')) as { description: string }).description, (JSON.parse(read('openapi.json')) as { info: { description: string } }).info.description];
    for (const description of described) expect(description).toMatch(/authenticator apps?\W+\(TOTP[\s\S]*security keys?(?: or |\/)passkeys?\W*\(WebAuthn\)/);
  });

  describe('lockout figures, against functions/domain/lockout.ts', () => {
    const figures = {
      threshold: LOCKOUT_THRESHOLD,
      firstLockSeconds: BASE_LOCKOUT_MS / 1000,
      longestLockMinutes: MAX_LOCKOUT_MS / 60_000,
      dailyCap: DAILY_FAILURE_CAP,
      windowHours: FAILURE_WINDOW_MS / 3_600_000,
    };
    /** How the docs quote each figure; every quote found must say the code's number. */
    const QUOTES: ReadonlyArray<{ pattern: RegExp; says: (match: RegExpMatchArray) => Partial<typeof figures> }> = [
      { pattern: /(\d+) (?:consecutive )?(?:code )?failures lock for (\d+) s\b/g, says: (m) => ({ threshold: Number(m[1]), firstLockSeconds: Number(m[2]) }) },
      { pattern: /every (\d+)(?:st|nd|rd|th) consecutive failure \((\d+) s/g, says: (m) => ({ threshold: Number(m[1]), firstLockSeconds: Number(m[2]) }) },
      { pattern: /doubling to (\d+) min\b/g, says: (m) => ({ longestLockMinutes: Number(m[1]) }) },
      { pattern: /at most (\d+) failures count in any (\d+) h window/g, says: (m) => ({ dailyCap: Number(m[1]), windowHours: Number(m[2]) }) },
      { pattern: /at (\d+) failures in its (\d+) h window/g, says: (m) => ({ dailyCap: Number(m[1]), windowHours: Number(m[2]) }) },
    ];
    const quotes = markdownFiles.flatMap((file) =>
      QUOTES.flatMap(({ pattern, says }) => [...prose(read(file)).replace(/\s+/g, ' ').matchAll(pattern)].map((match) => ({ file, quote: match[0], says: says(match) }))),
    );

    it('quotes each figure somewhere, in the README at least', () => {
      const quoted = new Set(quotes.filter(({ file }) => file === 'README.md').flatMap(({ says }) => Object.keys(says)));
      expect([...quoted].sort()).toEqual(Object.keys(figures).sort());
    });

    it("quotes the code's numbers wherever a figure is quoted", () => {
      const wrong = quotes.filter(({ says }) => Object.entries(says).some(([name, value]) => figures[name as keyof typeof figures] !== value));
      expect(wrong).toEqual([]);
    });

    it('never promises a lock that only an operator ends (no lock outlives its window)', () => {
      const permanent = markdownFiles.filter((file) => /until an operator (resets|unlocks|clears)|lock(?:s|ed)? (?:permanently|forever|until reset)/i.test(prose(read(file)).replace(/\s+/g, ' ')));
      expect(permanent).toEqual([]);
    });
  });
});
