/**
 * `npm run openapi`: writes openapi.json at the repo root from the route table and schemas.
 * `npm run openapi -- --check`: exits 1 when the committed file is stale (the contract tests check the same).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, serializeOpenApiDocument } from './openapi-document.js';

const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
const generated = serializeOpenApiDocument(buildOpenApiDocument());

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error('openapi.json is out of date: run `npm run openapi` and commit the result.');
    process.exit(1);
  }
  console.log('openapi.json is up to date.');
} else {
  await writeFile(target, generated);
  console.log(`Wrote ${target}`);
}
