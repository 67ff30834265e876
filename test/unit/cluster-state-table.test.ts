import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../runtime/kafka/kafka-log.js';
import { StateTable } from '../../runtime/storage/kafka-checkpoint-store.js';

function record(ns: string, key: string, value: unknown, offset: number, partition = 0): LogRecord {
  return {
    key: Buffer.from(JSON.stringify({ ns, key })),
    value: value === null ? null : Buffer.from(JSON.stringify(value)),
    partition,
    offset: BigInt(offset),
  };
}

describe('StateTable', () => {
  it('apply() sets entries from {"ns","key"} records and a tombstone deletes them', () => {
    const table = new StateTable();
    table.apply(record('task:a/0', 'offset', { pos: 1 }, 0));
    table.apply(record('task:a/0', 'state', 'RUNNING', 1));
    table.apply(record('task:b/0', 'offset', 7, 2));
    expect(table.entries('task:a/0')).toEqual({ offset: { pos: 1 }, state: 'RUNNING' });
    expect(table.get('task:b/0', 'offset')).toBe(7);

    table.apply(record('task:a/0', 'offset', { pos: 2 }, 3));
    expect(table.get('task:a/0', 'offset')).toEqual({ pos: 2 });

    table.apply(record('task:a/0', 'state', null, 4));
    expect(table.entries('task:a/0')).toEqual({ offset: { pos: 2 } });
    expect(table.get('task:a/0', 'state')).toBeUndefined();
    expect(table.entries('nothing')).toEqual({});
  });

  it('an older offset never overwrites a newer one (a local write at 10, then the log record at 5)', () => {
    const table = new StateTable();
    table.set('ns', 'k', 'local', 10n);
    table.apply(record('ns', 'k', 'stale', 5));
    expect(table.get('ns', 'k')).toBe('local');
    // The same offset again does not count as newer either.
    table.apply(record('ns', 'k', 'same-offset', 10));
    expect(table.get('ns', 'k')).toBe('local');
    table.apply(record('ns', 'k', 'newer', 11));
    expect(table.get('ns', 'k')).toBe('newer');
  });

  it('a tombstone keeps its position, so an older record cannot revive the key', () => {
    const table = new StateTable();
    table.apply(record('ns', 'k', 'v1', 1));
    table.apply(record('ns', 'k', null, 8));
    table.apply(record('ns', 'k', 'v-old', 4));
    expect(table.get('ns', 'k')).toBeUndefined();
    expect(table.entries('ns')).toEqual({});
    // A local delete (undefined value) also holds its position.
    table.set('ns', 'j', undefined, 20n);
    table.apply(record('ns', 'j', 'revived', 19));
    expect(table.entries('ns')).toEqual({});
    table.apply(record('ns', 'j', 'after', 21));
    expect(table.entries('ns')).toEqual({ j: 'after' });
  });

  it('skips records whose keys are not {"ns","key"} objects (Kafka Connect source offsets share the topic)', () => {
    const table = new StateTable();
    const changes: string[] = [];
    table.onChange((ns) => changes.push(ns));
    const odd: (Buffer | null)[] = [
      Buffer.from(JSON.stringify(['conn', { file: 'x' }])),
      Buffer.from('"just a string"'),
      Buffer.from('{not json'),
      Buffer.from(JSON.stringify({ ns: 'n' })),
      Buffer.from(JSON.stringify({ ns: 1, key: 'k' })),
      Buffer.from(JSON.stringify({ ns: 'n', key: 2 })),
      null,
    ];
    for (const [i, key] of odd.entries()) {
      expect(() => table.apply({ key, value: Buffer.from('{"offset":1}'), partition: 0, offset: BigInt(i) })).not.toThrow();
    }
    expect(changes).toEqual([]);
    expect(table.namespacesStartingWith('')).toEqual([]);
    expect(table.entries('n')).toEqual({});
    expect(table.entries('conn')).toEqual({});
  });

  it('onChange listeners fire with the namespace that changed, not for ignored older records, and can be removed', () => {
    const table = new StateTable();
    const seen: string[] = [];
    const other: string[] = [];
    const off = table.onChange((ns) => seen.push(ns));
    table.onChange((ns) => other.push(ns));
    table.apply(record('a', 'k', 1, 5));
    table.apply(record('b', 'k', 1, 6));
    table.apply(record('a', 'k', 0, 2)); // older: ignored, no event
    table.set('c', 'k', undefined, 7n);
    expect(seen).toEqual(['a', 'b', 'c']);
    off();
    table.apply(record('a', 'k', 2, 9));
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(other).toEqual(['a', 'b', 'c', 'a']);
  });

  it('namespacesStartingWith lists matching namespaces, ignoring those whose entries are all deleted', () => {
    const table = new StateTable();
    table.apply(record('task:a/0', 'k', 1, 1));
    table.apply(record('task:a/1', 'k', 1, 2));
    table.apply(record('task:a/1', 'j', 1, 3));
    table.apply(record('task:b/0', 'k', 1, 4));
    table.apply(record('conn:a', 'k', 1, 5));
    table.apply(record('task:a/1', 'k', null, 6));
    expect(table.namespacesStartingWith('task:a/').sort()).toEqual(['task:a/0', 'task:a/1']);
    table.apply(record('task:a/1', 'j', null, 7));
    expect(table.namespacesStartingWith('task:a/')).toEqual(['task:a/0']);
    expect(table.namespacesStartingWith('task:').sort()).toEqual(['task:a/0', 'task:b/0']);
    expect(table.namespacesStartingWith('zzz')).toEqual([]);
  });
});
