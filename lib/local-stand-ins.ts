import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { build as esbuild, type Plugin } from 'esbuild';

/*
 * The local stand-ins for AWS (functions/adapters/local/: AES-GCM and a P-256 key in key files
 * for KMS, SMTP through nodemailer for SES) are what `npm start`, the tests and the benchmarks
 * run; a function in Lambda never does: its configuration refuses MFA_ADAPTERS=local there
 * (functions/config.ts, functions/public-config.ts). The port factories import both kinds of
 * adapter and pick one by that setting, so without this plugin every bundle with KMS access
 * carried the key-file code, and every function that sends mail a nodemailer chunk (243 KB and
 * its source map) that Lambda never loads.
 *
 * In a handler bundle, an import of a module of that folder from outside it gets, in its place,
 * a module with the same export names (as esbuild reads them from the module), each of which
 * refuses loudly to be used: called, constructed, asked for a static method or tested with
 * `instanceof`. A module that re-exports another (`export *`) fails the build: its names cannot
 * be read without following it.
 */

/** The folder of the local adapters, wherever the tree being bundled is (the bench bundles older trees too). */
const LOCAL_ADAPTERS_DIR = sep + join('functions', 'adapters', 'local');
const NAMESPACE = 'local-stand-in';

/** The names a module exports, as esbuild reads them from its source (every declaration form, `export { ... }` and `default`). */
export async function exportedNames(path: string): Promise<string[]> {
  if (/^\s*export\s*\*/m.test(readFileSync(path, 'utf8'))) throw new Error(`${path}: a local adapter re-exports another module; lib/local-stand-ins.ts can only stand in for the names a module declares.`);
  const { metafile } = await esbuild({ entryPoints: [path], bundle: false, write: false, metafile: true, format: 'esm', platform: 'node', outdir: 'unused', logLevel: 'silent' });
  const [output] = Object.values(metafile.outputs).filter((candidate) => candidate.entryPoint !== undefined);
  if (!output) throw new Error(`${path}: esbuild named no exports.`);
  return output.exports;
}

/** The module a bundle gets in place of a local adapter module: each export refuses to be used. */
export function refusingModule(file: string, names: readonly string[]): string {
  const lines = [
    'function refused(name) {',
    // A function expression, not an arrow: only a constructor can be the target of a construct trap.
    `  const refuse = function () { throw new Error(name + ${JSON.stringify(` is a local stand-in for AWS (${file}): the Lambda bundles do not carry it, and MFA_ADAPTERS=local is refused in Lambda.`)}); };`,
    // Not thenable (awaiting it gives it back), no answer to other symbols; `instanceof` and every other property refuse.
    '  const get = (target, key) => (key === Symbol.hasInstance ? refuse : typeof key === "symbol" || key === "then" ? undefined : key in Function.prototype ? Reflect.get(target, key) : refuse);',
    '  return new Proxy(refuse, { construct: refuse, get });',
    '}',
    ...names.map((name) => (name === 'default' ? 'export default refused("default");' : `export const ${name} = refused(${JSON.stringify(name)});`)),
  ];
  return `${lines.join('\n')}\n`;
}

/** Gives imports of functions/adapters/local/ from outside that folder a refusing stand-in; every other import is left alone. */
export const localStandInsPlugin: Plugin = {
  name: 'local-stand-ins',
  setup(build) {
    build.onResolve({ filter: /[\\/]local[\\/][^\\/]+\.js$/ }, (args) => {
      if (!args.importer || args.importer.includes(`${sep}node_modules${sep}`) || dirname(args.importer).endsWith(LOCAL_ADAPTERS_DIR)) return undefined;
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      if (!dirname(target).endsWith(LOCAL_ADAPTERS_DIR)) return undefined;
      return { path: target, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, async (args) => {
      const file = args.path.slice(args.path.lastIndexOf(LOCAL_ADAPTERS_DIR) + 1);
      return { contents: refusingModule(file, await exportedNames(args.path)), loader: 'js' };
    });
  },
};
