import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { buildAssets } from '../../scripts/package/assets.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

/**
 * One real DynamoDB Local (in memory) for the whole run; every test file makes its own tables.
 * Every temporary folder of the run (the tests' data dirs, CDK's `cdk.out*` for each `App`
 * without an outdir, esbuild output) is made under one folder that is removed at the end: the
 * workers start after this and inherit TMPDIR, which `os.tmpdir()` reads on every call.
 * The construct deploys pre-built code (lib/assets.ts): it is built afresh from the current
 * sources before any test synthesizes a stack.
 */
export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const runTmp = mkdtempSync(join(tmpdir(), 'serverless-mfa-test-'));
  process.env.TMPDIR = runTmp;
  const [dynamo] = await Promise.all([startDynamoDbLocal(), buildAssets()]);
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
    await rm(runTmp, { recursive: true, force: true });
  };
}
