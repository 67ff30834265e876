// A cluster-restore fault run saw POST /connectors answer 409 TASK_FENCED: the leader's
// config writer had been fenced by a newer leader. A leader write must say NOT_LEADER then,
// which forwarding and callers retry.
import { describe, expect, it } from 'vitest';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import type { ClusterLeader } from '../../runtime/cluster/cluster-leader.js';
import { ClusterWrites } from '../../runtime/cluster/cluster-writes.js';

describe('ClusterWrites on a leader fenced by a newer one', () => {
  it('answers NOT_LEADER, keeping the fencing as the cause', async () => {
    const fenced = new ColdstoreError(ErrorCodes.TASK_FENCED, 'fenced by a newer instance');
    const leader = { writer: () => Promise.reject(fenced) } as unknown as ClusterLeader;
    const writes = new ClusterWrites({} as never, leader, {} as never, {} as never, {} as never);
    const failure = await writes.setTarget('backup', 'PAUSED').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ColdstoreError);
    expect((failure as ColdstoreError).code).toBe(ErrorCodes.NOT_LEADER);
    expect((failure as ColdstoreError).cause).toBe(fenced);
  });

  it('passes other failures through unchanged', async () => {
    const other = new ColdstoreError(ErrorCodes.KAFKA_ERROR, 'broker down');
    const leader = { writer: () => Promise.reject(other) } as unknown as ClusterLeader;
    const writes = new ClusterWrites({} as never, leader, {} as never, {} as never, {} as never);
    await expect(writes.setTarget('backup', 'PAUSED')).rejects.toBe(other);
  });
});
