import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';

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
 * a module with the same export names, each of which refuses loudly to be used (called,
 * constructed or asked for a static method). A new export form the plugin cannot name fails the
 * build rather than slipping through.
 */

const LOCAL_ADAPTERS_DIR = join('functions', 'adapters', 'local') + sep;
const NAMESPACE = 'local-stand-in';

/** The names a local adapter module exports, read from its source: `export class|function|const|let|interface|type <name>`. */
export function exportedNames(source: string, file: string): string[] {
  if (/^export\s+(\{|\*|default\b)/m.test(source)) throw new Error(`${file}: only named declarations can be exported by a local adapter (lib/local-stand-ins.ts names them).`);
  const names: string[] = [];
  for (const found of source.matchAll(/^export\s+(?:abstract\s+)?(?:async\s+)?(class|function|const|let|interface|type)\s+([A-Za-z_$][\w$]*)/gm)) {
    // Types leave no trace in JavaScript: an import of one is erased before bundling.
    if (found[1] !== 'interface' && found[1] !== 'type') names.push(found[2]!);
  }
  return names;
}

/** The module a bundle gets in place of a local adapter module: each export refuses to be used. */
export function refusingModule(file: string, names: readonly string[]): string {
  const lines = [
    'function refused(name) {',
    // A function expression, not an arrow: only a constructor can be the target of a construct trap.
    `  const refuse = function () { throw new Error(name + ${JSON.stringify(` is a local stand-in for AWS (${file}): the Lambda bundles do not carry it, and MFA_ADAPTERS=local is refused in Lambda.`)}); };`,
    '  return new Proxy(refuse, { construct: refuse, get: (target, key) => (key in Function.prototype ? Reflect.get(target, key) : refuse) });',
    '}',
    ...names.map((name) => `export const ${name} = refused(${JSON.stringify(name)});`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Gives imports of functions/adapters/local/ from outside that folder a refusing stand-in; every other import is left alone. */
export const localStandInsPlugin: Plugin = {
  name: 'local-stand-ins',
  setup(build) {
    build.onResolve({ filter: /[\\/]local[\\/][^\\/]+\.js$/ }, (args) => {
      if (!args.importer || args.importer.includes(LOCAL_ADAPTERS_DIR)) return undefined;
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      const root = build.initialOptions.absWorkingDir ?? process.cwd();
      if (dirname(target) + sep !== join(root, LOCAL_ADAPTERS_DIR)) return undefined;
      return { path: target, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const file = args.path.slice(args.path.indexOf(LOCAL_ADAPTERS_DIR));
      return { contents: refusingModule(file, exportedNames(readFileSync(args.path, 'utf8'), file)), loader: 'js' };
    });
  },
};
