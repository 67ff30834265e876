import { configDefaults, defineConfig } from 'vitest/config';
import { crashReportArgv } from './test/crash-reports.js';

// Test processes run sink tasks in-process; size libuv's pool as the CLI does (app/cli/main.cts).
process.env['UV_THREADPOOL_SIZE'] ??= '64';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault-injection suites run on their own: npm run test:faults (vitest.faults.config.ts), npm run test:nemesis.
    exclude: [...configDefaults.exclude, 'test/faults/**', 'test/nemesis/**'],
    globalSetup: ['test/global-setup.ts'],
    // The Kafka client is a native addon: forks isolate it better than threads.
    pool: 'forks',
    // A fork that dies of a fatal error leaves a Node report in .crash-reports/ (test/crash-reports.ts).
    execArgv: crashReportArgv,
    maxWorkers: 2,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
