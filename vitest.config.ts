import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The package's entry points by name (as the examples import them) resolve to their sources, as in tsconfig.json `paths`. */
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^serverless-mfa$/, replacement: source('./lib/index.ts') },
      { find: /^serverless-mfa\/verifier$/, replacement: source('./verifier/index.ts') },
      { find: /^serverless-mfa\/verifier\/dynamodb-replay-cache$/, replacement: source('./verifier/dynamodb-replay-cache.ts') },
      { find: /^serverless-mfa\/client$/, replacement: source('./client/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep DynamoDB Local and the workers from starving each other.
    maxWorkers: 2,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // `npm test` runs on this machine's Node (20); Lambda runs 24 (`npm run test:node24`). The SDK's notice about 20 is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Audit lines are asserted through a capturing logger where a test needs them.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
  },
});
