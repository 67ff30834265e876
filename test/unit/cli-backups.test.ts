/**
 * `coldstore backups …` against a double of the worker's backup catalogue (node:http on
 * 127.0.0.1:0): output, exit codes, and the requests the commands make.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerBackupCommands, type BackupSummary, type CliIo } from '../../app/cli/backups-command.js';
import { freePort } from '../helpers/worker-process.js';

const TOKEN = 'tok-9c1e';
const BASIC = { user: 'alice', password: 'pw:with-colon' };

interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** The catalogue as the worker keeps it; a created backup completes after a few GETs (or fails, for ids ending in 13). */
class CatalogueDouble {
  readonly requests: SeenRequest[] = [];
  backups = new Map<number, BackupSummary>();
  private polls = new Map<number, number>();
  /** GETs a new backup takes to complete; Infinity keeps it IN_PROGRESS. */
  getsToComplete = 2;
  server!: Server;

  reset(): void {
    this.requests.length = 0;
    this.polls.clear();
    this.getsToComplete = 2;
    this.backups = new Map([
      [3, backup(3, 'COMPLETED', Date.UTC(2026, 0, 2, 3, 4, 5))],
      [5, { ...backup(5, 'FAILED', Date.UTC(2026, 0, 3, 0, 0, 0)), failureReason: 'connector backup-a stopped before the cut was durable' }],
    ]);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private authorized(header: string | undefined): boolean {
    return header === `Bearer ${TOKEN}` || header === `Basic ${Buffer.from(`${BASIC.user}:${BASIC.password}`).toString('base64')}`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, extra: object = {}) => send(status, { ...extra, error_code: status, code, message });
    if (!this.authorized(req.headers.authorization)) return error(401, 'UNAUTHORIZED', 'This worker requires a bearer token or basic credentials.');
    const url = new URL(req.url!, 'http://double');
    if (req.method === 'GET' && url.pathname === '/backups')
      return send(
        200,
        [...this.backups.values()].sort((a, b) => b.backupId - a.backupId),
      );
    const match = /^\/backups\/([^/]+)$/.exec(url.pathname);
    if (!match) return error(404, 'ROUTE_NOT_FOUND', `No route ${req.method} ${url.pathname}`);
    if (!/^\d+$/.test(match[1]!)) return error(400, 'REQUEST_INVALID', 'A backup id is a non-negative integer.');
    const id = Number(match[1]);
    const found = this.backups.get(id);
    if (req.method === 'POST') {
      if (Math.max(...this.backups.keys()) >= id) return error(409, 'BACKUP_ID_CONFLICT', `Backup id ${id} is not greater than every earlier id (5).`);
      this.backups.set(id, { ...backup(id, 'IN_PROGRESS', Date.now()), failureReason: null });
      return send(202, { id });
    }
    if (!found) return error(404, 'BACKUP_NOT_FOUND', `No backup ${id}.`, { backupId: id, status: 'DOES_NOT_EXIST' });
    if (req.method === 'GET') {
      const polls = (this.polls.get(id) ?? 0) + 1;
      this.polls.set(id, polls);
      if (found.status === 'IN_PROGRESS') this.advance(found, polls, id);
      return send(200, found);
    }
    if (req.method === 'DELETE') {
      const objects = found.manifests
        .map((m) => ({ bucket: m.bucket, key: m.key }))
        .concat([{ bucket: 'coldstore-prod-events', key: 'orders/0/00000000000000000000-00000000000000000099.avro.gz' }]);
      if (url.searchParams.get('dryRun') !== 'true') this.backups.delete(id);
      return send(200, { backupId: id, deleted: objects });
    }
    return error(404, 'ROUTE_NOT_FOUND', `No route ${req.method} ${url.pathname}`);
  }

  private advance(found: BackupSummary, polls: number, id: number): void {
    if (id % 100 === 13) {
      Object.assign(found, { status: 'FAILED', failureReason: 'S3 refused the manifest: AccessDenied' });
      return;
    }
    if (polls >= this.getsToComplete) {
      Object.assign(found, { status: 'COMPLETED', partitions: found.partitions.map((p) => ({ ...p, durableOffset: p.endOffset, status: 'COMPLETED' })) });
    } else {
      found.partitions[0] = { ...found.partitions[0]!, durableOffset: found.partitions[0]!.endOffset, status: 'COMPLETED' };
    }
  }
}

function backup(id: number, status: BackupSummary['status'], createdAt: number): BackupSummary {
  const done = status === 'COMPLETED';
  return {
    backupId: id,
    status,
    failureReason: null,
    createdAt,
    lastUpdatedAt: createdAt + 5_000,
    partitions: [
      {
        connector: 'backup-a',
        topic: 'orders',
        partition: 0,
        startOffset: 0,
        endOffset: 100,
        durableOffset: done ? 100 : 40,
        status: done ? 'COMPLETED' : 'IN_PROGRESS',
      },
      {
        connector: 'backup-a',
        topic: 'orders',
        partition: 1,
        startOffset: 10,
        endOffset: 90,
        durableOffset: done ? 90 : 10,
        status: done ? 'COMPLETED' : 'IN_PROGRESS',
      },
    ],
    manifests: done
      ? [{ connector: 'backup-a', bucket: 'coldstore-prod-events', key: `~coldstore/backups/${String(id).padStart(20, '0')}/backup-a.json` }]
      : [],
  };
}

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs `coldstore <args>` in-process with captured output; the exit code is what the process would end with. */
async function coldstore(
  args: string[],
  options: { env?: Record<string, string>; tty?: boolean } = {},
): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const result = { code: undefined as number | undefined, stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (text) => void (result.stdout += text),
    stderr: (text) => void (result.stderr += text),
    stderrIsTty: options.tty === true,
    env: options.env ?? {},
    setExitCode: (code) => void (result.code = code),
    exitNow: (code) => {
      throw new Exited(code);
    },
  };
  const program = new Command('coldstore').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerBackupCommands(program, { io, waitPollMs: 20 });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof Exited)) throw err;
    result.code = err.code;
  }
  return result;
}

describe('coldstore backups (REST client against a catalogue double)', () => {
  const double = new CatalogueDouble();
  const auth = () => ['--url', double.url, '--token', TOKEN];

  beforeAll(async () => {
    double.server = createServer((req, res) => double.handle(req, res));
    await new Promise<void>((done) => double.server.listen(0, '127.0.0.1', done));
  });
  afterAll(async () => {
    await new Promise((done) => double.server.close(done));
  });
  beforeEach(() => double.reset());

  it('list prints a table newest first with the bearer token, and --json prints the answer as is', async () => {
    const human = await coldstore(['backups', 'list', ...auth()]);
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+PARTITIONS\s+FAILURE$/);
    expect(lines[1]).toMatch(/^5\s+FAILED\s+2026-01-03 00:00:00Z\s+0\/2\s+connector backup-a stopped before the cut was durable$/);
    expect(lines[2]).toMatch(/^3\s+COMPLETED\s+2026-01-02 03:04:05Z\s+2\/2$/);
    expect(lines).toHaveLength(3);
    expect(double.requests).toEqual([{ method: 'GET', url: '/backups', authorization: `Bearer ${TOKEN}` }]);

    const json = await coldstore(['backups', 'list', ...auth(), '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([...double.backups.values()].sort((a, b) => b.backupId - a.backupId));
  });

  it('takes the URL and token from COLDSTORE_URL and COLDSTORE_TOKEN, and basic credentials from --user', async () => {
    const fromEnv = await coldstore(['backups', 'list'], { env: { COLDSTORE_URL: double.url, COLDSTORE_TOKEN: TOKEN } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    const basic = await coldstore(['backups', 'list', '--url', double.url, '--user', `${BASIC.user}:${BASIC.password}`]);
    expect(basic.code, basic.stderr).toBe(0);
    expect(double.requests.map((r) => r.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      `Basic ${Buffer.from(`${BASIC.user}:${BASIC.password}`).toString('base64')}`,
    ]);
  });

  it('reports the worker’s refusal with its code: no credentials is [UNAUTHORIZED], exit 1', async () => {
    const result = await coldstore(['backups', 'list', '--url', double.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('coldstore: [UNAUTHORIZED] This worker requires a bearer token or basic credentials.\n');
    expect(result.stdout).toBe('');
    expect(double.requests[0]!.authorization).toBeUndefined();
  });

  it('describe shows status, partitions and manifests; an unknown id is [BACKUP_NOT_FOUND], exit 1', async () => {
    const result = await coldstore(['backups', 'describe', '3', ...auth()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Backup 3: COMPLETED\n/);
    expect(result.stdout).toMatch(/partitions\s+2\/2 durable/);
    expect(result.stdout).toMatch(/backup-a\s+orders\s+1\s+10\s+90\s+90\s+COMPLETED/);
    expect(result.stdout).toContain('coldstore-prod-events/~coldstore/backups/00000000000000000003/backup-a.json');

    const missing = await coldstore(['backups', 'describe', '42', ...auth()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('coldstore: [BACKUP_NOT_FOUND] No backup 42.\n');
    expect(double.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /backups/3', 'GET /backups/42']);
  });

  it('a bad argument exits 2 without calling the worker', async () => {
    for (const args of [
      ['backups', 'describe', 'abc'],
      ['backups', 'describe', '1.5'],
      ['backups', 'create', '-3'],
      ['backups', 'delete', '7x'],
      ['backups', 'create', '9', '--wait', '--timeout', 'soon'],
      ['backups', 'list', '--user', 'no-colon'],
      ['backups', 'list', '--user', 'a:b', '--token', 't'],
      ['backups', 'describe'],
    ]) {
      const result = await coldstore([...args, '--url', double.url]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^(coldstore: \[REQUEST_INVALID\] |error: )/);
    }
    expect(double.requests).toEqual([]);
  });

  it('create starts a backup (POST) and returns at once without --wait; a used id is [BACKUP_ID_CONFLICT]', async () => {
    const result = await coldstore(['backups', 'create', '9', ...auth()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('Backup 9 started; `coldstore backups describe 9` shows its progress.\n');
    expect(double.requests).toEqual([{ method: 'POST', url: '/backups/9', authorization: `Bearer ${TOKEN}` }]);
    expect(double.backups.get(9)?.status).toBe('IN_PROGRESS');

    const conflict = await coldstore(['backups', 'create', '4', ...auth()]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^coldstore: \[BACKUP_ID_CONFLICT\] Backup id 4 is not greater/);
  });

  it('create --wait polls until COMPLETED (exit 0), drawing per-partition progress on a terminal', async () => {
    double.getsToComplete = 3;
    const result = await coldstore(['backups', 'create', '10', '--wait', ...auth()], { tty: true });
    expect(result.code, result.stderr).toBe(0);
    expect(double.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /backups/10', 'GET /backups/10', 'GET /backups/10', 'GET /backups/10']);
    expect(result.stdout).toMatch(/^ID\s+STATUS.*\n10\s+COMPLETED\s+\S+ \S+Z\s+2\/2\s*$/);
    // Each poll redraws the view: partition 0 done first, then both.
    expect(result.stderr).toContain('backup 10: IN_PROGRESS, 1/2 partitions durable');
    expect(result.stderr).toContain('backup-a orders/1 [--------------------] 10/90');
    expect(result.stderr).toContain('backup 10: COMPLETED, 2/2 partitions durable');
    expect(result.stderr).toContain('backup-a orders/1 [####################] 90/90');
    expect(result.stderr).toContain('\x1b[3A\x1b[J');

    // Not a terminal: nothing on stderr but errors.
    const quiet = await coldstore(['backups', 'create', '11', '--wait', '--json', ...auth()]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(JSON.parse(quiet.stdout)).toMatchObject({ backupId: 11, status: 'COMPLETED' });
  });

  it('create --wait exits 1 with the failure reason when the backup FAILED, and 1 when --timeout passes first', async () => {
    const failed = await coldstore(['backups', 'create', '13', '--wait', ...auth()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('coldstore: backup 13 FAILED: S3 refused the manifest: AccessDenied\n');
    expect(failed.stdout).toMatch(/13\s+FAILED/);

    double.getsToComplete = Infinity;
    const started = Date.now();
    const slow = await coldstore(['backups', 'create', '20', '--wait', '--timeout', '0.3', ...auth()]);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/^coldstore: backup 20 is still IN_PROGRESS after 0.3 s \(1\/2 partitions durable\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(double.requests.filter((r) => r.url === '/backups/20' && r.method === 'GET').length).toBeGreaterThan(3);
  });

  it('delete --dry-run only lists (DELETE ?dryRun=true); delete removes', async () => {
    const dry = await coldstore(['backups', 'delete', '3', '--dry-run', ...auth()]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      'Would delete 2 objects of backup 3:\n' +
        '  coldstore-prod-events/~coldstore/backups/00000000000000000003/backup-a.json\n' +
        '  coldstore-prod-events/orders/0/00000000000000000000-00000000000000000099.avro.gz\n',
    );
    expect(double.backups.has(3)).toBe(true);

    const real = await coldstore(['backups', 'delete', '3', ...auth()]);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^Deleted backup 3: 2 objects:\n/);
    expect(double.backups.has(3)).toBe(false);
    expect(double.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['DELETE /backups/3?dryRun=true', 'DELETE /backups/3']);
  });

  it('an unreachable worker is named with the reason, exit 1', async () => {
    const port = await freePort();
    const result = await coldstore(['backups', 'list', '--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^coldstore: cannot reach the worker at http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)\\. Is it running\\?`),
    );
  });

  it('the real CLI process exits with the same codes (program.ts wiring)', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../../app/cli/main.cts'), ...args], {
          env: { ...process.env, COLDSTORE_URL: double.url, COLDSTORE_TOKEN: TOKEN },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (code) => done({ code, stdout, stderr }));
      });
    const [list, bad, missing] = await Promise.all([run(['backups', 'list']), run(['backups', 'describe', 'x']), run(['backups', 'describe', '99'])]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+STATUS/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('coldstore: [REQUEST_INVALID] a backup id is a non-negative integer, not "x"');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('coldstore: [BACKUP_NOT_FOUND] No backup 99.');
  }, 30_000);
});
