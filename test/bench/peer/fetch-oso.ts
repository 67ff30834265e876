/**
 * The OSO kafka-backup peer's binary: test/bench/peer/oso/ built with cargo from crates.io
 * (kafka-backup-core pinned in Cargo.toml and Cargo.lock) into a target directory shared
 * by every checkout on the machine ($COLDSTORE_OSO_TARGET, default
 * ~/.cache/coldstore/oso-peer-target), so its dependencies (minutes of C and Rust) are
 * built once per machine, not once per clone. cargo itself skips an up-to-date build, so
 * every bench run calls it.
 * Prebuilt kafka-backup binaries are only on GitHub releases, which this project cannot reach.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CRATE = resolve(dirname(fileURLToPath(import.meta.url)), 'oso');
const TARGET = process.env.COLDSTORE_OSO_TARGET || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'coldstore', 'oso-peer-target');
const BUILD_LOG = join(TARGET, 'build.log');
export const OSO_PEER_BINARY = join(TARGET, 'release', 'oso-peer');

/**
 * What the build needs from the system besides cargo: a C compiler for the C parts of
 * aws-lc-sys (built with `cc`, no cmake), ring, zstd-sys and the bundled SQLite. Debian/Ubuntu names.
 */
const SYSTEM_TOOLS: { command: string; aptPackage: string }[] = [{ command: 'cc', aptPackage: 'build-essential' }];

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs missing build tools with apt-get when it can (root, apt-get present); otherwise says what to install. */
function ensureSystemTools(log: (line: string) => void): void {
  const missing = [...new Set(SYSTEM_TOOLS.filter((t) => !has(t.command)).map((t) => t.aptPackage))];
  if (missing.length === 0) return;
  const install = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    throw new Error(`peer/oso: building kafka-backup-core needs ${missing.join(', ')}; install them (${install})`);
  }
  log(`peer/oso: installing ${missing.join(', ')} for the build (${install})…`);
  const result = spawnSync('sh', ['-c', install], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`peer/oso: ${install} failed (${result.status}):\n${result.stderr.slice(-2000)}`);
}

/** Builds the peer binary (a no-op when it is up to date) and returns its path. */
export async function ensureOsoPeerBinary(log: (line: string) => void): Promise<string> {
  if (!has('cargo')) {
    throw new Error('peer/oso: cargo is not installed; install Rust (https://rustup.rs, or apt-get install -y cargo) to build the OSO peer');
  }
  ensureSystemTools(log);
  mkdirSync(TARGET, { recursive: true });
  writeFileSync(BUILD_LOG, '');
  log(`peer/oso: cargo build --release --locked in ${CRATE} into ${TARGET} (the first build on a machine takes minutes; log ${BUILD_LOG})`);
  const started = performance.now();
  const fd = openSync(BUILD_LOG, 'a');
  try {
    const code = await new Promise<number>((resolveCode, reject) => {
      const child = spawn('cargo', ['build', '--release', '--locked'], {
        cwd: CRATE,
        env: { ...process.env, CARGO_TARGET_DIR: TARGET },
        stdio: ['ignore', fd, fd],
      });
      child.once('error', reject);
      child.once('exit', (c) => resolveCode(c ?? 1));
    });
    if (code !== 0) {
      const tail = readFileSync(BUILD_LOG, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      throw new Error(`peer/oso: cargo build exited ${code}\n--- tail of ${BUILD_LOG} ---\n${tail}`);
    }
  } finally {
    closeSync(fd);
  }
  log(`peer/oso: build took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return OSO_PEER_BINARY;
}
