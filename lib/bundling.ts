import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import type { RouteDefinition } from '../functions/http/routes.js';
import { deferredMiddyBuiltinsPlugin } from './deferred-builtins.js';
import { localStandInsPlugin } from './local-stand-ins.js';
import { precompiledSchemasPlugin } from './precompiled-schemas.js';
import { LAMBDA_RUNTIME } from './runtime.js';

/** The repository root: the bundler's project root and where `functions/` lives. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The handler file a route's function is bundled from. */
export function handlerEntry(route: Pick<RouteDefinition, 'handler'>): string {
  return fileURLToPath(new URL(`../functions/handlers/${route.handler}.ts`, import.meta.url));
}

/**
 * Handlers are ESM, but some dependencies are CommonJS and call `require`: ESM output has no
 * `require`, so the bundle defines one. `__filename`/`__dirname` are not defined on purpose:
 * nothing we bundle needs them.
 */
const ESM_REQUIRE_BANNER = "import { createRequire as __mfaCreateRequire } from 'node:module'; const require = __mfaCreateRequire(import.meta.url);";

/**
 * How every handler is bundled, as plain esbuild options: the functions the construct deploys
 * are built with these (scripts/package/assets.ts), and anything else that must bundle a handler
 * exactly as deployed (benchmarks, size checks) passes them to esbuild with an `outdir` and
 * `entryPoints: {index: handlerEntry(route)}`.
 *
 * The AWS SDK v3 is bundled, not taken from the runtime: the deployed code runs the SDK version
 * the tests ran (package-lock.json), not whatever the Lambda runtime ships that month, and
 * tree-shaking plus minification load less code at cold start than the runtime's full clients.
 *
 * Code splitting: what a handler only `import()`s (the WebAuthn library, the SDK's rarely used
 * credential providers) goes into chunks of its own, which Node reads only when the import runs.
 * A TOTP verification therefore never parses the 320 KB of the WebAuthn ceremonies.
 *
 * Request schemas are compiled ahead of time (lib/precompiled-schemas.ts): a handler loads no
 * validator library at init, and zod only to word a refused body. The plugin needs esbuild's
 * async `build` (the package's assets are built ahead of time, so nothing builds at synth).
 * middy's imports of the Node built-ins it needs for streamed responses only are deferred to
 * their first use (lib/deferred-builtins.ts). The local stand-ins for KMS and SES (key files,
 * nodemailer), which Lambda never runs, are left out: an import of one gets a module that refuses
 * to be used (lib/local-stand-ins.ts).
 */
export const HANDLER_ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: `node${LAMBDA_RUNTIME.name.replace(/^nodejs|\.x$/g, '')}`,
  // Prefer packages' ESM builds: they tree-shake; fall back to CommonJS.
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  splitting: true,
  // Chunk names hash their paths: relative to the repository root, so every build names them alike.
  absWorkingDir: PROJECT_ROOT,
  banner: { js: ESM_REQUIRE_BANNER },
  external: [] as string[],
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
  plugins: [precompiledSchemasPlugin, deferredMiddyBuiltinsPlugin, localStandInsPlugin],
} as const satisfies BuildOptions;
