import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions } from 'esbuild';
import type { RouteDefinition } from '../functions/http/routes.js';
import { precompiledSchemasPlugin } from './precompiled-schemas.js';

/** The newest Node.js runtime this CDK version offers; test/infra checks it stays the newest. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

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
 * How every handler is bundled, as plain esbuild options: the stack's functions are built with
 * these (lib/constructs/mfa-function.ts), and anything else that must bundle a handler exactly
 * as deployed (benchmarks, size checks) passes them to esbuild with an `outdir` and
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
 * async `build`; callers that must block use `buildHandlerSync`.
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
  plugins: [precompiledSchemasPlugin],
} as const satisfies BuildOptions;

let bundleWorker: Worker | undefined;

/**
 * Bundles one handler with HANDLER_ESBUILD_OPTIONS into `outdir/index.mjs` (and its chunks),
 * blocking until done: CDK's local bundling is synchronous and esbuild's `buildSync` runs no
 * plugins, so the build runs in a worker thread (one per process, reused) while this thread waits.
 */
export function buildHandlerSync(entry: string, outdir: string): void {
  bundleWorker ??= new Worker(new URL('./bundle-worker.mjs', import.meta.url));
  bundleWorker.unref();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  bundleWorker.postMessage({ signal, port: port2, entry, outdir }, [port2]);
  Atomics.wait(signal, 0, 0);
  const reply = receiveMessageOnPort(port1)?.message as { ok: boolean; error?: string } | undefined;
  port1.close();
  if (!reply?.ok) throw new Error(`Bundling ${entry} failed: ${reply?.error ?? 'no answer from the bundling worker'}`);
}
