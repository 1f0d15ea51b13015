/**
 * `npm pack`'s `prepack`: builds everything the package ships (package.json `files`):
 * - assets/: the Lambda functions and the web client, pre-built (scripts/package/assets.ts);
 * - dist/verifier and dist/client: ES modules compiled by tsc, with declarations and source maps;
 * - dist/index.js: the construct (lib/index.ts) as one ES module, bundled by esbuild with what it
 *   uses of functions/ and web/ (the route table, the settings schema and zod), so that a CDK
 *   app needs only aws-cdk-lib and constructs; its declarations are dist/lib/.
 * Declarations are made stand-alone by scripts/package/declarations.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { buildAssets } from './assets.js';
import { makeDeclarationsStandAlone } from './declarations.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
/** What a consumer installs with the package: imported, never bundled. */
const CONSUMER_PACKAGES = [...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.peerDependencies)];

async function main(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  const { functions } = await buildAssets();
  // Progress goes to stderr: `npm pack --json` prints the result on stdout.
  console.error(`assets: ${functions.length} functions and the web client`);

  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: ['ignore', 2, 2] });
  // tsc also compiled what the entry points import from functions/, web/ and lib/: only the
  // verifier's and the client's JavaScript ship as compiled; the construct ships bundled.
  for (const folder of ['functions', 'web']) rmSync(join(DIST, folder), { recursive: true, force: true });
  for (const file of ts.sys.readDirectory(join(DIST, 'lib'), ['.js', '.map'])) rmSync(file);

  await build({
    entryPoints: { index: join(ROOT, 'lib', 'index.ts') },
    outdir: DIST,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    sourcesContent: true,
    external: [...CONSUMER_PACKAGES.flatMap((name) => [name, `${name}/*`]), ...builtinModules, 'node:*'],
    logLevel: 'warning',
  });

  const { files } = standAloneDeclarations();
  console.error(`dist: the construct, the verifier and the client; ${files.length} declaration files`);
}

export function standAloneDeclarations(): { files: string[] } {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  })!;
  return makeDeclarationsStandAlone({
    root: ROOT,
    outDir: DIST,
    entries: ['lib/index.d.ts', 'verifier/index.d.ts', 'verifier/dynamodb-replay-cache.d.ts', 'client/index.d.ts'].map((entry) => join(DIST, entry)),
    shipped: ['lib', 'verifier', 'client'],
    packages: CONSUMER_PACKAGES,
    compilerOptions: config.options,
  });
}

if (process.argv[2] === '--declarations-only') standAloneDeclarations();
else await main();
