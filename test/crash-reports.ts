import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where test processes leave a diagnostic report when Node dies of a fatal error (a V8
 * abort, an out-of-memory, a native addon calling napi_fatal_error): vitest forks start
 * with these flags, so a fork that "exited unexpectedly" leaves a trace. A plain SIGSEGV
 * writes no report; scripts/ci-crash-report.sh enables core dumps and prints their backtrace.
 */
export const CRASH_DIR = resolve(process.env['COLDSTORE_CRASH_DIR'] ?? '.crash-reports');

// Node writes no report into a directory that does not exist.
mkdirSync(CRASH_DIR, { recursive: true });

export const crashReportArgv = ['--report-on-fatalerror', `--report-directory=${CRASH_DIR}`];
