// Re-sent Azul events (issue 17): Azul's real vectors of three models produced several
// times in a row into two-partition topics, what a backup of them must hold, a listing of
// it that does not depend on the run (topic prefixes and labels differ), and the real
// `coldstore verify` on it.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AzulModel } from '../../connectors/layouts/azul/registry.js';
import type { OutgoingRecord } from '../../runtime/kafka/producer.js';
import type { TopicSpec } from '../faults/azul-proof.js';
import { sha256 } from './azul-backup.js';
import { binaryEvent, vectorEvents, withServedStreams } from './azul-vectors.js';
import type { DispatcherDouble } from './dispatcher-double.js';
import type { FetchedObject } from './s3.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const PARTITIONS = 2;

/** One model's vector set: the topic it goes to and its events (Kafka key = the event's kafka_key). */
export interface VectorSet {
  model: AzulModel;
  spec: (prefix: string) => TopicSpec;
  events: { key: Buffer; value: Buffer }[];
}

/**
 * Every real vector of binary (`virustotal`, enriched), delete and insert, in file order;
 * binary ones with their datastreams swapped for blobs the double serves, so a complete
 * backup verifies; and a `mixed` set of two runs ending with the same event. Returns the
 * sets and the blobs they refer to.
 */
export function resentVectorSets(double: DispatcherDouble): { sets: VectorSet[]; blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  const topic = (name: (prefix: string) => string, model: AzulModel, bundlePrefix: string) => (prefix: string) => ({
    name: name(prefix),
    partitions: PARTITIONS,
    model,
    bundlePrefix,
  });
  const binary = vectorEvents('binary').map((v) => ({
    key: Buffer.from(v.kafkaKey),
    value: withServedStreams(v.bytes, (label, i) => {
      const bytes = Buffer.from(`${v.name} ${label} ${i} `.repeat(200));
      const sha = double.addStream('virustotal', label, bytes);
      blobs.set(`virustotal/${label}/${sha}`, bytes);
      return { sha256: sha, size: bytes.length };
    }),
  }));
  const plain = (model: AzulModel) => vectorEvents(model).map((v) => ({ key: Buffer.from(v.kafkaKey), value: v.bytes }));
  // Two runs of four ending with the same re-sent event (same kafka_key and time), different before it:
  // with bundles of 4, two bulks want one key.
  const mixedEvent = (key: string, micros: bigint) => ({
    key: Buffer.from(key),
    value: binaryEvent({ source: 'mixed', kafkaKey: key, timestampMicros: micros, streams: [] }),
  });
  const resent = mixedEvent('resent', 1_700_000_000_900_000n);
  const run = (name: string) => [1, 2, 3].map((i) => mixedEvent(`${name}${i}`, 1_700_000_000_000_000n + BigInt(i)));
  const mixed = [...run('a'), resent, ...run('b'), resent];
  return {
    blobs,
    sets: [
      { model: 'binary', spec: topic((p) => `azul.${p}.virustotal.binary.enriched`, 'binary', 'virustotal/binary/enriched/'), events: binary },
      { model: 'delete', spec: topic((p) => `azul.${p}.system.delete`, 'delete', 'system/delete/default/'), events: plain('delete') },
      { model: 'insert', spec: topic((p) => `azul.${p}.system.insert`, 'insert', 'system/insert/default/'), events: plain('insert') },
      { model: 'binary', spec: topic((p) => `azul.${p}.mixed.binary.sourced`, 'binary', 'mixed/binary/sourced/'), events: mixed },
    ],
  };
}

/** One copy of every set into every partition. */
export function oneCopy(sets: readonly VectorSet[], prefix: string): OutgoingRecord[] {
  return sets.flatMap((set) =>
    Array.from({ length: PARTITIONS }, (_, partition) =>
      set.events.map((e) => ({ topic: set.spec(prefix).name, partition, key: e.key, value: e.value })),
    ).flat(),
  );
}

/**
 * The events bucket as it would be in any run: keys with the topic prefix replaced, each
 * with the sha256 of its bytes (index entries name the prefix too). Bundles, index
 * entries, rejects and claims; not the snapshots of topic metadata (they carry times).
 */
export function runIndependentListing(objects: readonly FetchedObject[], prefix: string): string[] {
  const general = (text: string) => text.split(`azul.${prefix}.`).join('azul.PREFIX.');
  return objects
    .filter((o) => !o.key.startsWith('~coldstore/topics/') && !o.key.startsWith('~coldstore/group-offsets/'))
    .map((o) => `${general(o.key)} ${sha256(Buffer.from(general(o.body.toString('latin1')), 'latin1'))}`)
    .sort();
}

/** `coldstore verify` (the built CLI, dist/app/cli/main.cjs) on the backup a connector config describes. */
export function cliVerify(dir: string, config: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, `verify-${config['backup.label']}.json`);
  writeFileSync(file, JSON.stringify({ name: 'verify', ...config }));
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'dist/app/cli/main.cjs'), 'verify', '--config', file], { cwd: ROOT }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
