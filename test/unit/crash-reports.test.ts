// Issue 17: a vitest fork that dies of a native fatal error leaves a Node report behind.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRASH_DIR, crashReportArgv } from '../crash-reports.js';
import { tmpDir } from '../helpers/tmp.js';

describe('crash reports of test processes', () => {
  it('this fork runs with the report flags, writing into the crash directory, which exists', () => {
    expect(process.execArgv).toEqual(expect.arrayContaining(crashReportArgv));
    expect(process.report.reportOnFatalError).toBe(true);
    expect(process.report.directory).toBe(CRASH_DIR);
    expect(statSync(CRASH_DIR).isDirectory()).toBe(true);
  });

  it('a process started with them that dies of a fatal error (out of memory) writes a report naming the error', () => {
    const dir = tmpDir('crash-report');
    const argv = crashReportArgv.map((a) => (a.startsWith('--report-directory=') ? `--report-directory=${dir}` : a));
    // Without a core file: CI runs with core dumps on (scripts/ci-crash-report.sh), and this crash is on purpose.
    const script = 'const a = []; for (;;) a.push(new Array(1e5).fill(1));';
    const child = spawnSync('bash', ['-c', 'ulimit -c 0 && exec "$@"', 'oom', process.execPath, ...argv, '--max-old-space-size=16', '-e', script], {
      encoding: 'utf8',
    });
    expect(child.status === 0).toBe(false);
    const reports = readdirSync(dir).filter((n) => /^report\..*\.json$/.test(n));
    expect(reports).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(dir, reports[0]!), 'utf8')) as { header: { event: string; trigger: string } };
    expect(report.header.trigger).toBe('OOMError');
    expect(report.header.event).toContain('heap out of memory');
  });
});
