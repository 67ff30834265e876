/**
 * Child processes the bench started (workers, baselines): killed if the bench itself
 * ends early, so none outlives it. Only processes registered here are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function untrack(child: ChildProcess): void {
  live.delete(child);
}

export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

process.once('exit', killAll);

/**
 * Runs a TypeScript script of this directory in its own Node process (through tsx's
 * loader), passing `input` as JSON in argv[2]; the script prints one `RESULT <json>`
 * line on stdout when done. Its stderr is passed on to `log`. `env` adds to the bench's environment.
 */
export function runScript<T>(
  script: string,
  input: unknown,
  log: (line: string) => void,
  timeoutMs = 15 * 60_000,
  env: Record<string, string> = {},
): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, script), JSON.stringify(input)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const lines = stderr.split('\n');
    stderr = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) log(`  [${script}] ${line}`);
  });
  return new Promise<T>((done, fail) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) return done(JSON.parse(line.slice('RESULT '.length)) as T);
      fail(new Error(`${script} exited with ${code ?? signal}${stderr ? `: ${stderr}` : ''}`));
    });
  });
}
