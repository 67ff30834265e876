import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleBulk, splitBulk } from '../../connectors/layouts/azul/bulk.js';
import { InvalidEventError, readEventFields } from '../../connectors/layouts/azul/event-fields.js';
import { azulBundleKey, parseAzulBundleKey, parseAzulTopic, rfc3339Nano } from '../../connectors/layouts/azul/keys.js';
import { bulkType } from '../../connectors/layouts/azul/registry.js';
import { AZUL_EVENTS_DIR, binaryEvent, vectorEvents } from '../helpers/azul-vectors.js';

describe('azul format', () => {
  it("writes timestamps as Go's RFC3339Nano does for UTC", () => {
    expect(rfc3339Nano(1_616_988_248_549_280n)).toBe('2021-03-29T03:24:08.54928Z');
    expect(rfc3339Nano(1_613_304_741_426_232n)).toBe('2021-02-14T12:12:21.426232Z');
    expect(rfc3339Nano(1_700_000_001_000_000n)).toBe('2023-11-14T22:13:21Z');
    expect(rfc3339Nano(1_700_000_001_100_000n)).toBe('2023-11-14T22:13:21.1Z');
    expect(rfc3339Nano(0n)).toBe('1970-01-01T00:00:00Z');
    expect(rfc3339Nano(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('reads the key parts of binary and system topics, with dotted prefixes, and refuses others', () => {
    expect(parseAzulTopic('azul.prod.virustotal.binary.enriched')).toEqual({ prefix: 'prod', source: 'virustotal', model: 'binary', action: 'enriched' });
    expect(parseAzulTopic('azul.eu.prod.vt.binary.sourced')).toEqual({ prefix: 'eu.prod', source: 'vt', model: 'binary', action: 'sourced' });
    expect(parseAzulTopic('azul.prod.system.delete')).toEqual({ prefix: 'prod', source: 'system', model: 'delete', action: 'default' });
    for (const bad of ['orders', 'azul.prod.system.binary', 'azul.prod.system.unknownmodel', 'azul.binary.x', 'notazul.p.s.binary.a'])
      expect(parseAzulTopic(bad)).toBeUndefined();
  });

  it('names bundles like the Azul backup service and parses the names back', () => {
    const key = azulBundleKey({ prefix: 'p', source: 'vt', model: 'binary', action: 'sourced' }, 1_616_988_248_549_280n, 1000, 'abc');
    expect(key).toBe('vt/binary/sourced/2021-03-29T03:24:08.54928Z-1000-abc');
    expect(parseAzulBundleKey(key)).toEqual({
      source: 'vt',
      model: 'binary',
      action: 'sourced',
      timestamp: '2021-03-29T03:24:08.54928Z',
      count: 1000,
      kafkaKey: 'abc',
    });
    expect(parseAzulBundleKey('vt/binary/sourced/notatime-1-abc')).toBeUndefined();
  });

  it("reassembles Azul's own encoded bulks byte for byte from their events, for every model with a vector", () => {
    for (const model of ['binary', 'delete', 'insert'] as const) {
      const original = readFileSync(`${AZUL_EVENTS_DIR}${model}/bulk.json.avro`);
      const { modelVersion, events } = splitBulk(model, original);
      expect(modelVersion).toBe(6);
      expect(assembleBulk(6n, events).equals(original)).toBe(true);
    }
  });

  it('a bulk assembled from single-event vectors decodes with the v6 Bulk schema to the same events', () => {
    for (const model of ['binary', 'delete', 'insert'] as const) {
      const vectors = vectorEvents(model);
      const bulk = assembleBulk(
        6n,
        vectors.map((v) => v.bytes),
      );
      const decoded = bulkType(model).fromBuffer(bulk) as { events: { kafka_key: string }[] };
      expect(decoded.events.map((e) => e.kafka_key)).toEqual(vectors.map((v) => v.kafkaKey));
      expect(splitBulk(model, bulk).events.map((e) => e.toString('hex'))).toEqual(vectors.map((v) => v.bytes.toString('hex')));
    }
    expect(assembleBulk(6n, []).equals(bulkType('binary').toBuffer({ model_version: 6n, events: [] }))).toBe(true);
  });

  it('reads only the fields a backup needs, including longs beyond 2^53 in delete events, and refuses what is not an event', () => {
    for (const v of vectorEvents('delete')) expect(readEventFields('delete', v.bytes).kafkaKey).toBe(v.kafkaKey);
    const size = 2 ** 40 + 5; // an unsigned 64-bit big-endian fixed: beyond 32 bits, and not little-endian
    const fields = readEventFields(
      'binary',
      binaryEvent({ source: 'src', kafkaKey: 'k', timestampMicros: 5n, streams: [{ label: 'content', sha256: 'a'.repeat(64), size }] }),
    );
    expect(fields).toEqual({ kafkaKey: 'k', timestampMicros: 5n, streams: [{ source: 'src', label: 'content', sha256: 'a'.repeat(64), size }] });
    // The real vector's content stream declares 35,054 bytes.
    expect(readEventFields('binary', vectorEvents('binary').find((v) => v.name === 'augmented.json.avro')!.bytes).streams[0]?.size).toBe(35_054);
    expect(() => readEventFields('binary', Buffer.from('garbage'))).toThrow(InvalidEventError);
    const binary = vectorEvents('binary')[0]!.bytes;
    expect(() => readEventFields('binary', Buffer.concat([binary, Buffer.of(0)]))).toThrow(InvalidEventError);
    expect(() => readEventFields('binary', binaryEvent({ source: 'src', kafkaKey: 'a/b', timestampMicros: 5n, streams: [] }))).toThrow(/kafka_key/);
    expect(() =>
      readEventFields('binary', binaryEvent({ source: 'src', kafkaKey: 'k', timestampMicros: 5n, streams: [{ label: 'content', sha256: 'nothex' }] })),
    ).toThrow(/sha256/);
  });
});
