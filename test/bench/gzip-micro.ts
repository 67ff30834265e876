/**
 * One-off micro-measure, not part of `npm run bench`: ms per MB of gzip and gunzip of
 * 64 MB of JSON-like records and of random bytes, node:zlib against the native addon
 * (scripts/build-native-gzip.sh), one whole-buffer call at a time as the bundle
 * uploader makes them. Run: npx tsx test/bench/gzip-micro.ts [levels, default 1,2,3,6,9]
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { loadGzipCodec } from '../../runtime/compression/native-gzip.js';
import { recordValue } from './records.js';

const MB = 1024 * 1024;
const SIZE = 64 * MB;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function jsonLike(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, total = 0; total < SIZE; i++, total += 1024) parts.push(recordValue('compressible', 0, i));
  return Buffer.concat(parts).subarray(0, SIZE);
}

async function msPerMb(work: () => Promise<Buffer>): Promise<{ ms: number; out: Buffer }> {
  let best = Infinity;
  let out: Buffer = Buffer.alloc(0);
  for (let run = 0; run < 2; run++) {
    const started = performance.now();
    out = await work();
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best / (SIZE / MB), out };
}

const levels = (process.argv[2] ?? '1,2,3,6,9').split(',').map(Number);
const native = loadGzipCodec({ log: { debug() {}, info() {}, warn() {}, error() {} } });
if (native.compressorName(1) === 'zlib') throw new Error('the native addon is not built: bash scripts/build-native-gzip.sh');

for (const [kind, data] of [
  ['json-like', jsonLike()],
  ['random', randomBytes(SIZE)],
] as const) {
  for (const level of levels) {
    const chunkSize = data.length + (data.length >> 8) + 1024;
    const z = await msPerMb(() => gzipAsync(data, { level, chunkSize }));
    const n = await msPerMb(() => native.gzip(data, level));
    const zu = await msPerMb(() => gunzipAsync(n.out, { chunkSize: SIZE + 1024 }));
    const nu = await msPerMb(() => native.gunzip(n.out, SIZE));
    if (!nu.out.equals(data) || !zu.out.equals(data)) throw new Error('round trip failed');
    console.log(
      `${kind.padEnd(9)} level ${level}: gzip zlib ${z.ms.toFixed(1)} ms/MB (ratio ${(z.out.length / SIZE).toFixed(3)}), ` +
        `${native.compressorName(level)} ${n.ms.toFixed(1)} ms/MB (ratio ${(n.out.length / SIZE).toFixed(3)}); ` +
        `gunzip zlib ${zu.ms.toFixed(1)}, libdeflate ${nu.ms.toFixed(1)} ms/MB`,
    );
  }
}
