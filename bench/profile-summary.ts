/** `npm run bench:profile-summary -- <file.cpuprofile> [top]`: self time by package, project file or Node internal area. */
import { readFile } from 'node:fs/promises';
import { summarizeProfile } from './profile.js';

const [file, top] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npm run bench:profile-summary -- <file.cpuprofile> [top]\n');
  process.exit(2);
}
for (const row of summarizeProfile(JSON.parse(await readFile(file, 'utf8')), Number(top ?? 25))) {
  process.stdout.write(`${String(row.ms).padStart(7)} ms ${row.share.toFixed(1).padStart(5)} %  ${row.where}\n`);
}
