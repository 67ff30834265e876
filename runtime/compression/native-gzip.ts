import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip as zlibGunzip, gzip as zlibGzip } from 'node:zlib';
import type { TaskLogger } from '../api/task-logger.js';
import { pino } from 'pino';
import { createLogger } from '../telemetry/logger.js';

/** Which library compresses at a level: ISA-L's igzip (1-3), libdeflate (4-9), or node:zlib without the addon. */
export type CompressorName = 'isa-l' | 'libdeflate' | 'zlib';

/** Set to `off` to use node:zlib even when the addon is built (docs/operations.md). */
export const NATIVE_GZIP_ENV = 'COLDSTORE_NATIVE_GZIP';

/** Where scripts/build-native-gzip.sh leaves the addon, relative to the repository (or /app in the image). */
export const NATIVE_GZIP_ADDON = 'native/gzip/build/Release/coldstore_gzip.node';

/** Largest output buffer sized from a hint: a damaged gzip trailer must not make us allocate more. */
export const MAX_GUNZIP_HINT = 128 * 1024 * 1024;

/** Highest level igzip compresses at; above it libdeflate does (igzip 1-3 are faster than zlib 1 at zlib's ratios). */
const LAST_ISAL_LEVEL = 3;

interface NativeGzipAddon {
  gzip(body: Buffer, level: number): Promise<Buffer>;
  gunzip(body: Buffer, sizeHint: number): Promise<Buffer>;
  isalVersion: string;
  libdeflateVersion: string;
}

/** Whole-buffer gzip and gunzip on libuv's threadpool; standard gzip either way. */
export interface GzipCodec {
  compressorName(level: number): CompressorName;
  /** Same input, level and compressor: same bytes. */
  gzip(body: Buffer, level: number, log?: TaskLogger): Promise<Buffer>;
  /** `sizeHint`: the expected output size (e.g. the gzip trailer's ISIZE); a wrong one only costs time. */
  gunzip(body: Buffer, sizeHint: number, log?: TaskLogger): Promise<Buffer>;
}

export interface GzipCodecOptions {
  env?: Record<string, string | undefined>;
  /** Tried in order; the first that exists is loaded. */
  addonPaths?: readonly string[];
  /** Where the one line saying which compressor is used goes when a call brings no logger (else: the fallback's warning to stderr). */
  log?: TaskLogger;
}

/** The addon beside the sources (runtime/compression → ../..) or beside dist (dist/runtime/compression → ../../..). */
export function defaultAddonPaths(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', '..', NATIVE_GZIP_ADDON), join(here, '..', '..', '..', NATIVE_GZIP_ADDON)];
}

const zlibGzipAsync = promisify(zlibGzip);
const zlibGunzipAsync = promisify(zlibGunzip);

/** One output buffer larger than the result makes the whole body one threadpool job, not one per 16 KiB chunk. */
function gzipWithZlib(body: Buffer, level: number): Promise<Buffer> {
  return zlibGzipAsync(body, { level, chunkSize: body.length + (body.length >> 8) + 1024 });
}

function gunzipWithZlib(body: Buffer, sizeHint: number): Promise<Buffer> {
  return zlibGunzipAsync(body, { chunkSize: Math.min(Math.max(sizeHint + 1024, 64 * 1024), MAX_GUNZIP_HINT) });
}

type Loaded = { addon: NativeGzipAddon } | { addon: undefined; reason: string };

function loadAddon(env: Record<string, string | undefined>, paths: readonly string[]): Loaded {
  if (env[NATIVE_GZIP_ENV] === 'off') return { addon: undefined, reason: `${NATIVE_GZIP_ENV}=off` };
  const path = paths.find((p) => existsSync(p));
  if (!path) return { addon: undefined, reason: `the addon is not built (bash scripts/build-native-gzip.sh; looked for ${paths.join(', ')})` };
  try {
    return { addon: createRequire(import.meta.url)(path) as NativeGzipAddon };
  } catch (err) {
    return { addon: undefined, reason: `${path} does not load: ${(err as Error).message}` };
  }
}

/** A codec on the native addon when it loads (and is not turned off), else on node:zlib. */
export function loadGzipCodec(options: GzipCodecOptions = {}): GzipCodec {
  let loaded: Loaded | undefined;
  let announced = false;
  // Said once: the native libraries where a logger is at hand (a backup task's first
  // bundle), the fallback at once, on stderr when no logger came (stdout may be a CLI's --json).
  const announce = (found: Loaded, log: TaskLogger | undefined): void => {
    const to = log ?? options.log;
    if (announced || (found.addon && !to)) return;
    announced = true;
    if (found.addon) {
      const { isalVersion, libdeflateVersion } = found.addon;
      to!.info(
        { compressor: 'native', isal: isalVersion, libdeflate: libdeflateVersion },
        `gzip: ISA-L ${isalVersion} for levels 1-3, libdeflate ${libdeflateVersion} for 4-9 and gunzip`,
      );
    } else {
      const warnTo = to ?? createLogger('warn', { component: 'gzip' }, pino.destination({ fd: 2, sync: true }));
      warnTo.warn({ compressor: 'zlib', reason: found.reason }, `gzip: native compressor unavailable (${found.reason}); using node:zlib, which is slower`);
    }
  };
  const load = (log: TaskLogger | undefined): Loaded => {
    loaded ??= loadAddon(options.env ?? process.env, options.addonPaths ?? defaultAddonPaths());
    announce(loaded, log);
    return loaded;
  };
  return {
    compressorName(level) {
      if (!load(undefined).addon) return 'zlib';
      return level <= LAST_ISAL_LEVEL ? 'isa-l' : 'libdeflate';
    },
    async gzip(body, level, log) {
      const { addon } = load(log);
      if (!addon) return gzipWithZlib(body, level);
      return addon.gzip(body, level);
    },
    async gunzip(body, sizeHint, log) {
      const { addon } = load(log);
      const hint = Math.min(Math.max(sizeHint, 0), MAX_GUNZIP_HINT);
      if (!addon) return gunzipWithZlib(body, hint);
      // Anything libdeflate refuses (trailing bytes after the last member, a damaged
      // body) gets node:zlib's verdict, so what is accepted and each error's wording
      // stay as they were without the addon.
      return addon.gunzip(body, hint).catch(() => gunzipWithZlib(body, hint));
    },
  };
}

let shared: GzipCodec | undefined;

/** The process's codec, loaded at first use. */
export function gzipCodec(): GzipCodec {
  shared ??= loadGzipCodec();
  return shared;
}

/** gzip with the process's codec. */
export function gzip(body: Buffer, level: number, log?: TaskLogger): Promise<Buffer> {
  return gzipCodec().gzip(body, level, log);
}

/** gunzip with the process's codec. */
export function gunzip(body: Buffer, sizeHint: number, log?: TaskLogger): Promise<Buffer> {
  return gzipCodec().gunzip(body, sizeHint, log);
}

/** The library the process's codec compresses with at `level`. */
export function compressorName(level: number): CompressorName {
  return gzipCodec().compressorName(level);
}
