import { configDefaults, defineConfig } from 'vitest/config';

// Test processes run sink tasks in-process; size libuv's pool as the CLI does (app/cli/main.cts).
process.env['UV_THREADPOOL_SIZE'] ??= '64';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault-injection suite runs on its own: npm run test:faults (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['test/global-setup.ts'],
    // The Kafka client is a native addon: forks isolate it better than threads.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
