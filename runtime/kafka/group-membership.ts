import KafkaLib from '@confluentinc/kafka-javascript';
import type { Assignment, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';

const { KafkaConsumer, CODES } = KafkaLib;

export interface MembershipChange {
  /** This member holds partition 0 of the coordination topic: it is the group's leader. */
  leader: boolean;
  /** The group went on without this member (its session expired while it was paused or cut off). */
  lost: boolean;
  kind: 'assigned' | 'revoked';
}

export interface MembershipOptions {
  groupId: string;
  /** Shows in the group's member list, so the leader knows which worker a member is. */
  clientId: string;
  /** A single-partition topic whose partition 0 marks the leader (the config topic). */
  topic: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  onChange: (change: MembershipChange) => void;
}

/**
 * A worker's membership in the cluster: one Kafka consumer group whose members are the
 * workers. Kafka's group coordinator detects members joining, leaving (LeaveGroup on a
 * graceful stop) and dying (session timeout) and rebalances; the member that gets the
 * coordination topic's only partition leads. The partition is paused: nothing is read
 * through this consumer, it only keeps the membership.
 */
export class GroupMembership {
  private readonly consumer: InstanceType<typeof KafkaConsumer>;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Assignments received so far: one more after every rebalance, including a rejoin after the group dropped this member. */
  joins = 0;
  /** Times the client found its membership lost (the group went on without it). */
  drops = 0;

  constructor(
    connection: KafkaConnection,
    private readonly options: MembershipOptions,
  ) {
    this.consumer = new KafkaConsumer(
      clientConfig(connection, options.clientId, {
        'group.id': options.groupId,
        'enable.auto.commit': false,
        'session.timeout.ms': options.sessionTimeoutMs,
        'heartbeat.interval.ms': options.heartbeatIntervalMs,
        'partition.assignment.strategy': 'range',
        rebalance_cb: (err: LibrdKafkaError, assignment: Assignment[]) => this.rebalance(err, assignment),
      }) as never,
      { 'auto.offset.reset': 'latest' },
    );
  }

  private rebalance(err: LibrdKafkaError, assignment: Assignment[]): void {
    if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
      this.joins++;
      this.consumer.assign(assignment);
      if (assignment.length > 0) this.consumer.pause(assignment);
      this.options.onChange({ kind: 'assigned', leader: assignment.some((a) => a.partition === 0), lost: false });
    } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
      // The binding crashes if asked after disconnecting (see SinkConsumer.assignmentLost): then lost.
      let lost = !this.consumer.isConnected();
      try {
        if (!lost) lost = (this.consumer as unknown as { assignmentLost(): boolean }).assignmentLost();
      } catch {
        lost = false;
      }
      if (lost) this.drops++;
      if (this.consumer.isConnected()) this.consumer.unassign();
      this.options.onChange({ kind: 'revoked', leader: false, lost });
    }
  }

  async join(): Promise<void> {
    await connectClient(this.consumer as never, { timeout: 30_000 }, 'join the worker group');
    this.consumer.setDefaultConsumeTimeout(100);
    this.consumer.subscribe([this.options.topic]);
    this.loop = this.serve();
  }

  /** Polls so that librdkafka runs the rebalance callbacks; no record is ever fetched. */
  private async serve(): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((resolve) => this.consumer.consume(1, () => resolve()));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Leaves the group at once (LeaveGroup), so the others rebalance without waiting for the session timeout. */
  async leave(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.consumer.isConnected()) await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}
