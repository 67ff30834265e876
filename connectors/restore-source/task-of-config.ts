import type { PollResult, RawConfig, RecordPlacement, SourceOffsetEntry, SourceRecord, SourceTask, SourceTaskContext } from '../../runtime/api/index.js';
import { DispatcherRestoreTask } from './dispatcher/task.js';
import { FollowTask } from './follow/follow-task.js';
import { RestoreSourceTask } from './task.js';

/** The task a RestoreSource config runs: the dispatcher restore, a follow-mode standby, or a one-time restore into Kafka. */
export function restoreTaskFor(config: RawConfig): SourceTask {
  if (config['target'] === 'dispatcher') return new DispatcherRestoreTask();
  return config['restore.mode'] === 'follow' ? new FollowTask() : new RestoreSourceTask();
}

/**
 * A RestoreSource task that becomes the one its config asks for when it starts: a
 * worker may create tasks from a connector instance it never started (cluster mode),
 * so the choice cannot be the connector's.
 */
export class RestoreTaskOfConfig implements SourceTask {
  private task: SourceTask | undefined;

  start(config: RawConfig, context: SourceTaskContext): Promise<void> {
    this.task = restoreTaskFor(config);
    return this.task.start(config, context);
  }

  poll(): Promise<PollResult> {
    return this.task!.poll();
  }

  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    return this.task?.delivered?.(records, placements) ?? [];
  }

  progress(): Record<string, unknown> {
    return this.task?.progress?.() ?? {};
  }

  async stop(): Promise<void> {
    await this.task?.stop();
  }
}
