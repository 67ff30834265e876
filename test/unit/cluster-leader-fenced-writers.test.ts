/**
 * Found by the nemesis (seed 1002): a worker cut off while leading kept its leader writers
 * across the generations it missed; the leader of one of those fenced them, and when the
 * group named the worker leader again every assignment and every backup by id failed
 * TASK_FENCED, forever. A leader now makes fenced writers anew.
 */
import { describe, expect, it } from 'vitest';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import { ClusterLeader } from '../../runtime/cluster/cluster-leader.js';
import type { TransactionalWriter } from '../../runtime/kafka/transactional-writer.js';

function leaderWithFakeStores() {
  const made: { topic: string; writer: TransactionalWriter }[] = [];
  const storeOf = (topic: string) => ({
    withWriter: (writer: TransactionalWriter) => {
      made.push({ topic, writer });
      return { read: async () => ({}), fence: async () => undefined, close: async () => undefined };
    },
    topic,
  });
  const worker = {
    kafka: { bootstrapServers: '127.0.0.1:1', extra: {} },
    log: { warn: () => undefined, info: () => undefined },
    metrics: { rebalances: { add: () => undefined }, workerFenced: { add: () => undefined } },
    cluster: { groupMembers: async () => [] },
    workerId: 'w1',
  };
  const leader = new ClusterLeader({ worker, groupId: 'g', configs: storeOf('configs'), offsets: storeOf('offsets'), onLost: () => undefined } as never);
  return { leader, made };
}

const fence = (writer: TransactionalWriter) => {
  (writer as unknown as { fenced: ColdstoreError }).fenced = new ColdstoreError(ErrorCodes.TASK_FENCED, 'fenced by a newer instance');
};

describe('a leader whose writers a newer leader fenced', () => {
  it('keeps healthy writers across calls', async () => {
    const { leader, made } = leaderWithFakeStores();
    leader.onMembership({ kind: 'assigned', leader: true, lost: false });
    const first = await leader.writer();
    expect(await leader.writer()).toBe(first);
    await leader.offsetsWriter();
    expect(made.map((m) => m.topic)).toEqual(['configs', 'offsets']);
    await leader.stop();
  });

  it('makes both writers anew once one of them is fenced', async () => {
    const { leader, made } = leaderWithFakeStores();
    leader.onMembership({ kind: 'assigned', leader: true, lost: false });
    const before = await leader.writer();
    await leader.offsetsWriter();
    fence(made[0]!.writer);
    const after = await leader.writer();
    expect(after).not.toBe(before);
    expect(made.at(-1)!.writer.isFenced).toBe(false);
    await leader.offsetsWriter();
    // Configs and offsets once each before, once each after: the new writers are not dropped again.
    await leader.writer();
    expect(made.map((m) => m.topic)).toEqual(['configs', 'offsets', 'configs', 'offsets']);
    await leader.stop();
  });
});
