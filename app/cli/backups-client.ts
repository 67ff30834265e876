/** The worker's backup catalogue over REST, for `coldstore backups`: connection options, requests, failures. */
import { ErrorCodes } from '../../runtime/api/errors.js';
export const DEFAULT_URL = 'http://127.0.0.1:8083';
/** A worker that accepted the connection but does not answer within this is treated as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Usage errors (bad id, bad option) exit 2, like most command-line tools; failures exit 1. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface BackupPartition {
  connector: string;
  topic: string;
  partition: number;
  startOffset: number | string;
  endOffset: number | string;
  durableOffset: number | string;
  status: 'COMPLETED' | 'IN_PROGRESS';
}

export interface BackupSummary {
  backupId: number;
  status: 'COMPLETED' | 'IN_PROGRESS' | 'FAILED';
  failureReason: string | null;
  createdAt: number | string;
  lastUpdatedAt: number | string;
  partitions: BackupPartition[];
  manifests: { connector: string; bucket: string; key: string }[];
}

export interface DeleteAnswer {
  backupId: number;
  deleted: { bucket: string; key: string }[];
}

export interface ConnectionOptions {
  url?: string;
  token?: string;
  user?: string;
  json?: boolean;
}

/** A failure the command reports as `coldstore: [CODE] message` with this exit code. */
export class CommandFailure extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CommandFailure(ErrorCodes.REQUEST_INVALID, message, EXIT_USAGE);

/** The worker's REST API, as far as the backup catalogue goes. */
export class BackupsClient {
  constructor(
    readonly url: string,
    private readonly authorization: string | undefined,
  ) {}

  list(): Promise<BackupSummary[]> {
    return this.call('GET', '/backups') as Promise<BackupSummary[]>;
  }

  describe(id: number): Promise<BackupSummary> {
    return this.call('GET', `/backups/${id}`) as Promise<BackupSummary>;
  }

  create(id: number): Promise<{ id: number }> {
    return this.call('POST', `/backups/${id}`) as Promise<{ id: number }>;
  }

  delete(id: number, dryRun: boolean): Promise<DeleteAnswer> {
    return this.call('DELETE', `/backups/${id}${dryRun ? '?dryRun=true' : ''}`) as Promise<DeleteAnswer>;
  }

  private async call(method: string, path: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url.replace(/\/+$/, '')}${path}`, {
        method,
        headers: { accept: 'application/json', ...(this.authorization ? { authorization: this.authorization } : {}) },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CommandFailure(
        undefined,
        `cannot reach the worker at ${this.url} (${networkReason(err)}). Is it running? --url or COLDSTORE_URL says where it is.`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.ok) return body;
    const error = body as { code?: unknown; message?: unknown } | undefined;
    const message =
      typeof error?.message === 'string'
        ? error.message
        : `HTTP ${res.status} ${res.statusText} from ${method} ${path}${text ? `: ${text.slice(0, 200)}` : ''}`;
    throw new CommandFailure(typeof error?.code === 'string' ? error.code : undefined, message);
  }
}

/** fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a timeout). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof Error) return cause.message;
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return err instanceof Error ? err.message : String(err);
}

export function clientFrom(options: ConnectionOptions, env: Record<string, string | undefined>): BackupsClient {
  const url = options.url ?? env['COLDSTORE_URL'] ?? DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw usage(`--url ${url} is not an http:// or https:// URL`);
  }
  if (options.token !== undefined && options.user !== undefined) throw usage('give --token or --user, not both');
  if (options.user !== undefined) {
    if (!options.user.includes(':')) throw usage('--user takes user:password');
    return new BackupsClient(url, `Basic ${Buffer.from(options.user).toString('base64')}`);
  }
  const token = options.token ?? env['COLDSTORE_TOKEN'];
  return new BackupsClient(url, token ? `Bearer ${token}` : undefined);
}

export function parseBackupId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id)) throw usage(`a backup id is a non-negative integer, not "${text}"`);
  return id;
}
