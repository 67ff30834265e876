/**
 * Failpoints: named places where a fault can be injected, for tests that must
 * prove recovery from a crash or a pause at an exact moment (e.g. after an upload,
 * before the offset commit). Disarmed unless COLDSTORE_FAILPOINTS is set:
 * `COLDSTORE_FAILPOINTS=sink.before-commit@3` kills the process with SIGKILL the
 * third time that point is reached; `backup.after-claim@2:stop` stops it with
 * SIGSTOP instead (a paused process, a zombie once its session expires; the test
 * sends SIGCONT). Costs one property read when disarmed.
 */
type Action = 'kill' | 'stop';
const armed = parse(process.env['COLDSTORE_FAILPOINTS']);
const hits = new Map<string, number>();

function parse(spec: string | undefined): Map<string, { nth: number; action: Action }> | undefined {
  if (!spec) return undefined;
  const points = new Map<string, { nth: number; action: Action }>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [point, action = 'kill'] = entry.split(':');
    const [name, nth] = point!.split('@');
    if (action !== 'kill' && action !== 'stop') throw new Error(`COLDSTORE_FAILPOINTS: unknown action '${action}' in '${entry}' (kill or stop)`);
    points.set(name!, { nth: nth ? Number(nth) : 1, action });
  }
  return points;
}

export function failpoint(name: string): void {
  if (!armed) return;
  const point = armed.get(name);
  if (point === undefined) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count !== point.nth) return;
  if (point.action === 'stop') {
    process.stderr.write(`failpoint ${name} reached (hit ${count}): stopping the process\n`);
    process.kill(process.pid, 'SIGSTOP');
    return;
  }
  process.stderr.write(`failpoint ${name} reached (hit ${count}): killing the process\n`);
  process.kill(process.pid, 'SIGKILL');
}
