import { eventType, type AzulModel } from './registry.js';

function zigzagVarint(n: number, out: number[]): void {
  // Avro longs are zigzag varints; counts and sizes here stay far below 2^53.
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } {
  let z = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i]!;
    z += (byte & 0x7f) * scale;
    scale *= 0x80;
    if (byte < 0x80) return { value: z % 2 === 0 ? z / 2 : -(z + 1) / 2, next: i + 1 };
  }
  throw new Error(`truncated Avro long at byte ${at}`);
}

/**
 * `Bulk<Model>Event {model_version, events}` assembled from the original event
 * bytes, never re-encoded: an Avro array is one block (negative count, then its
 * byte size, as Azul's own encoder writes it), the items, and a zero.
 */
export function assembleBulk(modelVersion: bigint, events: readonly Buffer[]): Buffer {
  const head: number[] = [];
  zigzagVarint(Number(modelVersion), head);
  if (events.length > 0) {
    zigzagVarint(-events.length, head);
    zigzagVarint(
      events.reduce((sum, e) => sum + e.length, 0),
      head,
    );
  }
  return Buffer.concat([Buffer.from(head), ...events, Buffer.of(0)]);
}

/** A bulk's model_version and the exact bytes of each event (checked by decoding each with the model's schema). */
export function splitBulk(model: AzulModel, body: Buffer): { modelVersion: number; events: Buffer[] } {
  const type = eventType(model);
  const version = readVarint(body, 0);
  const events: Buffer[] = [];
  let at = version.next;
  for (;;) {
    const count = readVarint(body, at);
    at = count.next;
    if (count.value === 0) break;
    if (count.value < 0) at = readVarint(body, at).next;
    for (let i = 0; i < Math.abs(count.value); i++) {
      const { offset } = type.decode(body, at);
      if (offset < 0) throw new Error(`truncated ${model} event ${events.length + 1} at byte ${at}`);
      events.push(body.subarray(at, offset));
      at = offset;
    }
  }
  if (at !== body.length) throw new Error(`${body.length - at} bytes after the bulk's last block`);
  return { modelVersion: version.value, events };
}
