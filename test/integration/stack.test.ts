/**
 * Proves the local stack is made of real servers, using independent clients (kcat and the
 * aws CLI) rather than our own code: a message round-trips through Kafka and an object
 * through S3Proxy, byte for byte.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';

const stack = inject('stack');

interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs a CLI, feeding `input` on stdin; rejects with its stderr on failure. */
function run(cmd: string, args: string[], input?: Buffer, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr.toString()}`));
      else resolve({ stdout, stderr: stderr.toString() });
    });
    child.stdin?.end(input);
  });
}

describe('local test stack', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'coldstore-stack-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('exposes its endpoints to tests', () => {
    expect(process.env.COLDSTORE_TEST_KAFKA).toBe(stack.kafkaBootstrap);
    expect(process.env.COLDSTORE_TEST_S3).toBe(stack.s3Endpoint);
    expect(process.env.COLDSTORE_TEST_KMS).toBe(stack.kmsEndpoint);
    expect(new URL(stack.kmsEndpoint).hostname).toBe('127.0.0.1');
  });

  it('round-trips a message through the real Kafka broker (kcat)', async () => {
    const topic = `stack-smoke-${Date.now()}-${randomBytes(3).toString('hex')}`;
    // kcat -P splits stdin on newlines; hex keeps it one message, the UTF-8 checks bytes.
    const payload = Buffer.from(`coldstore ✓ ${randomBytes(16).toString('hex')}`, 'utf8');
    // The broker auto-creates the topic on first produce (auto.create.topics.enable=true).
    await run('kcat', ['-P', '-b', stack.kafkaBootstrap, '-t', topic], payload);
    const { stdout } = await run('kcat', ['-C', '-b', stack.kafkaBootstrap, '-t', topic, '-o', 'beginning', '-c', '1', '-e', '-f', '%s']);
    expect(stdout.equals(payload)).toBe(true);

    const { stdout: meta } = await run('kcat', ['-L', '-J', '-b', stack.kafkaBootstrap, '-t', topic]);
    const topics = (JSON.parse(meta.toString()) as { topics: { topic: string }[] }).topics;
    expect(topics.map((t) => t.topic)).toContain(topic);
  }, 60_000);

  it('round-trips an object through the real S3Proxy (aws CLI)', async () => {
    const env: NodeJS.ProcessEnv = {
      AWS_ACCESS_KEY_ID: stack.s3AccessKey,
      AWS_SECRET_ACCESS_KEY: stack.s3SecretKey,
      AWS_DEFAULT_REGION: stack.s3Region,
      // Hermetic: no profile or credentials from the developer's ~/.aws.
      AWS_CONFIG_FILE: join(tmp, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'none'),
    };
    const s3api = (...args: string[]) => run('aws', ['--endpoint-url', stack.s3Endpoint, 's3api', ...args], undefined, env);
    const bucket = `stack-smoke-${Date.now()}-${randomBytes(3).toString('hex')}`;
    const body = randomBytes(64 * 1024);
    writeFileSync(join(tmp, 'in.bin'), body);

    await s3api('create-bucket', '--bucket', bucket);
    await s3api('put-object', '--bucket', bucket, '--key', 'dir/object.bin', '--body', join(tmp, 'in.bin'));
    await s3api('get-object', '--bucket', bucket, '--key', 'dir/object.bin', join(tmp, 'out.bin'));

    expect(readFileSync(join(tmp, 'out.bin')).equals(body)).toBe(true);
  }, 60_000);
});
