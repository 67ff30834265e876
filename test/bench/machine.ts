/** The machine and software a bench run measured on, for the JSON report and the docs. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { resolve } from 'node:path';
import KafkaLib from '@confluentinc/kafka-javascript';

const REPO = resolve(import.meta.dirname, '../..');

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  memoryBytes: number;
  os: string;
  node: string;
  librdkafka: string;
  kafka: string;
  s3proxy: string;
  gitCommit: string;
  gitDirty: boolean;
  /** 1, 5 and 15 minute load averages when the run started: high values mean a busy machine. */
  loadAverageAtStart: number[];
}

function jarVersion(dir: string, pattern: RegExp): string {
  try {
    for (const file of readdirSync(resolve(REPO, '.stack/lib', dir))) {
      const m = pattern.exec(file);
      if (m) return m[1]!;
    }
  } catch {
    // No jars: the stack is external.
  }
  return 'unknown';
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return `${m[1]} (${osType()} ${release()})`;
  } catch {
    // Not Linux, or no os-release.
  }
  return `${osType()} ${release()}`;
}

export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpuCount: cpus().length,
    memoryBytes: totalmem(),
    os: osName(),
    node: process.version,
    librdkafka: KafkaLib.librdkafkaVersion,
    kafka: jarVersion('kafka', /^kafka-server-(\d[\w.-]*)\.jar$/),
    s3proxy: jarVersion('s3proxy', /^s3proxy-(\d[\w.-]*?)-jar-with-dependencies\.jar$/),
    gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
    gitDirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
