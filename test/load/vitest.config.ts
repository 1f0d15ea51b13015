import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/** `npm run test:load`: the load journeys only, with the suite's environment and DynamoDB Local set-up. */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/load/**/*.load.ts'],
    testTimeout: 300_000,
    maxWorkers: 1,
  },
});
