import { defineConfig } from 'vitest/config';
import { crashReportArgv } from './test/crash-reports.js';

// Test processes run tasks in-process for fixtures; size libuv's pool as the CLI does (app/cli/main.cts).
process.env['UV_THREADPOOL_SIZE'] ??= '64';

/**
 * The fault-injection suite (`npm run test:faults`, docs/reliability.md): workers killed
 * with SIGKILL, private S3 and Kafka servers stopped for a minute, bad input of every
 * kind. One file at a time, so faults never overlap and each has both cores.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The Kafka client is a native addon: forks isolate it better than threads.
    pool: 'forks',
    // A fork that dies of a fatal error leaves a Node report in .crash-reports/ (test/crash-reports.ts).
    execArgv: crashReportArgv,
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
