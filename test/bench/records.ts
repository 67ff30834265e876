/**
 * The benchmark's records: 1 KiB values, either JSON-like text (compressible, like
 * typical event payloads) or random bytes (incompressible). Every record is a pure
 * function of (kind, partition, index), so a baseline can regenerate exactly what a
 * pre-filled topic holds instead of reading it back.
 */

export type RecordKind = 'compressible' | 'random';
export const RECORD_KINDS: readonly RecordKind[] = ['compressible', 'random'];
export const VALUE_BYTES = 1024;

/** A small, fast, seedable PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function seedOf(kind: RecordKind, partition: number, index: number): number {
  return (Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(partition + 1, 0x85ebca6b) ^ (kind === 'random' ? 0x5bd1e995 : 0x27d4eb2f)) >>> 0;
}

export function recordKey(partition: number, index: number): Buffer {
  return Buffer.from(`key-${partition}-${index}`);
}

const WORDS = (
  'order payment shipped cart checkout user session page view click search product review rating ' +
  'discount coupon invoice refund warehouse delivery tracking status pending confirmed cancelled ' +
  'premium basic trial account profile settings notification email mobile desktop tablet browser'
).split(' ');
const TYPES = ['page_view', 'add_to_cart', 'checkout', 'purchase', 'search', 'login', 'logout'];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'SE', 'ES', 'IT', 'PL', 'JP'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

function pick<T>(list: readonly T[], next: () => number): T {
  return list[next() % list.length]!;
}

function hex(next: () => number, words: number): string {
  let out = '';
  for (let i = 0; i < words; i++) out += next().toString(16).padStart(8, '0');
  return out;
}

/** A JSON event of exactly VALUE_BYTES bytes (ASCII): repeated field names, varied values. */
function compressibleValue(partition: number, index: number): Buffer {
  const next = prng(seedOf('compressible', partition, index));
  const ts = new Date(1_735_689_600_000 + index * 37 + partition).toISOString();
  const head =
    `{"event_id":"${hex(next, 4)}","ts":"${ts}","type":"${pick(TYPES, next)}",` +
    `"user":{"id":"user-${next() % 100_000}","country":"${pick(COUNTRIES, next)}","plan":"${pick(['free', 'pro', 'team'], next)}"},` +
    `"path":"/products/${next() % 5000}/${pick(WORDS, next)}","referrer":"https://www.example.com/search?q=${pick(WORDS, next)}+${pick(WORDS, next)}",` +
    `"user_agent":"${pick(AGENTS, next)}","session":"${hex(next, 2)}",` +
    `"metrics":{"load_ms":${next() % 3000},"ttfb_ms":${next() % 400},"items":${next() % 12},"amount_cents":${next() % 100_000}},"note":"`;
  let text = head;
  const tail = '"}';
  while (text.length < VALUE_BYTES - tail.length) text += `${pick(WORDS, next)} `;
  return Buffer.from(text.slice(0, VALUE_BYTES - tail.length) + tail, 'latin1');
}

function randomValue(partition: number, index: number): Buffer {
  const next = prng(seedOf('random', partition, index));
  const words = new Uint32Array(VALUE_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return Buffer.from(words.buffer);
}

export function recordValue(kind: RecordKind, partition: number, index: number): Buffer {
  return kind === 'random' ? randomValue(partition, index) : compressibleValue(partition, index);
}

/** Key + value bytes of one record (what the throughput figures count). */
export function recordBytes(partition: number, index: number): number {
  return recordKey(partition, index).length + VALUE_BYTES;
}

/** Key + value bytes of a topic filled with `perPartition` records in each of `partitions`. */
export function topicBytes(partitions: number, perPartition: number): number {
  let total = 0;
  for (let p = 0; p < partitions; p++) for (let i = 0; i < perPartition; i++) total += Buffer.byteLength(`key-${p}-${i}`) + VALUE_BYTES;
  return total;
}
