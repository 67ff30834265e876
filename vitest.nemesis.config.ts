import { defineConfig } from 'vitest/config';
import { crashReportArgv } from './test/crash-reports.js';

process.env['UV_THREADPOOL_SIZE'] ??= '64';

/**
 * The nemesis (`npm run test:nemesis`, docs/reliability.md): overlapping random faults
 * against a cluster with servers of its own. Alone on the machine: it kills and pauses
 * its own Kafka and S3 servers, and its timings assume both cores.
 */
export default defineConfig({
  test: {
    include: ['test/nemesis/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    execArgv: crashReportArgv,
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
