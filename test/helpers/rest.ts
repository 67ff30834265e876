import { request as httpsRequest } from 'node:https';

/** One JSON call to a worker's REST API: status and parsed body. */
export async function restCall(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** One JSON call over HTTPS trusting `ca` (a self-signed worker certificate), with extra headers (credentials). */
export function secureCall(
  url: string,
  method: string,
  path: string,
  options: { ca: Buffer; headers?: Record<string, string>; body?: unknown },
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, url),
      {
        method,
        ca: options.ca,
        headers: { ...(options.headers ?? {}), ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
