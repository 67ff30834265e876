// Bundles are standard gzip whichever compressor wrote them: the gunzip command, Python's
// gzip module and Go's compress/gzip (test/fixtures/gunzip-go) read the native addon's
// output at the levels of each library, byte for byte.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGzipCodec } from '../../runtime/compression/native-gzip.js';
import { jsonLike, recordingLog } from '../helpers/gzip-samples.js';
import { tmpDir } from '../helpers/tmp.js';

const native = loadGzipCodec({ log: recordingLog() });
const GO_SOURCE = resolve(import.meta.dirname, '../fixtures/gunzip-go/main.go');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs a decoder with the gzip body on stdin; its stdout must be the original bytes. */
function decode(command: string, args: string[], body: Buffer): Buffer {
  const run = spawnSync(command, args, { input: body, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${command} exited with ${run.status}: ${String(run.stderr)}`);
  return run.stdout;
}

describe('external decoders read the native gzip', () => {
  let goBinary = '';
  const bodies: { name: string; plain: Buffer; gz: Buffer }[] = [];

  beforeAll(async () => {
    // Built once (offline: the standard library only), then run per body.
    goBinary = join(tmpDir('gunzip-go'), 'gunzip-go');
    execFileSync('go', ['build', '-o', goBinary, GO_SOURCE], { env: { ...process.env, GOTOOLCHAIN: 'local' }, stdio: 'pipe' });
    const json = jsonLike(3 * 1024 * 1024);
    const random = randomBytes(1024 * 1024);
    for (const level of [1, 3, 6, 9]) {
      bodies.push({ name: `json-like, level ${level} (${native.compressorName(level)})`, plain: json, gz: await native.gzip(json, level) });
    }
    bodies.push({ name: 'random, level 1', plain: random, gz: await native.gzip(random, 1) });
    bodies.push({ name: 'random, level 6', plain: random, gz: await native.gzip(random, 6) });
    bodies.push({ name: 'empty, level 2', plain: Buffer.alloc(0), gz: await native.gzip(Buffer.alloc(0), 2) });
    // Two members back to back: readers must go on past the first.
    const two = Buffer.concat([await native.gzip(json.subarray(0, 1000), 1), await native.gzip(random.subarray(0, 1000), 6)]);
    bodies.push({ name: 'two members', plain: Buffer.concat([json.subarray(0, 1000), random.subarray(0, 1000)]), gz: two });
  }, 120_000);

  it('the gunzip command (gzip -dc)', () => {
    for (const { name, plain, gz } of bodies) expect(sha256(decode('gzip', ['-dc'], gz)), name).toBe(sha256(plain));
  });

  it("Python's gzip module", () => {
    const script = 'import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))';
    for (const { name, plain, gz } of bodies) expect(sha256(decode('python3', ['-c', script], gz)), name).toBe(sha256(plain));
  });

  it("Go's compress/gzip", () => {
    for (const { name, plain, gz } of bodies) expect(sha256(decode(goBinary, [], gz)), name).toBe(sha256(plain));
  });

  it('a damaged body is refused by each of them too (the decoders do check)', () => {
    const gz = Buffer.from(bodies[0]!.gz);
    gz[gz.length - 8]! ^= 0x01; // the CRC32
    for (const [command, args] of [
      ['gzip', ['-dc']],
      ['python3', ['-c', 'import gzip, sys; gzip.decompress(sys.stdin.buffer.read())']],
      [goBinary, []],
    ] as const) {
      expect(() => decode(command, [...args], gz), command).toThrow(/exited with [1-9]/);
    }
  });
});
