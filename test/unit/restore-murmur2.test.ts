// RestoreSource's murmur2 (connectors/restore-source/murmur2.ts): it must agree bit for bit
// with Kafka's Utils.murmur2, or hash re-partitioning sends keys to other partitions
// than Kafka's own producers would.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kafkaPartitionForKey, murmur2 } from '../../connectors/restore-source/murmur2.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/**
 * An independent, deliberately naive transcription of Kafka's Java murmur2 with
 * BigInt arithmetic modulo 2^32 (Java ints wrap; `>>>` is an unsigned shift).
 */
function referenceMurmur2(data: Uint8Array): number {
  const M32 = 0xffffffffn;
  const mul = (a: bigint, b: bigint) => (a * b) & M32;
  const m = 0x5bd1e995n;
  const length = data.length;
  let h = (0x9747b28cn ^ BigInt(length)) & M32;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = BigInt(data[i4]!) + (BigInt(data[i4 + 1]!) << 8n) + (BigInt(data[i4 + 2]!) << 16n) + (BigInt(data[i4 + 3]!) << 24n);
    k &= M32;
    k = mul(k, m);
    k ^= k >> 24n;
    k = mul(k, m);
    h = mul(h, m);
    h ^= k;
  }
  const base = length - (length % 4);
  const tail = length % 4;
  // Java's switch falls through: case 3 does all three steps, case 2 the last two.
  if (tail === 3) h ^= BigInt(data[base + 2]!) << 16n;
  if (tail >= 2) h ^= BigInt(data[base + 1]!) << 8n;
  if (tail >= 1) {
    h ^= BigInt(data[base]!);
    h = mul(h, m);
  }
  h ^= h >> 13n;
  h = mul(h, m);
  h ^= h >> 15n;
  h &= M32;
  return Number(BigInt.asIntN(32, h));
}

describe('murmur2', () => {
  it("matches Kafka's test vectors (org.apache.kafka.common.utils.UtilsTest)", () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [text, expected] of cases) expect(murmur2(utf8(text)), text).toBe(expected);
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107);
    // The same bytes as a Buffer (what restored keys are) give the same hash.
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });

  it('hashes the empty input to the reference value, as a signed 32-bit int', () => {
    const h = murmur2(new Uint8Array(0));
    expect(h).toBe(referenceMurmur2(new Uint8Array(0)));
    expect(Number.isInteger(h)).toBe(true);
    expect(h).toBeGreaterThanOrEqual(-(2 ** 31));
    expect(h).toBeLessThan(2 ** 31);
  });

  it('agrees with a BigInt transcription of the Java code on every tail length and on bytes >= 0x80', () => {
    // Bytes >= 0x80 are negative Java bytes, masked with & 0xff in Kafka's code.
    const fixed = [
      new Uint8Array([0xff]),
      new Uint8Array([0x80, 0xff]),
      new Uint8Array([0xff, 0xfe, 0xfd]),
      new Uint8Array([0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([0x80, 0x00, 0x00, 0x80, 0xc3]),
    ];
    for (const data of fixed) expect(murmur2(data), Buffer.from(data).toString('hex')).toBe(referenceMurmur2(data));
    for (let i = 0; i < 2_000; i++) {
      const data = randomBytes(i % 67);
      expect(murmur2(data), data.toString('hex')).toBe(referenceMurmur2(data));
    }
    // The reference itself reproduces a Kafka vector (so the cross-check is meaningful).
    expect(referenceMurmur2(utf8('foobar'))).toBe(-790332482);
  });

  it('distinguishes inputs that differ only in length or in their tail', () => {
    expect(murmur2(utf8('a'))).not.toBe(murmur2(utf8('a\0')));
    expect(murmur2(utf8('abcd'))).not.toBe(murmur2(utf8('abce')));
    expect(murmur2(utf8('abcde'))).not.toBe(murmur2(utf8('abcdf')));
  });
});

describe('kafkaPartitionForKey', () => {
  it("is Kafka's toPositive(murmur2(key)) % partitions", () => {
    // -790332482 & 0x7fffffff = 2^31 - 790332482 = 1357151166
    expect(kafkaPartitionForKey(utf8('foobar'), 10)).toBe(1357151166 % 10);
    expect(kafkaPartitionForKey(utf8('foobar'), 7)).toBe(1357151166 % 7);
    // 479470107 is already positive
    expect(kafkaPartitionForKey(Buffer.from('abc'), 12)).toBe(479470107 % 12);
    // -973932308 & 0x7fffffff = 1173551340
    expect(kafkaPartitionForKey(utf8('21'), 5)).toBe(1173551340 % 5);
  });

  it('is non-negative and below the partition count for many random keys', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 5_000; i++) {
      const key = randomBytes(1 + (i % 40));
      const partitions = 1 + (i % 17);
      const p = kafkaPartitionForKey(key, partitions);
      expect(Number.isInteger(p), key.toString('hex')).toBe(true);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(partitions);
      expect(p).toBe((referenceMurmur2(key) & 0x7fffffff) % partitions);
      if (partitions === 17) seen.add(p);
    }
    // Spread: with ~290 keys over 17 partitions, every partition gets some.
    expect(seen.size).toBe(17);
  });

  it('puts every key in partition 0 of a 1-partition topic, and keeps a key on the same partition', () => {
    for (let i = 0; i < 100; i++) expect(kafkaPartitionForKey(randomBytes(8), 1)).toBe(0);
    const key = utf8('customer-42');
    expect(kafkaPartitionForKey(key, 6)).toBe(kafkaPartitionForKey(Buffer.from(key), 6));
  });
});
