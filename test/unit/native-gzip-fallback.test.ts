// Without the native addon (COLDSTORE_NATIVE_GZIP=off, not built, or not loadable)
// coldstore compresses with node:zlib and says so in one warning line; the bundles
// counter names the compressor; and a bundle rebuilt after a crash with another
// compressor than the first upload is accepted as the same object.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import { backupMetrics } from '../../connectors/backup-sink/metrics.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { loadGzipCodec, NATIVE_GZIP_ENV, type GzipCodec } from '../../runtime/compression/native-gzip.js';
import { fixtureRecord } from '../helpers/backup-fixture.js';
import { jsonLike, recordingLog } from '../helpers/gzip-samples.js';
import { tmpDir } from '../helpers/tmp.js';
import { sealedKafkaBundle } from '../helpers/sealed-bundle.js';

const sample = jsonLike(200_000);
const ZLIB_OS_UNIX = 0x03;
const NATIVE_OS_UNKNOWN = 0xff;

async function exercise(codec: GzipCodec): Promise<void> {
  for (const level of [1, 6]) {
    const gz = await codec.gzip(sample, level);
    expect((await codec.gunzip(gz, sample.length)).equals(sample)).toBe(true);
  }
}

describe('the node:zlib fallback', () => {
  it(`${NATIVE_GZIP_ENV}=off: zlib's own bytes at every level, and one warning line naming the reason`, async () => {
    const log = recordingLog();
    const codec = loadGzipCodec({ env: { [NATIVE_GZIP_ENV]: 'off' }, log });
    for (let level = 1; level <= 9; level++) {
      expect(codec.compressorName(level)).toBe('zlib');
      expect((await codec.gzip(sample, level)).equals(gzipSync(sample, { level })), `level ${level}`).toBe(true);
    }
    await exercise(codec);
    expect(log.lines).toEqual([
      {
        level: 'warn',
        fields: { compressor: 'zlib', reason: `${NATIVE_GZIP_ENV}=off` },
        msg: `gzip: native compressor unavailable (${NATIVE_GZIP_ENV}=off); using node:zlib, which is slower`,
      },
    ]);
  });

  it('an addon that was never built: zlib, and the warning says how to build it', async () => {
    const log = recordingLog();
    const missing = join(tmpDir('no-addon'), 'coldstore_gzip.node');
    const codec = loadGzipCodec({ env: {}, addonPaths: [missing], log });
    await exercise(codec);
    expect(codec.compressorName(1)).toBe('zlib');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.level).toBe('warn');
    expect(String(log.lines[0]!.fields['reason'])).toContain(`the addon is not built (bash scripts/build-native-gzip.sh; looked for ${missing})`);
  });

  it('an addon that does not load (another platform, a damaged file): zlib, and the loader error in the warning', async () => {
    const log = recordingLog();
    const broken = join(tmpDir('broken-addon'), 'coldstore_gzip.node');
    writeFileSync(broken, 'not a shared object');
    const codec = loadGzipCodec({ env: {}, addonPaths: [broken], log });
    await exercise(codec);
    expect(log.lines).toHaveLength(1);
    expect(String(log.lines[0]!.fields['reason'])).toMatch(new RegExp(`^${broken} does not load: .+`));
  });

  it('with the addon: one info line naming both libraries, no warning; a call with its own logger is told first', async () => {
    const fallbackLog = recordingLog();
    const callLog = recordingLog();
    const codec = loadGzipCodec({ env: {}, log: fallbackLog });
    await codec.gzip(sample, 1, callLog);
    await exercise(codec);
    expect(fallbackLog.lines).toEqual([]);
    expect(callLog.lines).toHaveLength(1);
    expect(callLog.lines[0]).toMatchObject({ level: 'info', fields: { compressor: 'native' } });
    expect(callLog.lines[0]!.msg).toMatch(/^gzip: ISA-L \d+\.\d+\.\d+ for levels 1-3, libdeflate \d+\.\d+ for 4-9 and gunzip$/);
  });
});

describe('BundleUploader and the compressor', () => {
  const TOPIC = 'orders';
  const records = Array.from({ length: 100 }, (_, i) => fixtureRecord(TOPIC, 0, i));
  const bundle = sealedKafkaBundle(records);

  function uploader(store: LocalObjectStore, codec: GzipCodec, gzipLevel: number) {
    const added: { name: string; attributes: Record<string, unknown> }[] = [];
    const instance = new BundleUploader({
      store,
      location: { bucket: 'events', prefix: '' },
      gzipLevel,
      permanentErrorRetries: 0,
      log: recordingLog(),
      metrics: {
        add: (name: string, _v: number, attributes: Record<string, unknown> = {}) => void added.push({ name, attributes }),
        record: () => undefined,
        set: () => undefined,
      },
      stopped: () => false,
      codec,
    });
    return { instance, bundlesCounted: () => added.filter((a) => a.name === backupMetrics.bundles).map((a) => a.attributes) };
  }

  const zlib = loadGzipCodec({ env: { [NATIVE_GZIP_ENV]: 'off' }, log: recordingLog() });
  const native = loadGzipCodec({ env: {}, log: recordingLog() });

  it('labels coldstore_backup_bundles with the compressor of the level: isa-l, libdeflate, or zlib', async () => {
    for (const [codec, level, compressor] of [
      [native, 1, 'isa-l'],
      [native, 6, 'libdeflate'],
      [zlib, 6, 'zlib'],
    ] as const) {
      const { instance, bundlesCounted } = uploader(new LocalObjectStore(tmpDir('gzip-label')), codec, level);
      expect(await instance.upload(bundle)).toBe('created');
      expect(bundlesCounted()).toEqual([{ topic: TOPIC, result: 'created', compressor }]);
    }
  });

  it('a bundle written with zlib, rebuilt after a crash with the native compressor: existing, not a conflict; the object keeps its bytes', async () => {
    const store = new LocalObjectStore(tmpDir('gzip-rebuild'));
    const first = uploader(store, zlib, 6);
    expect(await first.instance.upload(bundle)).toBe('created');
    const key = first.instance.keyOf(bundle);
    const stored = (await store.get('events', key))!.body;
    expect(stored[9]).toBe(ZLIB_OS_UNIX);

    const rebuilt = uploader(store, native, 6);
    expect((await rebuilt.instance.gzip(gunzipSync(stored)))[9]).toBe(NATIVE_OS_UNKNOWN);
    expect(await rebuilt.instance.upload(bundle)).toBe('existing');
    expect(rebuilt.bundlesCounted()).toEqual([{ topic: TOPIC, result: 'existing', compressor: 'libdeflate' }]);
    expect((await store.get('events', key))!.body.equals(stored)).toBe(true);

    // Other records under the same key are still a conflict: the check compares content, not bytes.
    const other = sealedKafkaBundle(records.map((r) => ({ ...r, value: Buffer.from('changed') })));
    await expect(rebuilt.instance.upload(other)).rejects.toThrow(/already exists with different content/);
  });
});
