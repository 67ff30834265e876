/**
 * The host side of the nemesis namespaces: running ip and tc, naming what the suite
 * creates so that it can be found again, and removing it, including what a crashed run left.
 *
 * Every namespace and veth the suite makes is named after the process that made it
 * (`csnem-<pid>-<n>` for a namespace; `csnem` + pid and n in base 36 + h/n for the veth
 * ends, which must fit in 15 characters), so the cleanup removes only what belongs to a
 * process that is gone: two suites running at once never remove each other's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const NETNS_PREFIX = 'csnem';
/** The private range of the veth pairs: 10.231.<n>.0/30, host end .1, namespace end .2. */
export const ADDRESS_PREFIX = '10.231';

const tool = (name: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((dir) => `${dir}/${name}`).find(existsSync) ?? name;
const IP = tool('ip');
const TC = tool('tc');

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

export const ip = (...args: string[]): string => run(IP, args);
export const tc = (...args: string[]): string => run(TC, args);

/** Namespaces and veths need CAP_NET_ADMIN: says so plainly rather than failing halfway through. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`the nemesis network toolkit needs root (ip netns, veth, tc netem); this process runs as uid ${process.getuid?.()}`);
  }
}

const base36 = (n: number, width: number) => n.toString(36).padStart(width, '0');

export function suiteNames(ownerPid: number, index: number): { namespace: string; hostVeth: string; namespaceVeth: string } {
  const veth = `${NETNS_PREFIX}${base36(ownerPid, 5)}${base36(index, 2)}`;
  return { namespace: `${NETNS_PREFIX}-${ownerPid}-${index}`, hostVeth: `${veth}h`, namespaceVeth: `${veth}n` };
}

/** The pid of the process that made a namespace or veth of the suite (undefined for any other name). */
export function ownerOf(name: string): number | undefined {
  const ns = new RegExp(`^${NETNS_PREFIX}-(\\d+)-\\d+$`).exec(name);
  if (ns) return Number(ns[1]);
  const veth = new RegExp(`^${NETNS_PREFIX}([0-9a-z]{5})[0-9a-z]{2}[hn]$`).exec(name);
  return veth ? parseInt(veth[1]!, 36) : undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The suite's namespaces and host veth ends that exist now, whoever made them. */
export function suiteLeftovers(): { namespaces: string[]; links: string[] } {
  const namespaces = ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(NETNS_PREFIX));
  const links = ip('-o', 'link', 'show')
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name.startsWith(NETNS_PREFIX));
  return { namespaces, links };
}

/** The third byte of every 10.231.x.y address on the host's interfaces (each pair's host end has one). */
export function usedSubnets(): Set<number> {
  const used = new Set<number>();
  const pattern = new RegExp(`inet ${ADDRESS_PREFIX.replace('.', '\\.')}\\.(\\d+)\\.`, 'g');
  for (const match of ip('-o', '-4', 'addr', 'show').matchAll(pattern)) used.add(Number(match[1]));
  return used;
}

export interface RemoveOptions {
  /** Remove exactly these (a namespace's own destroy). */
  only?: string[];
  /** Also remove what this process made (the end of a suite); otherwise only what dead processes left. */
  includeOwn?: boolean;
}

/**
 * Removes the suite's namespaces (after SIGKILLing every process still inside) and veth
 * pairs: those of processes that no longer run (a crashed run), those named in `only`, or
 * also this process' own with `includeOwn`. Returns what it removed.
 */
export async function removeSuiteNetworks(options: RemoveOptions = {}): Promise<{ namespaces: string[]; links: string[]; killed: number[] }> {
  const wanted = (name: string) => {
    if (options.only) return options.only.includes(name);
    const owner = ownerOf(name);
    if (owner === undefined) return false;
    return owner === process.pid ? options.includeOwn === true : !processAlive(owner);
  };
  const found = suiteLeftovers();
  const namespaces = found.namespaces.filter(wanted);
  const links = found.links.filter(wanted);
  const killed: number[] = [];
  for (const ns of namespaces) {
    for (const pid of namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // Gone already.
      }
    }
  }
  for (let waited = 0; killed.some(processAlive) && waited < 5_000; waited += 50) await sleep(50);
  for (const link of links) tryRun(() => ip('link', 'del', link));
  for (const ns of namespaces) tryRun(() => ip('netns', 'del', ns));
  return { namespaces, links, killed };
}

export function namespacePids(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function tryRun(action: () => unknown): void {
  try {
    action();
  } catch {
    // Removed meanwhile (deleting one veth end removes its peer too).
  }
}
