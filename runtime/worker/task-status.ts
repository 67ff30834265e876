export type State = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'RESTARTING' | 'FINISHED';

export interface TaskStatus {
  id: number;
  state: State;
  worker_id: string;
  trace?: string;
  /** coldstore extension: a task's own progress figures (e.g. a restore's counts). */
  progress?: Record<string, unknown>;
}
