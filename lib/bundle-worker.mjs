// The worker behind buildHandlerSync (lib/bundling.ts): esbuild's async build, which runs plugins, for callers that must block (CDK's local bundling).
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { build } = await import('esbuild');
const { HANDLER_ESBUILD_OPTIONS, PROJECT_ROOT } = await import('./bundling.ts');

parentPort.on('message', async ({ signal, port, entry, outdir }) => {
  try {
    await build({ ...HANDLER_ESBUILD_OPTIONS, entryPoints: { index: entry }, outdir, absWorkingDir: PROJECT_ROOT });
    port.postMessage({ ok: true });
  } catch (error) {
    port.postMessage({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
