import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** What a backend in another repository pulls in when it imports `specifier` (bundled as it would bundle it; tsconfig.json `paths` resolve the package's names to its sources). */
async function inputsOf(specifier: string): Promise<{ own: string[]; packages: string[] }> {
  const result = await build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((input) => input !== '<stdin>');
  const packageOf = (input: string) => {
    const [scopeOrName, name] = input.split('node_modules/').at(-1)!.split('/');
    return scopeOrName!.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName!;
  };
  return {
    own: inputs.filter((input) => !input.includes('node_modules/')),
    packages: [...new Set(inputs.filter((input) => input.includes('node_modules/')).map(packageOf))],
  };
}

describe('package exports for app backends', () => {
  it('names the construct, ./verifier, ./verifier/dynamodb-replay-cache and ./client, each as built JavaScript with its declarations', () => {
    // The files are built by `npm pack` (test/package/consumer.test.ts installs and uses them).
    expect(packageJson.exports).toEqual({
      '.': { types: './dist/lib/index.d.ts', default: './dist/index.js' },
      './verifier': { types: './dist/verifier/index.d.ts', default: './dist/verifier/index.js' },
      './verifier/dynamodb-replay-cache': { types: './dist/verifier/dynamodb-replay-cache.d.ts', default: './dist/verifier/dynamodb-replay-cache.js' },
      './client': { types: './dist/client/index.d.ts', default: './dist/client/index.js' },
      './package.json': './package.json',
    });
  });

  it('gives a backend installing it jose and nothing else; the rest are optional peers', () => {
    expect(packageJson.dependencies).toEqual({ jose: expect.any(String) });
    expect(Object.keys(packageJson.peerDependencies).sort()).toEqual(['@aws-sdk/client-dynamodb', 'aws-cdk-lib', 'cdk-nag', 'constructs']);
    expect(Object.values(packageJson.peerDependenciesMeta).every((meta) => meta.optional)).toBe(true);
  });

  it('lets a backend import the verifier by package path with jose and nothing of the service', async () => {
    const { own, packages } = await inputsOf(`${packageJson.name}/verifier`);
    expect(own.every((input) => input.startsWith('verifier/')), own.join(', ')).toBe(true);
    expect(own).not.toContain('verifier/dynamodb-replay-cache.ts');
    expect(packages).toEqual(['jose']);
  });

  it('keeps the AWS SDK in the DynamoDB replay cache entry point only', async () => {
    const { own, packages } = await inputsOf(`${packageJson.name}/verifier/dynamodb-replay-cache`);
    expect(own.every((input) => input.startsWith('verifier/')), own.join(', ')).toBe(true);
    expect(packages).toContain('@aws-sdk/client-dynamodb');
  });

  it('lets a backend import the typed client by package path with no run-time dependency', async () => {
    const { own, packages } = await inputsOf(`${packageJson.name}/client`);
    expect(own).toEqual(['client/index.ts']);
    expect(packages).toEqual([]);
  });
});
