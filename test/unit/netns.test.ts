/**
 * The nemesis network toolkit (test/nemesis/netns.ts) on the real kernel: a namespace whose
 * only way out is a veth pair the test cuts, heals and slows down, with TCP forwarders that
 * make the host's 127.0.0.1 services reachable inside and the namespace's own served on the
 * host. Needs root, as the CI machine has: without it the first test fails saying so.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/worker-process.js';
import { ip, processAlive, suiteNames, tc } from '../nemesis/netns-host.js';
import { lossMatches, NetNamespace, removeSuiteNetworks, suiteLeftovers } from '../nemesis/netns.js';
import { ping, type PingResult } from '../nemesis/tcp-probe.js';

const PROBE = resolve(import.meta.dirname, '../nemesis/tcp-probe.ts');
const NO_ECHO_MS = 1_500;

/** Pings from inside the namespace (a process of its own, so this one's event loop keeps echoing). */
function pingFrom(ns: NetNamespace, port: number, timeoutMs = NO_ECHO_MS): Promise<PingResult> {
  const [command, ...args] = [...ns.execPrefix(), process.execPath, PROBE, 'ping', '127.0.0.1', String(port), String(timeoutMs)];
  return new Promise((done, fail) =>
    execFile(command!, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? fail(new Error(`${err.message}: ${stderr}`)) : done(JSON.parse(stdout) as PingResult),
    ),
  );
}

/** Writes `count` numbered lines a few ms apart through `port` (an echo behind it) and returns the lines echoed. */
function streamThrough(port: number, count: number): Promise<string[]> {
  return new Promise((done, fail) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let echoed = '';
    socket.on('data', (chunk) => {
      echoed += chunk.toString();
      const lines = echoed.split('\n').slice(0, -1);
      if (lines.length >= count) {
        socket.destroy();
        done(lines);
      }
    });
    socket.on('error', fail);
    socket.on('connect', async () => {
      for (let i = 0; i < count; i++) {
        socket.write(`${i}\n`);
        await new Promise((r) => setTimeout(r, 3));
      }
    });
  });
}

/** A process that has ended, so its pid names a run that crashed. */
function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((done) => child.once('exit', () => done(child.pid!)));
}

describe('nemesis: a process in its own network namespace, behind a veth the test can cut', () => {
  let echo: Server;
  let echoPort: number;
  let insidePort: number;
  let insideEcho: ChildProcess | undefined;
  let ns: NetNamespace | undefined;

  beforeAll(async () => {
    await removeSuiteNetworks();
    echoPort = await freePort();
    insidePort = await freePort();
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((done) => echo.listen(echoPort, '127.0.0.1', done));
  });

  afterAll(async () => {
    insideEcho?.kill('SIGKILL');
    await ns?.destroy();
    await removeSuiteNetworks({ includeOwn: true });
    echo?.close();
  });

  it('creates a namespace that reaches the host through the forwarders, and serves the host', async () => {
    expect(process.getuid?.(), 'these tests create namespaces and veth pairs: run them as root').toBe(0);
    ns = await NetNamespace.create({ hostPorts: [echoPort], exposedPorts: [insidePort] });
    expect(ip('netns', 'list')).toContain(ns.name);
    expect(ip('-o', '-4', 'addr', 'show', 'dev', ns.hostVeth)).toContain(`${ns.hostAddress}/30`);
    expect(ns.hostAddress).toMatch(/^10\.231\.\d+\.1$/);
    expect(await pingFrom(ns, echoPort)).toMatchObject({ ok: true });

    insideEcho = spawn(ns.execPrefix()[0]!, [...ns.execPrefix().slice(1), process.execPath, PROBE, 'echo', '127.0.0.1', String(insidePort)], { stdio: 'pipe' });
    await new Promise<void>((done) => insideEcho!.stdout!.once('data', () => done()));
    expect(ns.pids()).toContain(insideEcho.pid);
    expect(await ping('127.0.0.1', insidePort, NO_ECHO_MS)).toMatchObject({ ok: true });
  });

  it('cut: nothing gets through either way; heal: both ways work again', async () => {
    ns!.cut();
    expect(ns!.current().lossPercent).toBe(100);
    expect(await pingFrom(ns!, echoPort)).toMatchObject({ ok: false });
    expect(await ping('127.0.0.1', insidePort, NO_ECHO_MS)).toMatchObject({ ok: false });
    ns!.heal();
    expect(tc('-n', ns!.name, 'filter', 'show', 'dev', ns!.namespaceVeth, 'egress')).toBe('');
    // A SYN lost during the cut is retried after 1 s: give the first ping time for that.
    expect(await pingFrom(ns!, echoPort, 5_000)).toMatchObject({ ok: true });
    expect(await ping('127.0.0.1', insidePort, 5_000)).toMatchObject({ ok: true });
  });

  it('delay: every round trip takes at least the delay longer; loss drops a share of the packets both ways', async () => {
    ns!.delay(200);
    const inside = await pingFrom(ns!, echoPort, 5_000);
    const outside = await ping('127.0.0.1', insidePort, 5_000);
    expect(inside.ok && outside.ok).toBe(true);
    expect(inside.rttMs).toBeGreaterThanOrEqual(200);
    expect(outside.rttMs).toBeGreaterThanOrEqual(200);
    // Jitter delays each chunk differently, yet the stream arrives whole and in order.
    ns!.delay(200, 150);
    expect(await streamThrough(insidePort, 100)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    ns!.loss(10);
    // (u32 lists the filters of both directions under each: they share the qdisc's tables.)
    const filters = tc('-n', ns!.name, 'filter', 'show', 'dev', ns!.namespaceVeth, 'egress');
    expect(filters.match(/mirred \(Egress Redirect to device nemsink\)/g)?.length).toBe(2 * lossMatches(10).length);
    // Packets get lost (the sink's far end receives them), and TCP delivers everything all the same.
    const sunk = () => Number(/RX:.*\n\s*\d+\s+(\d+)/.exec(ip('-n', ns!.name, '-s', 'link', 'show', 'nemsink-peer'))?.[1]);
    const before = sunk();
    const echoes: PingResult[] = [];
    for (let i = 0; i < 30; i++) echoes.push(await ping('127.0.0.1', insidePort, 5_000));
    expect(echoes.filter((e) => !e.ok)).toEqual([]);
    expect(sunk()).toBeGreaterThan(before);
    ns!.heal();
    expect(ns!.current()).toEqual({ delayMs: 0, jitterMs: 0, lossPercent: 0 });
  });

  it('destroy removes the namespace, the veth pair and every process inside', async () => {
    const created = ns!;
    const processes = [...created.forwarderPids(), insideEcho!.pid!];
    await created.destroy();
    ns = undefined;
    const left = suiteLeftovers();
    expect(left.namespaces).not.toContain(created.name);
    expect(left.links).not.toContain(created.hostVeth);
    expect(ip('netns', 'list')).not.toContain(created.name);
    expect(ip('-o', 'link', 'show')).not.toContain(created.hostVeth);
    expect(processes.filter(processAlive)).toEqual([]);
  });

  it('the global cleanup removes what a crashed run left, and nothing of a live one', async () => {
    const crashed = suiteNames(await deadPid(), 0);
    ip('netns', 'add', crashed.namespace);
    ip('link', 'add', crashed.hostVeth, 'type', 'veth', 'peer', 'name', crashed.namespaceVeth, 'netns', crashed.namespace);
    const stranded = spawn('ip', ['netns', 'exec', crashed.namespace, 'sleep', '600'], { stdio: 'ignore', detached: true });
    const live = suiteNames(process.ppid, 1295);
    ip('netns', 'add', live.namespace);
    try {
      await new Promise((done) => setTimeout(done, 200));
      const removed = await removeSuiteNetworks();
      expect(removed.namespaces).toEqual([crashed.namespace]);
      expect(removed.links).toEqual([crashed.hostVeth]);
      expect(removed.killed).toContain(stranded.pid);
      const left = suiteLeftovers();
      expect(left.namespaces).toContain(live.namespace);
      expect(left.namespaces).not.toContain(crashed.namespace);
      expect(left.links).not.toContain(crashed.hostVeth);
      expect(processAlive(stranded.pid!)).toBe(false);
    } finally {
      await removeSuiteNetworks({ only: [live.namespace, crashed.namespace, crashed.hostVeth] });
    }
    const ours = [live.namespace, crashed.namespace, crashed.hostVeth];
    const left = suiteLeftovers();
    expect([...left.namespaces, ...left.links].filter((name) => ours.includes(name))).toEqual([]);
  });
});

describe('lossMatches: which IP identifications a loss share drops', () => {
  const dropped = (percent: number) =>
    Array.from({ length: 256 }, (_, id) => id).filter((id) => lossMatches(percent).some(([value, mask]) => (id & mask) === value));

  it('drops percent of the 256 low-byte values, to 1/256, with no value matched twice', () => {
    for (const percent of [0, 1, 10, 25, 33, 50, 99.9]) {
      const count = lossMatches(percent).reduce((n, [, mask]) => n + 256 / (mask + 1), 0);
      expect(dropped(percent).length, `${percent}%`).toBe(Math.round((percent * 256) / 100));
      expect(count, `${percent}%: the matches overlap`).toBe(dropped(percent).length);
    }
    expect(lossMatches(100)).toEqual([[0, 0]]);
  });

  it('spreads the drops: 10% never drops more than 2 consecutive identifications', () => {
    const set = new Set(dropped(10));
    const runs = Array.from({ length: 256 }, (_, id) => [0, 1, 2].every((k) => set.has((id + k) % 256)));
    expect(runs.some(Boolean)).toBe(false);
  });

  it('never drops identification 0 (every SYN-ACK) short of a cut', () => {
    for (const percent of [1, 10, 50, 99]) expect(dropped(percent), `${percent}%`).not.toContain(0);
    expect(dropped(100)).toContain(0);
  });
});
