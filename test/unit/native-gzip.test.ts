// The native gzip addon (native/gzip, built by scripts/build-native-gzip.sh) against
// node:zlib: what either writes the other reads, byte for byte, at every level;
// gunzip handles concatenated members, empty bodies and 40 MB, and defers to zlib's
// verdict on anything libdeflate refuses.
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadGzipCodec } from '../../runtime/compression/native-gzip.js';
import { jsonLike, recordingLog } from '../helpers/gzip-samples.js';

const native = loadGzipCodec({ log: recordingLog() });
const LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const sample = jsonLike(600_000);
const trailerSize = (gz: Buffer) => gz.readUInt32LE(gz.length - 4);

describe('native gzip (ISA-L, libdeflate) and node:zlib', () => {
  it('is built and loaded: ISA-L for levels 1-3, libdeflate for 4-9', () => {
    expect(LEVELS.map((l) => native.compressorName(l))).toEqual(['isa-l', 'isa-l', 'isa-l', ...Array(6).fill('libdeflate')]);
  });

  it('writes standard gzip at every level that node:zlib reads back exactly', async () => {
    for (const level of LEVELS) {
      const gz = await native.gzip(sample, level);
      expect(gz.subarray(0, 3).toString('hex'), `level ${level}`).toBe('1f8b08');
      expect(gunzipSync(gz).equals(sample), `level ${level}`).toBe(true);
      expect(gz.length, `level ${level} compresses`).toBeLessThan(sample.length / 2);
    }
  });

  it('reads what node:zlib writes, whatever the size hint (exact, none, too small, too large)', async () => {
    for (const level of [1, 6, 9]) {
      const gz = gzipSync(sample, { level });
      for (const hint of [trailerSize(gz), 0, 100, sample.length * 3]) {
        expect((await native.gunzip(gz, hint)).equals(sample), `level ${level}, hint ${hint}`).toBe(true);
      }
    }
  });

  it('is deterministic: the same input and level give the same bytes, call after call', async () => {
    for (const level of LEVELS) {
      const first = await native.gzip(sample, level);
      const again = await native.gzip(Buffer.from(sample), level);
      expect(again.equals(first), `level ${level}`).toBe(true);
    }
  });

  it('gunzips concatenated members, of both writers, in order', async () => {
    const parts = [jsonLike(70_000), Buffer.from('second'), Buffer.alloc(0), randomBytes(200_000), jsonLike(1000)];
    const body = Buffer.concat([
      gzipSync(parts[0]!),
      await native.gzip(parts[1]!, 1),
      await native.gzip(parts[2]!, 6),
      gzipSync(parts[3]!, { level: 9 }),
      await native.gzip(parts[4]!, 4),
    ]);
    // The hint a caller has is the last member's size: far too small for the whole.
    const plain = await native.gunzip(body, trailerSize(body));
    expect(plain.equals(Buffer.concat(parts))).toBe(true);
    expect(gunzipSync(body).equals(plain)).toBe(true);
  });

  it('an empty input: a valid gzip both read as empty; an empty body fails as node:zlib fails it', async () => {
    for (const level of [1, 6]) {
      const gz = await native.gzip(Buffer.alloc(0), level);
      expect(gz.length).toBeGreaterThanOrEqual(18);
      expect(gunzipSync(gz).length).toBe(0);
      expect((await native.gunzip(gz, 0)).length).toBe(0);
    }
    expect((await native.gunzip(gzipSync(Buffer.alloc(0)), 0)).length).toBe(0);
    await expect(native.gunzip(Buffer.alloc(0), 0)).rejects.toThrow('unexpected end of file');
  });

  it('40 MB of random bytes: native gzip read by zlib, zlib gzip read by native, both ways at levels 1 and 6', async () => {
    const big = randomBytes(40 * 1024 * 1024);
    for (const level of [1, 6]) {
      const gz = await native.gzip(big, level);
      // Incompressible: stored blocks, barely larger than the input.
      expect(gz.length).toBeLessThan(big.length * 1.01);
      expect(gunzipSync(gz, { chunkSize: big.length + 1024 }).equals(big), `native ${level} → zlib`).toBe(true);
      expect((await native.gunzip(gz, trailerSize(gz))).equals(big), `native ${level} → native`).toBe(true);
    }
    const zlibBody = gzipSync(big, { level: 1 });
    expect((await native.gunzip(zlibBody, trailerSize(zlibBody))).equals(big)).toBe(true);
    expect((await native.gunzip(zlibBody, 0)).equals(big), 'no hint: the buffer grows').toBe(true);
  }, 120_000);

  it('bytes after the last member and damaged bodies get node:zlib verdict (result or error)', async () => {
    const gz = await native.gzip(sample, 6);
    // zlib ignores trailing bytes that do not start a member; libdeflate refuses them.
    const trailing = Buffer.concat([gz, Buffer.alloc(7)]);
    expect((await native.gunzip(trailing, 0)).equals(gunzipSync(trailing))).toBe(true);
    const cut = gz.subarray(0, gz.length - 100);
    await expect(native.gunzip(cut, 0)).rejects.toThrow(verdict(cut));
    const flipped = Buffer.from(gz);
    flipped[flipped.length - 6]! ^= 0xff; // the CRC32 of the trailer
    await expect(native.gunzip(flipped, 0)).rejects.toThrow(verdict(flipped));
  });

  it('runs on the threadpool: the event loop turns while a 16 MB body compresses', async () => {
    const body = randomBytes(16 * 1024 * 1024);
    let turned = false;
    setImmediate(() => (turned = true));
    const gz = native.gzip(body, 6);
    expect(turned).toBe(false);
    await gz;
    expect(turned).toBe(true);
  });

  it('refuses levels outside 1-9 and non-Buffers', async () => {
    await expect(native.gzip(sample, 0)).rejects.toThrow(/level must be 1..9/);
    await expect(native.gzip(sample, 10)).rejects.toThrow(/level must be 1..9/);
    await expect(native.gzip('text' as unknown as Buffer, 1)).rejects.toThrow(/expected \(Buffer, number\)/);
  });
});

function verdict(body: Buffer): string {
  try {
    gunzipSync(body);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('node:zlib accepted the body');
}
