import { defineConfig } from 'vitest/config';

export default defineConfig({
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
