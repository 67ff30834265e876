/**
 * Network faults for one process (the nemesis toolkit): a network namespace of its own,
 * joined to the host by a veth pair the test can cut, make lossy and slow down, then heal.
 * Loopback and namespaces only: the pair's /30 lies in 10.231.0.0/16 and exists only
 * between the host and namespaces this suite creates.
 *
 * The stack (Kafka, S3Proxy, KMS) listens on the host's 127.0.0.1, and Kafka advertises
 * 127.0.0.1 too, which inside a namespace is the namespace's own loopback. So two TCP
 * forwarders (tcp-forwarder.ts) carry every connection across the veth: inside, one listens
 * on 127.0.0.1:<port> for each host port and forwards to the host's veth address; on the
 * host, one listens on that address and forwards to 127.0.0.1:<port>. Ports the namespace
 * serves (a worker's REST port) go the other way round, so the test keeps using
 * http://127.0.0.1:<port>. Forwarders rather than iptables DNAT + route_localnet: nothing
 * of the host's firewall or sysctls is touched, and a crashed run leaves nothing to revert
 * (a forwarder exits when its parent's pipe closes).
 *
 * The test machines' kernel has no netem (nor gact, nor nftables tools), so:
 * - cut and loss drop packets in the kernel, inside the namespace: tc u32 filters on both
 *   directions of the namespace's veth end redirect the chosen packets to a veth pair of
 *   the namespace's own, whose far end discards them. Nothing is refused or reset; the
 *   packets vanish, as across a dead switch, and TCP retransmits.
 * - delay is the namespace forwarder's: it holds every chunk, in order, before passing it on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import type { ForwardDelay, ForwardRoute } from './tcp-forwarder.js';
import { ADDRESS_PREFIX, ip, namespacePids, processAlive, removeSuiteNetworks, requireRoot, suiteNames, tc, usedSubnets } from './netns-host.js';

export { NETNS_PREFIX, removeSuiteNetworks, suiteLeftovers } from './netns-host.js';

const FORWARDER = resolve(import.meta.dirname, 'tcp-forwarder.ts');

export interface NetNamespaceOptions {
  /** Ports served on the host's 127.0.0.1 (Kafka, S3, KMS, other workers' REST) that the namespace reaches at its own 127.0.0.1:<port>. */
  hostPorts: number[];
  /** Ports served on the namespace's 127.0.0.1 (its worker's REST port) that the host reaches at 127.0.0.1:<port>. */
  exposedPorts?: number[];
}

/** What the link suffers right now. */
export interface Impairment {
  /** Added to each round trip of the namespace's connections (half each way). */
  delayMs: number;
  jitterMs: number;
  /** Percent of the packets lost, in each direction; 100 is a cut. */
  lossPercent: number;
}

/** The namespace's own veth pair that swallows the dropped packets (its far end has no address). */
const SINK = 'nemsink';
const SINK_PEER = 'nemsink-peer';

const NONE: Impairment = { delayMs: 0, jitterMs: 0, lossPercent: 0 };
let created = 0;

export class NetNamespace {
  private readonly forwarders: ChildProcess[] = [];
  /** The forwarder inside, which also holds back the delayed data. */
  private namespaceForwarder: ChildProcess | undefined;
  private impairment: Impairment = { ...NONE };
  private destroyed = false;

  private constructor(
    readonly name: string,
    readonly hostVeth: string,
    readonly namespaceVeth: string,
    /** The host's end of the pair, as the namespace sees it. */
    readonly hostAddress: string,
    readonly namespaceAddress: string,
  ) {}

  /** Creates the namespace, the veth pair and both forwarders; on any failure removes what it made. */
  static async create(options: NetNamespaceOptions): Promise<NetNamespace> {
    requireRoot();
    const names = suiteNames(process.pid, created++);
    const subnet = freeSubnet();
    const ns = new NetNamespace(names.namespace, names.hostVeth, names.namespaceVeth, `${ADDRESS_PREFIX}.${subnet}.1`, `${ADDRESS_PREFIX}.${subnet}.2`);
    try {
      ip('netns', 'add', ns.name);
      ip('link', 'add', ns.hostVeth, 'type', 'veth', 'peer', 'name', ns.namespaceVeth, 'netns', ns.name);
      ip('addr', 'add', `${ns.hostAddress}/30`, 'dev', ns.hostVeth);
      ip('link', 'set', ns.hostVeth, 'up');
      ip('-n', ns.name, 'addr', 'add', `${ns.namespaceAddress}/30`, 'dev', ns.namespaceVeth);
      ip('-n', ns.name, 'link', 'set', ns.namespaceVeth, 'up');
      ip('-n', ns.name, 'link', 'set', 'lo', 'up');
      ip('-n', ns.name, 'link', 'add', SINK, 'type', 'veth', 'peer', 'name', SINK_PEER);
      ip('-n', ns.name, 'link', 'set', SINK, 'up');
      ip('-n', ns.name, 'link', 'set', SINK_PEER, 'up');
      tc('-n', ns.name, 'qdisc', 'add', 'dev', ns.namespaceVeth, 'clsact');
      const hostPorts = [...new Set(options.hostPorts)];
      const exposed = [...new Set(options.exposedPorts ?? [])];
      const route = (listenHost: string, listenPort: number, targetHost: string): ForwardRoute => ({
        listenHost,
        listenPort,
        targetHost,
        targetPort: listenPort,
      });
      await ns.startForwarder(
        [],
        [...hostPorts.map((p) => route(ns.hostAddress, p, '127.0.0.1')), ...exposed.map((p) => route('127.0.0.1', p, ns.namespaceAddress))],
      );
      ns.namespaceForwarder = await ns.startForwarder(ns.execPrefix(), [
        ...hostPorts.map((p) => route('127.0.0.1', p, ns.hostAddress)),
        ...exposed.map((p) => route(ns.namespaceAddress, p, '127.0.0.1')),
      ]);
      return ns;
    } catch (err) {
      await ns.destroy().catch(() => undefined);
      throw err;
    }
  }

  /** The command prefix that runs a program inside the namespace (`ip netns exec` execs it: the pid is the program's). */
  execPrefix(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** A partition: every packet either way vanishes (connections hang and time out; nothing is refused). */
  cut(): void {
    this.apply({ ...this.impairment, lossPercent: 100 });
  }

  /** Ends every impairment (cut, delay, loss). */
  heal(): void {
    this.apply({ ...NONE });
  }

  /** Each round trip takes `ms` longer, give or take `jitterMs`. */
  delay(ms: number, jitterMs = 0): void {
    this.apply({ ...this.impairment, delayMs: ms, jitterMs });
  }

  /** Loses `percent` of the packets in each direction. */
  loss(percent: number): void {
    this.apply({ ...this.impairment, lossPercent: percent });
  }

  current(): Impairment {
    return { ...this.impairment };
  }

  /** The processes living in the namespace (the forwarder, a worker, ...). */
  pids(): number[] {
    return this.destroyed ? [] : namespacePids(this.name);
  }

  /** Stops the forwarders, SIGKILLs whatever else still runs inside, removes the veth pair and the namespace. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await Promise.all(this.forwarders.map(stopProcess));
    await removeSuiteNetworks({ only: [this.name, this.hostVeth] });
    this.destroyed = true;
  }

  /** The forwarders' process ids (host side first), for tests that prove nothing is left behind. */
  forwarderPids(): number[] {
    return this.forwarders.map((f) => f.pid).filter((pid): pid is number => pid !== undefined);
  }

  private apply(next: Impairment): void {
    for (const direction of ['ingress', 'egress']) {
      const filters = tc('-n', this.name, 'filter', 'show', 'dev', this.namespaceVeth, direction);
      if (filters.trim() !== '') tc('-n', this.name, 'filter', 'del', 'dev', this.namespaceVeth, direction);
      for (const [value, mask] of lossMatches(next.lossPercent)) {
        tc(
          '-n',
          this.name,
          'filter',
          'add',
          'dev',
          this.namespaceVeth,
          direction,
          'protocol',
          'ip',
          'u32',
          'match',
          'u16',
          hex(value),
          hex(mask),
          'at',
          '4',
          'action',
          'mirred',
          'egress',
          'redirect',
          'dev',
          SINK,
        );
      }
    }
    if (next.delayMs !== this.impairment.delayMs || next.jitterMs !== this.impairment.jitterMs) {
      const control: ForwardDelay = { delayMs: next.delayMs, jitterMs: next.jitterMs };
      this.namespaceForwarder?.stdin?.write(`${JSON.stringify(control)}\n`);
    }
    this.impairment = next;
  }

  private async startForwarder(prefix: string[], routes: ForwardRoute[]): Promise<ChildProcess> {
    const command = [...prefix, process.execPath, FORWARDER, JSON.stringify(routes)];
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.forwarders.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`forwarder in ${prefix.length ? this.name : 'the host'} not ready within 10 s: ${stderr}`)), 10_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        if (line === 'ready') done();
        else fail(new Error(`forwarder said ${line}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`forwarder in ${prefix.length ? this.name : 'the host'} exited with ${code}: ${stderr.trim()}`));
      });
    });
    return child;
  }
}

const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

/**
 * u32 matches (value, mask) on the IP header's identification field selecting `percent`
 * of its values, to 1/256. The identification counts up per connection, so matching its
 * low bits spreads the drops evenly (about one packet in 100 / percent) instead of in
 * bursts: each power of two in the share fixes one more low bit, to values that never
 * overlap (aligned blocks of the bit-reversed byte). Identification 0 is never matched
 * below 100%: the kernel sends every SYN-ACK and reset with 0, and a connection whose
 * SYN-ACK is always lost would never open. 100 matches everything: a cut.
 */
export function lossMatches(percent: number): [number, number][] {
  const share = Math.round((Math.min(100, Math.max(0, percent)) * 256) / 100);
  if (share >= 256) return [[0, 0]];
  const matches: [number, number][] = [];
  // The blocks tile [256 - share, 256) of the reversed byte, which holds no 0.
  let reversedStart = 256 - share;
  for (let bit = 0; bit < 8; bit++) {
    if ((share & (1 << bit)) === 0) continue;
    const fixedBits = 8 - bit;
    const prefix = reversedStart >> bit;
    let value = 0;
    for (let i = 0; i < fixedBits; i++) if (prefix & (1 << i)) value |= 1 << (fixedBits - 1 - i);
    matches.push([value, (1 << fixedBits) - 1]);
    reversedStart += 1 << bit;
  }
  return matches;
}

/** A /30 of the range that no veth of this host uses yet. */
function freeSubnet(): number {
  const used = usedSubnets();
  for (let n = 0; n < 256; n++) if (!used.has(n)) return n;
  throw new Error(`every /30 of ${ADDRESS_PREFIX}.0.0/16 the suite uses is taken; leftovers? (removeSuiteNetworks)`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const ended = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => processAlive(child.pid!) && child.kill('SIGKILL'), 3_000);
  await ended;
  clearTimeout(timer);
}
