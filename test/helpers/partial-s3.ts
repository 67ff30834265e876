import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3ObjectStore } from '../../connectors/common/object-store/s3-object-store.js';

/** One request the server saw: method, path, and whether it was a conditional create. */
export interface SeenRequest {
  method: string;
  path: string;
  conditional: boolean;
}

/**
 * A tiny in-memory S3-compatible server over real HTTP, for fault injection: it answers
 * 501 NotImplemented to the requests `refuse` picks, as a server lacking an operation
 * does, and serves the rest (HEAD/GET/PUT/DELETE of objects, HEAD/PUT of buckets,
 * ListObjectsV2 without paging) well enough for the S3 object store.
 */
export class PartialS3 {
  readonly seen: SeenRequest[] = [];
  private readonly objects = new Map<string, { body: Buffer; metadata: Record<string, string> }>();
  private server: Server | undefined;

  constructor(private readonly refuse: (request: SeenRequest) => boolean) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://s3');
        const path = decodeURIComponent(url.pathname);
        const seen = { method: req.method ?? '', path, conditional: req.headers['if-none-match'] === '*' };
        this.seen.push(seen);
        if (this.refuse(seen)) {
          res.writeHead(501, { 'content-type': 'application/xml' });
          return void res.end(
            '<?xml version="1.0"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>',
          );
        }
        this.answer(req, url, path, Buffer.concat(chunks), res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private answer(req: IncomingMessage, url: URL, path: string, body: Buffer, res: ServerResponse): void {
    const [, bucket = '', ...rest] = path.split('/');
    const key = rest.join('/');
    const id = `${bucket}/${key}`;
    if (!key) {
      if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const after = url.searchParams.get('start-after') ?? '';
        const keys = [...this.objects.keys()]
          .filter((k) => k.startsWith(`${bucket}/`))
          .map((k) => k.slice(bucket.length + 1))
          .filter((k) => k.startsWith(prefix) && k > after)
          .sort();
        const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>${this.objects.get(`${bucket}/${k}`)!.body.length}</Size></Contents>`).join('');
        res.writeHead(200, { 'content-type': 'application/xml' });
        return void res.end(
          `<?xml version="1.0"?><ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
        );
      }
      res.writeHead(200);
      return void res.end();
    }
    const found = this.objects.get(id);
    if (req.method === 'PUT') {
      if (req.headers['if-none-match'] === '*' && found) {
        res.writeHead(412);
        return void res.end();
      }
      const metadata = Object.fromEntries(Object.entries(req.headers).flatMap(([h, v]) => (h.startsWith('x-amz-meta-') ? [[h.slice(11), String(v)]] : [])));
      this.objects.set(id, { body, metadata });
      res.writeHead(200, { etag: '"0"' });
      return void res.end();
    }
    if (req.method === 'DELETE') {
      this.objects.delete(id);
      res.writeHead(204);
      return void res.end();
    }
    if (!found) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      return void res.end(req.method === 'HEAD' ? undefined : '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>');
    }
    const headers = {
      'content-length': String(found.body.length),
      ...Object.fromEntries(Object.entries(found.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
    };
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : found.body);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A coldstore S3 store against a test server at `endpoint` (path style, dummy credentials). */
export function s3StoreAt(endpoint: string): S3ObjectStore {
  return new S3ObjectStore({
    endpoint,
    region: 'us-east-1',
    pathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    checksums: 'when_required',
    multipartThresholdBytes: 16 * 1024 * 1024,
    partSizeBytes: 8 * 1024 * 1024,
  });
}
