/**
 * A TCP forwarder run as a process of its own, on the host or inside a network namespace
 * (`ip netns exec <ns> node tcp-forwarder.ts '<routes>'`; node strips the types, so this
 * file imports nothing but node's own modules). Each route listens on one address and port
 * and pipes every connection to one target. Prints `ready` once every route listens.
 *
 * Its stdin is the control channel: each line `{"delayMs":n,"jitterMs":n}` sets the delay
 * every chunk waits, half of it each way, in order (the kernel of the test machines has no
 * netem). It exits when stdin closes: a test process that dies takes its forwarders along.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface ForwardRoute {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

export interface ForwardDelay {
  delayMs: number;
  jitterMs: number;
}

const delay: ForwardDelay = { delayMs: 0, jitterMs: 0 };

/**
 * Copies `from` to `to`, each chunk held for half the round-trip delay. One queue and one
 * timer per direction: timers of different lengths due at the same millisecond may fire in
 * either order, and a chunk overtaking an earlier one would corrupt the stream.
 */
function relay(from: Socket, to: Socket): void {
  const queue: { at: number; chunk: Buffer | 'end' }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    while (queue.length > 0 && queue[0]!.at <= performance.now()) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) continue;
      if (chunk === 'end') to.end();
      else to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, Math.max(1, Math.ceil(queue[0]!.at - performance.now())));
  };
  const push = (chunk: Buffer | 'end') => {
    const oneWay = delay.delayMs / 2 + (Math.random() * 2 - 1) * (delay.jitterMs / 2);
    // Never before the chunk ahead of it: jitter delays, it does not reorder.
    queue.push({ at: Math.max(queue[queue.length - 1]?.at ?? 0, performance.now() + Math.max(0, oneWay)), chunk });
    if (timer === undefined) drain();
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  // The end travels behind the data it follows.
  from.on('end', () => push('end'));
}

function connect(client: Socket, route: ForwardRoute): void {
  const upstream = createConnection({ host: route.targetHost, port: route.targetPort, allowHalfOpen: true });
  // Nagle on either hop would add delays of its own to the ones the test injects.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', closeBoth);
  upstream.on('error', closeBoth);
  client.on('close', closeBoth);
  upstream.on('close', closeBoth);
  relay(client, upstream);
  relay(upstream, client);
}

function listen(route: ForwardRoute): Promise<void> {
  return new Promise((done, fail) => {
    const server = createServer({ allowHalfOpen: true }, (client) => connect(client, route));
    server.once('error', fail);
    server.listen(route.listenPort, route.listenHost, () => done());
  });
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const routes = JSON.parse(process.argv[2] ?? '[]') as ForwardRoute[];
  const control = createInterface({ input: process.stdin });
  control.on('line', (line) => Object.assign(delay, JSON.parse(line) as ForwardDelay));
  control.on('close', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  Promise.all(routes.map(listen)).then(
    () => process.stdout.write('ready\n'),
    (err: Error) => {
      process.stderr.write(`tcp-forwarder: ${err.message}\n`);
      process.exit(1);
    },
  );
}
