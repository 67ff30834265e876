// RestoreSource's two targets (connectors/restore-source/connector.ts): target=kafka
// and target=dispatcher are one connector class with one set of settings, and the
// dispatcher restore is its own plugin (dispatcher/connector.ts) that RestoreSource
// hands target=dispatcher to, with the same checks, task configs and task.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorContext, KafkaCluster } from '../../runtime/api/index.js';
import { restoreSource } from '../../connectors/restore-source/connector.js';
import { dispatcherRestore } from '../../connectors/restore-source/dispatcher/connector.js';
import { DispatcherRestoreTask } from '../../connectors/restore-source/dispatcher/task.js';
import { FollowTask } from '../../connectors/restore-source/follow/follow-task.js';
import { RestoreSourceTask } from '../../connectors/restore-source/task.js';
import { RestoreTaskOfConfig, restoreTaskFor } from '../../connectors/restore-source/task-of-config.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { tmpDir } from '../helpers/tmp.js';

const context: ConnectorContext = {
  name: 'restore',
  log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  cluster: {} as KafkaCluster,
};

describe('RestoreSource validateAll', () => {
  it('target=dispatcher refuses the settings only the Kafka target uses, naming each', () => {
    const errors = restoreSource.validateAll!({
      target: 'dispatcher',
      'dispatcher.url': 'http://d:8111',
      topics: 't',
      groups: 'g',
      'restore.until.timestamp': '1',
      'restore.until.offsets': 't:0:1',
      'restore.backup.id': '2',
    });
    expect(errors.map((e) => e.field)).toEqual(['topics', 'restore.backup.id', 'restore.until.timestamp', 'restore.until.offsets', 'groups']);
    expect(dispatcherRestore.validateAll!({ target: 'dispatcher', 'dispatcher.url': 'http://d:8111', topics: 't' }).map((e) => e.field)).toEqual(['topics']);
    const follow = { target: 'dispatcher', 'dispatcher.url': 'http://d:8111', 'restore.mode': 'follow', 'topics.regex': 'x.*' };
    expect(restoreSource.validateAll!(follow).map((e) => e.field)).toEqual(['restore.mode', 'topics.regex']);
  });

  it('target=kafka checks its own combinations, and both check the location and renames', () => {
    const kafka = restoreSource.validateAll!({
      topics: 'a,b',
      'topic.rename': 'a:x,b:x',
      'restore.backup.id': '1',
      'restore.until.offsets': 'a:0:5',
      'topic.rename.regex': '(.*)',
    });
    expect(kafka.map((e) => e.field)).toEqual(['topic.rename.replacement', 'restore.until.offsets', 'topic.rename']);
    const follow = restoreSource.validateAll!({
      'restore.mode': 'follow',
      'topics.regex': 'orders.*',
      'restore.backup.id': '1',
      'restore.until.timestamp': '2026-01-01T00:00:00Z',
      'restore.phases': 'offsets',
    });
    expect(follow.map((e) => e.field)).toEqual(['restore.backup.id', 'restore.until.timestamp', 'restore.phases']);
    expect(restoreSource.validateAll!({ 'topics.regex': 'orders.*' }).map((e) => e.field)).toEqual(['topics.regex']);
    const dispatcher = restoreSource.validateAll!({
      target: 'dispatcher',
      'dispatcher.url': 'http://d:8111',
      'topic.rename.regex': '(.*)',
      'bucket.shared': 'b',
      'events.bucket': 'e',
    });
    expect(dispatcher.map((e) => e.field)).toEqual(['bucket.shared', 'topic.rename.replacement']);
  });
});

describe('RestoreSource picks the connector of its target when it starts', () => {
  let root: string;
  beforeEach(() => {
    root = tmpDir('restore-connector');
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('target=dispatcher: checks the backup holds Azul sources, then one task config whatever tasks.max, and a dispatcher task', async () => {
    const config = { 'connector.class': 'RestoreSource', target: 'dispatcher', 'dispatcher.url': 'http://d:8111', 'local.root': root, 'backup.label': 'azul' };
    await expect(restoreSource.create().start(config, context)).rejects.toThrow(/holds no Azul source/);
    const store = new LocalObjectStore(root);
    await store.ensureBucket('coldstore-azul-events');
    await store.putIfAbsent('coldstore-azul-events', 'virustotal/binary/sourced/x', Buffer.from('x'), {});
    const connector = restoreSource.create();
    await connector.start(config, context);
    expect(connector.taskConfigs(4)).toEqual([config]);
    expect(connector.createTask()).toBeInstanceOf(RestoreTaskOfConfig);
    expect(restoreTaskFor(config)).toBeInstanceOf(DispatcherRestoreTask);
    await expect(restoreSource.create().start({ ...config, 'restore.sources': 'virustotal,system' }, context)).rejects.toThrow(
      /holds no source system; it holds virustotal/,
    );
  });

  it('target=kafka: the backed-up partitions split round-robin between tasks, each a RestoreSourceTask', async () => {
    const config = { 'connector.class': 'RestoreSource', topics: 'orders', 'local.root': root };
    await expect(restoreSource.create().start(config, context)).rejects.toThrow(/holds no topic orders/);
    const store = new LocalObjectStore(root);
    await store.ensureBucket('coldstore-default-events');
    for (const p of [0, 1, 2]) await store.putIfAbsent('coldstore-default-events', `orders/${p}/x`, Buffer.from('x'), {});
    const connector = restoreSource.create();
    await connector.start(config, context);
    const tasks = connector.taskConfigs(2);
    expect(tasks.map((t) => [t['restore.task.partitions'], t['restore.task.count'], t['restore.topic.partitions']])).toEqual([
      ['orders:0,orders:2', '2', 'orders:3'],
      ['orders:1', '2', 'orders:3'],
    ]);
    expect(restoreTaskFor(config)).toBeInstanceOf(RestoreSourceTask);
  });

  it('a task created by a connector instance that was never started (cluster mode) still becomes the task its config asks for', () => {
    const unstarted = restoreSource.create().createTask();
    expect(unstarted).toBeInstanceOf(RestoreTaskOfConfig);
    expect(restoreTaskFor({ target: 'dispatcher' })).toBeInstanceOf(DispatcherRestoreTask);
    expect(restoreTaskFor({ topics: 'orders', 'restore.mode': 'follow' })).toBeInstanceOf(FollowTask);
    expect(restoreTaskFor({ topics: 'orders' })).toBeInstanceOf(RestoreSourceTask);
  });

  it('restore.mode=follow: starts without any backed-up topic yet, and gives every task the task count (tasks find their own partitions)', async () => {
    const config = { 'connector.class': 'RestoreSource', 'topics.regex': 'orders.*', 'restore.mode': 'follow', 'local.root': root };
    const connector = restoreSource.create();
    await connector.start(config, context);
    expect(connector.taskConfigs(3).map((t) => t['restore.task.count'])).toEqual(['3', '3', '3']);
  });
});
