import type { Logger } from 'pino';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';

/**
 * Run-time log levels by logger name, as Kafka Connect's /admin/loggers (KIP-495) changes
 * them. The names are those of the worker's loggers: `root`; `connector.<name>` (a
 * connector's logger) with `connector.<name>.task.<id>` under it; a component of the
 * product, e.g. `backups`. Pino children take their level from their parent until given
 * their own (a child is an object whose prototype is the parent), so setting a logger
 * reaches the loggers created from it later; setting a name sets it and every name under
 * it, as Connect does.
 */

/** Kafka Connect's (log4j's) level names and the pino level each means. */
const TO_PINO: Record<string, string> = {
  OFF: 'silent',
  FATAL: 'fatal',
  ERROR: 'error',
  WARN: 'warn',
  INFO: 'info',
  DEBUG: 'debug',
  TRACE: 'trace',
  ALL: 'trace',
};
const TO_CONNECT: Record<string, string> = { silent: 'OFF', fatal: 'FATAL', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE' };

export const LEVEL_NAMES = Object.keys(TO_PINO);
/** Most names set while no logger of theirs lives (connectors not created yet): each PUT of a new name would otherwise be kept for good. */
export const MAX_UNUSED_NAMES = 1000;
export const ROOT = 'root';

/** The pino level of a Connect level name (any case), or undefined. */
export function pinoLevel(connectLevel: string): string | undefined {
  return TO_PINO[connectLevel.toUpperCase()];
}

export interface LoggerLevel {
  level: string;
  /** When the level was last set through LogLevels (ms since the epoch); null: as the worker started. */
  last_modified: number | null;
}

interface Named {
  parent: string | undefined;
  loggers: Set<WeakRef<Logger>>;
}

const registries = new WeakMap<Logger, LogLevels>();

/** The LogLevels of the root this logger descends from; installed on it when there is none yet. */
export function logLevelsOf(log: Logger): LogLevels {
  for (let l: Logger | null = log; l; l = Object.getPrototypeOf(l) as Logger | null) {
    const found = registries.get(l);
    if (found) return found;
  }
  return new LogLevels(log);
}

export class LogLevels {
  private readonly named = new Map<string, Named>();
  private readonly modified = new Map<string, { level: string; at: number }>();

  constructor(root: Logger) {
    registries.set(root, this);
    this.named.set(ROOT, { parent: undefined, loggers: new Set([new WeakRef(root)]) });
    // pino calls the onChild it finds on the parent, i.e. (through the prototype chain) this one, for every descendant.
    root.onChild = (child: Logger) => this.adopt(child);
  }

  /** Every known logger name with its level, sorted; a name shows while a logger of it lives or once it was set. */
  all(): Record<string, LoggerLevel> {
    const names = [...new Set([...this.named.keys()].filter((n) => this.live(n).length > 0 || n === ROOT).concat([...this.modified.keys()]))];
    return Object.fromEntries(names.sort().map((n) => [n, this.get(n)!]));
  }

  get(name: string): LoggerLevel | undefined {
    const modified = this.modified.get(name);
    if (modified) return { level: TO_CONNECT[modified.level]!, last_modified: modified.at };
    const live = this.live(name);
    if (live.length > 0) return { level: TO_CONNECT[live[0]!.level] ?? live[0]!.level.toUpperCase(), last_modified: null };
    return undefined;
  }

  /** Sets the level of this name and every name under it; returns the names set, as Connect's PUT answers. */
  set(name: string, pinoLevelName: string, now = Date.now()): string[] {
    if (!this.modified.has(name) && this.live(name).length === 0) {
      const unused = [...this.modified.keys()].filter((n) => this.live(n).length === 0).length;
      if (unused >= MAX_UNUSED_NAMES) {
        throw new ColdstoreError(
          ErrorCodes.REQUEST_INVALID,
          `Logger ${name} has no logger yet, and ${unused} names without a logger are set already (at most ${MAX_UNUSED_NAMES}): set it once its connector exists, or restart the worker to forget them.`,
        );
      }
    }
    const targets = this.namesUnder(name);
    for (const target of targets) {
      for (const logger of this.live(target)) logger.level = pinoLevelName;
      this.modified.set(target, { level: pinoLevelName, at: now });
    }
    return targets;
  }

  /** A deleted connector: its names and the levels set for them are forgotten (created again, it starts from its parent's level). */
  forgetConnector(connector: string): void {
    const own = (n: string) => n === `connector.${connector}` || n.startsWith(`connector.${connector}.task.`);
    for (const n of [...this.modified.keys()]) if (own(n)) this.modified.delete(n);
    for (const n of [...this.named.keys()]) if (own(n)) this.named.delete(n);
  }

  /** Whether a PUT may name it: a known name, or one of the forms a logger created later will have. */
  acceptsName(name: string): boolean {
    return this.named.has(name) || this.modified.has(name) || /^connector\..+/.test(name);
  }

  private namesUnder(name: string): string[] {
    const known = new Set([...this.named.keys(), ...this.modified.keys(), name]);
    return [...known].filter((n) => this.ancestry(n).includes(name)).sort();
  }

  /** The name itself, then its parent, up to root. */
  private ancestry(name: string): string[] {
    const chain: string[] = [];
    for (let n: string | undefined = name; n !== undefined; n = this.parentOf(n)) chain.push(n);
    return chain;
  }

  private parentOf(name: string): string | undefined {
    if (name === ROOT) return undefined;
    const known = this.named.get(name);
    if (known) return known.parent;
    const task = /^(connector\..+)\.task\.\d+$/.exec(name);
    return task ? task[1] : ROOT;
  }

  private live(name: string): Logger[] {
    const entry = this.named.get(name);
    if (!entry) return [];
    const out: Logger[] = [];
    for (const ref of entry.loggers) {
      const logger = ref.deref();
      if (logger) out.push(logger);
      else entry.loggers.delete(ref);
    }
    return out;
  }

  private adopt(child: Logger): void {
    const bindings = child.bindings() as { connector?: unknown; task?: unknown; component?: unknown };
    let name: string;
    let parent: string;
    if (bindings.connector !== undefined) {
      const connector = `connector.${String(bindings.connector)}`;
      [name, parent] = bindings.task !== undefined ? [`${connector}.task.${String(bindings.task)}`, connector] : [connector, ROOT];
    } else if (bindings.component !== undefined) [name, parent] = [String(bindings.component), ROOT];
    else return;
    const entry = this.named.get(name) ?? { parent, loggers: new Set() };
    entry.loggers.add(new WeakRef(child));
    this.named.set(name, entry);
    const modified = this.modified.get(name);
    if (modified && child.level !== modified.level) child.level = modified.level;
  }
}
