/**
 * A tiny TCP echo server and client for checking a network namespace's links from either
 * side; run with node (types stripped), e.g. inside a namespace with `ip netns exec`.
 *   node tcp-probe.ts echo <host> <port>          echoes every connection; prints `ready`
 *   node tcp-probe.ts ping <host> <port> <ms>     connects, sends a line, waits for it back
 * `ping` prints one JSON line: {"ok":true,"rttMs":n} or {"ok":false,"error":"..."} when no
 * echo came within <ms> (a connection through a forwarder may be accepted and then hang).
 */
import { createConnection, createServer } from 'node:net';

export interface PingResult {
  ok: boolean;
  rttMs?: number;
  error?: string;
}

export function ping(host: string, port: number, timeoutMs: number): Promise<PingResult> {
  return new Promise((done) => {
    const started = performance.now();
    const socket = createConnection({ host, port });
    socket.setNoDelay(true);
    const finish = (result: PingResult) => {
      clearTimeout(timer);
      socket.destroy();
      done(result);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `no echo within ${timeoutMs} ms` }), timeoutMs);
    let received = '';
    socket.on('connect', () => socket.write('ping\n'));
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.includes('\n')) finish({ ok: true, rttMs: Math.round(performance.now() - started) });
    });
    socket.on('error', (err) => finish({ ok: false, error: err.message }));
    socket.on('close', () => finish({ ok: false, error: 'closed before the echo' }));
  });
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [mode, host = '127.0.0.1', port = '0', timeout = '2000'] = process.argv.slice(2);
  if (mode === 'echo') {
    process.stdin.on('close', () => process.exit(0));
    process.stdin.resume();
    const server = createServer((socket) => socket.pipe(socket));
    server.listen(Number(port), host, () => process.stdout.write('ready\n'));
  } else {
    ping(host, Number(port), Number(timeout)).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
  }
}
