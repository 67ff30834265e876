import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterLeader } from '../../runtime/cluster/cluster-leader.js';
import { ClusterHerder } from '../../runtime/cluster/cluster-herder.js';
import { falseAlarmCheck } from '../../runtime/cluster/fence-gate.js';
import type { StatusBoard } from '../../runtime/cluster/status-board.js';
import { PluginRegistry } from '../../runtime/plugins/registry.js';
import { StateTable, type KafkaCheckpointStore } from '../../runtime/storage/kafka-checkpoint-store.js';
import { createLogger } from '../../runtime/telemetry/logger.js';
import type { Worker } from '../../runtime/worker/worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cluster herder over in-memory tables: no Kafka, no connectors; only its fencing state is looked at. */
function herderWith(generation: number) {
  const configs = new StateTable();
  let offset = 1n;
  const assign = (g: number) =>
    configs.set('assignment', 'current', { generation: g, leader: 'w2', workers: ['w1', 'w2'], connectors: {}, tasks: {} }, offset++);
  assign(generation);
  const herder = new ClusterHerder({
    worker: { workerId: 'w1', log: createLogger('error') } as unknown as Worker,
    plugins: new PluginRegistry([]),
    configs: { table: configs, read: async () => ({}) } as unknown as KafkaCheckpointStore,
    offsets: { table: new StateTable() } as unknown as KafkaCheckpointStore,
    connectorWriter: () => {
      throw new Error('no connector here');
    },
    status: { publish: async () => undefined } as unknown as StatusBoard,
    leader: { isLeader: false, scheduleRebalance: () => undefined } as unknown as ClusterLeader,
  });
  return { herder, assign };
}

describe('a worker fenced after a pause', () => {
  const started: ClusterHerder[] = [];
  afterEach(async () => {
    for (const h of started.splice(0)) await h.stop();
  });
  const start = async (generation: number) => {
    const made = herderWith(generation);
    await made.herder.start();
    started.push(made.herder);
    return made;
  };

  it('runs nothing until the leader writes a newer assignment', async () => {
    const { herder, assign } = await start(3);
    expect(herder.clusterSample().fenced).toBe(false);
    herder.fenced(async () => false, 30);
    expect(herder.clusterSample().fenced).toBe(true);
    await sleep(80);
    // Not a member any more: the grace period changes nothing.
    expect(herder.clusterSample().fenced).toBe(true);
    assign(4);
    expect(herder.clusterSample().fenced).toBe(false);
  });

  it('takes its work back when, once the group would have moved on, it is still a member with the same assignment (a false alarm)', async () => {
    const { herder } = await start(7);
    let asked = 0;
    herder.fenced(async () => {
      asked++;
      return true;
    }, 30);
    expect(herder.clusterSample().fenced).toBe(true);
    await sleep(80);
    expect(asked).toBe(1);
    expect(herder.clusterSample().fenced).toBe(false);
  });

  it('does not ask about membership when a newer assignment came meanwhile', async () => {
    const { herder, assign } = await start(2);
    let asked = 0;
    herder.fenced(async () => {
      asked++;
      return true;
    }, 30);
    assign(3);
    expect(herder.clusterSample().fenced).toBe(false);
    await sleep(80);
    expect(asked).toBe(0);
  });
});

describe('falseAlarmCheck', () => {
  const member = async () => true;
  it('a pause with the membership untouched since, and the worker still a member: a false alarm', async () => {
    expect(await falseAlarmCheck('paused', { joins: 2, drops: 0 }, member)()).toBe(true);
    expect(await falseAlarmCheck('paused', { joins: 2, drops: 0 }, async () => false)()).toBe(false);
  });

  it('a membership the client saw lost, or lost or rejoined since the fence (a healed network cut), never is', async () => {
    expect(await falseAlarmCheck('membership-lost', { joins: 2, drops: 1 }, member)()).toBe(false);
    const membership = { joins: 2, drops: 0 };
    const afterPause = falseAlarmCheck('paused', membership, member);
    membership.drops++;
    expect(await afterPause()).toBe(false);
    const rejoined = { joins: 2, drops: 0 };
    const check = falseAlarmCheck('paused', rejoined, member);
    rejoined.joins++;
    expect(await check()).toBe(false);
  });
});
