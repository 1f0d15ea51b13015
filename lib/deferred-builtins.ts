import type { Plugin } from 'esbuild';

/**
 * Node built-ins that @middy/core imports for streamed responses only (`streamifyResponse`, which
 * no route of ours uses): `node:stream/web` and `node:stream/promises` load nine of Node's
 * internal modules (web streams, worker message ports, promise timers) at every cold start
 * (`process.moduleLoadList` after importing a bundle lists them; docs/benchmarks.md). In a handler bundle, middy gets these stand-ins, which behave the
 * same and load the built-in only when a streamed response uses it.
 *
 * `instanceof ReadableStream` is answered by the global `ReadableStream` (the same class as
 * `node:stream/web`'s, and Node creates it on first access); `pipeline` imports
 * `node:stream/promises` on its first call.
 */
export const DEFERRED_MIDDY_BUILTINS: Readonly<Record<string, string>> = {
  'node:stream/web': 'export const ReadableStream = { [Symbol.hasInstance]: (value) => value instanceof globalThis.ReadableStream };\n',
  'node:stream/promises': "export const pipeline = async (...streams) => (await import('node:stream/promises')).pipeline(...streams);\n",
};

const NAMESPACE = 'deferred-middy-builtin';

/** Gives @middy/core's imports of DEFERRED_MIDDY_BUILTINS their stand-ins; every other import is left alone. */
export const deferredMiddyBuiltinsPlugin: Plugin = {
  name: 'deferred-middy-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:stream\/(web|promises)$/ }, (args) =>
      /[\\/]node_modules[\\/]@middy[\\/]core[\\/]/.test(args.importer) ? { path: args.path, namespace: NAMESPACE } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ contents: DEFERRED_MIDDY_BUILTINS[args.path]!, loader: 'js' }));
  },
};
