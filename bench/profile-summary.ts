/**
 * `npm run bench:profile-summary -- <file.cpuprofile> [top]`: self time by package, project file or Node internal area.
 * `npm run bench:profile-summary -- <file.cpuprofile> --functions <pattern> [top]`: inclusive time of each function whose
 * name and file match the pattern (a regular expression), e.g. `--functions 'functions/|local/'`.
 */
import { readFile } from 'node:fs/promises';
import { inclusiveByFunction, summarizeProfile } from './profile.js';

const args = process.argv.slice(2);
const file = args[0];
const functionsAt = args.indexOf('--functions');
if (!file || (functionsAt >= 0 && !args[functionsAt + 1])) {
  process.stderr.write('usage: npm run bench:profile-summary -- <file.cpuprofile> [top] | <file.cpuprofile> --functions <pattern> [top]\n');
  process.exit(2);
}
const profile = JSON.parse(await readFile(file, 'utf8'));
const rows =
  functionsAt >= 0
    ? inclusiveByFunction(profile, new RegExp(args[functionsAt + 1]!), Number(args[functionsAt + 2] ?? 25))
    : summarizeProfile(profile, Number(args[1] ?? 25));
for (const row of rows) process.stdout.write(`${String(row.ms).padStart(7)} ms ${row.share.toFixed(1).padStart(5)} %  ${row.where}\n`);
