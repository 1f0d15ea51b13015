import { fileURLToPath } from 'node:url';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import type { RouteDefinition } from '../functions/http/routes.js';

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
 * How every handler is bundled, as plain esbuild options: the stack derives its NodejsFunction
 * bundling from these, and anything else that must bundle a handler exactly as deployed
 * (benchmarks, size checks) passes them to esbuild with `entryPoints: [handlerEntry(route)]`.
 *
 * The AWS SDK v3 is bundled, not taken from the runtime: the deployed code runs the SDK version
 * the tests ran (package-lock.json), not whatever the Lambda runtime ships that month, and
 * tree-shaking plus minification load less code at cold start than the runtime's full clients.
 * The cost is a larger zip (about a few hundred KB per function), which Lambda reads once.
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
  banner: { js: ESM_REQUIRE_BANNER },
  external: [] as string[],
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** HANDLER_ESBUILD_OPTIONS in the shape NodejsFunction takes. Local esbuild only: no Docker. */
export const NODEJS_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: HANDLER_ESBUILD_OPTIONS.target,
  mainFields: [...HANDLER_ESBUILD_OPTIONS.mainFields],
  minify: HANDLER_ESBUILD_OPTIONS.minify,
  sourceMap: HANDLER_ESBUILD_OPTIONS.sourcemap,
  sourcesContent: HANDLER_ESBUILD_OPTIONS.sourcesContent,
  banner: HANDLER_ESBUILD_OPTIONS.banner.js,
  bundleAwsSDK: true,
  externalModules: [...HANDLER_ESBUILD_OPTIONS.external],
  logLevel: LogLevel.WARNING,
  forceDockerBundling: false,
};
