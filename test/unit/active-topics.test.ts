import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialTarget, patchedConfig } from '../../runtime/herder/config-changes.js';
import { FileCheckpointStore } from '../../runtime/storage/file-checkpoint-store.js';
import { createLogger } from '../../runtime/telemetry/logger.js';
import { ActiveTopics, forgetActiveTopics, readActiveTopics, topicsOf } from '../../runtime/worker/active-topics.js';

function store(): FileCheckpointStore {
  return new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cs-topics-')));
}

describe('active topics (KIP-558)', () => {
  it('writes a topic only the first time a task uses it, and learns what other tasks recorded before it started', async () => {
    const s = store();
    const writes: string[][] = [];
    const counting = Object.assign(Object.create(s) as FileCheckpointStore, {
      write: (namespace: string, entries: Record<string, unknown>) => {
        writes.push(Object.keys(entries));
        return s.write(namespace, entries);
      },
    });
    await new ActiveTopics(s, 'c', 0, createLogger('silent')).note(['a']);
    const task = new ActiveTopics(counting, 'c', 1, createLogger('silent'));
    await task.note(['a', 'b', 'b']);
    await task.note(['b', 'a']);
    await task.note(['c']);
    expect(writes).toEqual([['b'], ['c']]);
    expect(await readActiveTopics(s, 'c')).toEqual(['a', 'b', 'c']);
    await forgetActiveTopics(s, 'c');
    expect(await readActiveTopics(s, 'c')).toEqual([]);
  });

  it('a failed write never fails the task and is tried again with the next batch', async () => {
    const s = store();
    let failures = 1;
    const flaky = Object.assign(Object.create(s) as FileCheckpointStore, {
      write: (namespace: string, entries: Record<string, unknown>) => (failures-- > 0 ? Promise.reject(new Error('disk full')) : s.write(namespace, entries)),
    });
    const task = new ActiveTopics(flaky, 'c', 0, createLogger('silent'));
    await task.note(['a']);
    expect(await readActiveTopics(s, 'c')).toEqual([]);
    await task.note(['a']);
    expect(await readActiveTopics(s, 'c')).toEqual(['a']);
  });

  it('topicsOf finds every topic of a batch, runs of one topic or interleaved', () => {
    expect([...topicsOf([{ topic: 'x' }, { topic: 'x' }, { topic: 'y' }, { topic: 'x' }, { topic: 'z' }])].sort()).toEqual(['x', 'y', 'z']);
    expect([...topicsOf([])]).toEqual([]);
  });
});

describe('config changes', () => {
  it('initial_state: RUNNING by default, any case accepted, anything else refused naming the allowed values', () => {
    expect(initialTarget(undefined)).toBe('RUNNING');
    expect(initialTarget(null)).toBe('RUNNING');
    expect(initialTarget('stopped')).toBe('STOPPED');
    expect(initialTarget('Paused')).toBe('PAUSED');
    for (const bad of ['STARTED', '', 1, true, {}]) expect(() => initialTarget(bad)).toThrow(/initial_state must be one of RUNNING, PAUSED, STOPPED/);
  });

  it('a patch sets keys and removes those given as null, leaving the rest', () => {
    expect(patchedConfig({ a: '1', b: '2', c: '3' }, { set: { b: '20', d: '4' }, remove: ['c', 'absent'] })).toEqual({ a: '1', b: '20', d: '4' });
  });
});
