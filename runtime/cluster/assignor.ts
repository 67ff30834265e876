/** Which worker runs each connector and each task (`<connector>/<task>`), as the leader decided. */
export interface Assignment {
  /** Grows by one with each assignment the leaders write. */
  generation: number;
  leader: string;
  workers: string[];
  connectors: Record<string, string>;
  tasks: Record<string, string>;
}

export const EMPTY_ASSIGNMENT: Assignment = { generation: 0, leader: '', workers: [], connectors: {}, tasks: {} };

export function taskUnit(connector: string, task: number): string {
  return `${connector}/${task}`;
}

/**
 * Balances units over workers and moves as few as it can: a unit stays where it runs
 * while its worker lives and is not above its fair share; only the excess of loaded
 * workers and the units of departed ones move, each to the least loaded worker.
 */
export function balance(previous: Record<string, string>, units: string[], workers: string[]): Record<string, string> {
  const live = [...new Set(workers)].sort();
  if (live.length === 0) return {};
  const owned = new Map<string, string[]>(live.map((w) => [w, []]));
  const pool: string[] = [];
  for (const unit of [...units].sort()) {
    const owner = previous[unit];
    if (owner !== undefined && owned.has(owner)) owned.get(owner)!.push(unit);
    else pool.push(unit);
  }
  const base = Math.floor(units.length / live.length);
  let extra = units.length % live.length;
  // The most loaded keep one more than the base share, so they release the fewest units.
  const byLoad = [...live].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : 1));
  const cap = new Map<string, number>();
  for (const worker of byLoad) cap.set(worker, base + (extra-- > 0 ? 1 : 0));
  for (const worker of live) {
    const units = owned.get(worker)!;
    while (units.length > cap.get(worker)!) pool.push(units.pop()!);
  }
  for (const unit of pool.sort()) {
    const target = live.filter((w) => owned.get(w)!.length < cap.get(w)!).sort((a, b) => owned.get(a)!.length - owned.get(b)!.length || (a < b ? -1 : 1))[0]!;
    owned.get(target)!.push(unit);
  }
  const result: Record<string, string> = {};
  for (const [worker, units] of owned) for (const unit of units) result[unit] = worker;
  return result;
}

/** The next assignment: connectors and tasks balanced separately, as Kafka Connect does. */
export function nextAssignment(previous: Assignment, leader: string, workers: string[], connectors: string[], tasks: string[]): Assignment {
  return {
    generation: previous.generation + 1,
    leader,
    workers: [...workers].sort(),
    connectors: balance(previous.connectors, connectors, workers),
    tasks: balance(previous.tasks, tasks, workers),
  };
}

/** Same units on the same workers (generation and leader aside). */
export function sameAssignment(a: Assignment, b: Omit<Assignment, 'generation' | 'leader'>): boolean {
  const same = (x: Record<string, string>, y: Record<string, string>) =>
    Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([k, v]) => y[k] === v);
  return a.workers.join(',') === b.workers.join(',') && same(a.connectors, b.connectors) && same(a.tasks, b.tasks);
}
