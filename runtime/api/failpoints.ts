/**
 * Failpoints: named places where a crash can be injected, for tests that must
 * prove recovery from a crash at an exact moment (e.g. after an upload, before
 * the offset commit). Disarmed unless COLDSTORE_FAILPOINTS is set, e.g.
 * `COLDSTORE_FAILPOINTS=sink.before-commit@3` kills the process with SIGKILL the
 * third time that point is reached. Costs one property read when disarmed.
 */
const armed = parse(process.env['COLDSTORE_FAILPOINTS']);
const hits = new Map<string, number>();

function parse(spec: string | undefined): Map<string, number> | undefined {
  if (!spec) return undefined;
  const points = new Map<string, number>();
  for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, nth] = entry.split('@');
    points.set(name!, nth ? Number(nth) : 1);
  }
  return points;
}

export function failpoint(name: string): void {
  if (!armed) return;
  const nth = armed.get(name);
  if (nth === undefined) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count === nth) {
    process.stderr.write(`failpoint ${name} reached (hit ${count}): killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
