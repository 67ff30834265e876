// `coldstore verify`, `inspect` and `ls` run as child processes (the CLI entry point,
// through tsx) against backups written the way BackupSink writes them: in the local
// store, and once in S3 with a shared bucket.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Location } from '../../connectors/common/backup-location.js';
import type { ManifestObject } from '../../connectors/common/formats/backup-manifest.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { createObjectStore, storeConfig } from '../../connectors/common/object-store/store-config.js';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { writeAzulFixture, type WrittenAzulFixture } from '../helpers/azul-verify-fixture.js';
import { backUpPartition, writeManifest } from '../helpers/backup-fixture.js';
import { s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'app/cli/main.cts');
const BACKUP_ID = 5;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function coldstore(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        done({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const sizes = (objects: ManifestObject[]) => objects.reduce((n, o) => n + o.size, 0);
const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('coldstore verify, inspect and ls on a local-store backup', () => {
  const dir = tmpDir('cli-store');
  const root = join(dir, 'objects');
  const label = 'cli-test';
  const bucket = `coldstore-${label}-events`;
  const location: Location = { bucket, prefix: '' };
  /** The label comes through a placeholder, as a real connector file might have it. */
  const env = { COLDSTORE_TEST_LABEL: label };
  const configPath = join(dir, 'backup.json');
  let orders0: ManifestObject[];
  let orders1: ManifestObject[];

  beforeAll(async () => {
    const store = new LocalObjectStore(root);
    orders0 = await backUpPartition(
      store,
      location,
      'orders',
      0,
      Array.from({ length: 30 }, (_, i) => i),
      10,
    );
    orders1 = await backUpPartition(store, location, 'orders', 1, [2, 3, 5, 8], 3);
    await writeManifest(store, location, BACKUP_ID, [
      { topic: 'orders', partition: 0, startOffset: 0, endOffset: 30, objects: orders0 },
      { topic: 'orders', partition: 1, startOffset: 0, endOffset: 9, objects: orders1 },
    ]);
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'orders-backup',
        config: {
          'connector.class': 'BackupSink',
          topics: 'orders',
          'storage.type': 'local',
          'local.root': root,
          'backup.label': '${env:COLDSTORE_TEST_LABEL}',
        },
      }),
    );
  }, 60_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the fixture: orders/0 in 3 bundles, orders/1 (records 2, 3, 5, 8) in 2', () => {
    expect(orders0.map((o) => [o.rangeStart, o.rangeEnd])).toEqual([
      [0, 9],
      [10, 19],
      [20, 29],
    ]);
    expect(orders1.map((o) => [o.rangeStart, o.rangeEnd, o.records])).toEqual([
      [2, 5, 3],
      [6, 8, 1],
    ]);
  });

  for (const command of ['verify', 'inspect', 'ls']) {
    it(`${command} --help explains the command and its options, exit 0`, async () => {
      const run = await coldstore([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: coldstore ${command} [options]`);
      expect(run.stdout).toContain('--config <connector.json>');
      expect(run.stdout).toContain('--json');
      expect(run.stdout).toMatch(/Exit code|FIRST\/LAST/);
    });
  }

  it('verify: the continuous backup is fine, exit 0', async () => {
    const run = await coldstore(['verify', '--config', configPath], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Continuous backup in bucket ${bucket}: 2 partitions, 5 objects`);
    expect(run.stdout).toContain('34 records checked');
    expect(run.stdout).toContain('OK');
  });

  it('verify --backup --json: the report, with a note for the first bundle of orders/1 starting after offset 0', async () => {
    const run = await coldstore(['verify', '--config', configPath, '--backup', String(BACKUP_ID), '--json', '--concurrency', '2'], env);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      backupId: BACKUP_ID,
      ok: true,
      bucket,
      manifests: 1,
      partitions: 2,
      objects: 5,
      records: 34,
      bytes: sizes([...orders0, ...orders1]),
      problems: [],
    });
    expect(report['notes']).toEqual([expect.stringMatching(/^orders\/1: the backup starts at offset 2, after the log start offset 0/)]);
  });

  it('inspect prints the records as JSON lines; --limit and --encoding apply', async () => {
    const run = await coldstore(['inspect', '--config', configPath, orders0[0]!.key], env);
    expect(run.code).toBe(0);
    const records = jsonLines(run.stdout);
    expect(records.map((r) => r['offset'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(records[0]).toEqual({
      topic: 'orders',
      partition: 0,
      offset: 0,
      timestamp: 1_700_000_000_000,
      timestampType: 'LOG_APPEND_TIME',
      key: null,
      value: '//4A',
      valueEncoding: 'base64',
      headers: [{ key: 'h', value: null }],
    });
    expect(records[2]).toEqual({
      topic: 'orders',
      partition: 0,
      offset: 2,
      timestamp: 1_700_000_000_002,
      timestampType: 'CREATE_TIME',
      key: 'k2',
      value: 'value 2 ✓',
      headers: [{ key: 'n', value: '2' }],
    });

    const limited = await coldstore(['inspect', '--config', configPath, '--limit', '2', '--encoding', 'hex', orders1[0]!.key], env);
    expect(limited.code).toBe(0);
    expect(jsonLines(limited.stdout)).toMatchObject([
      { offset: 2, key: Buffer.from('k2').toString('hex'), headers: [{ key: 'n', value: '32' }] },
      { offset: 3, key: null, value: Buffer.from('value 3 ✓').toString('hex') },
    ]);
  });

  it('ls --json: per partition the offset range, objects, records and exact bytes', async () => {
    const run = await coldstore(['ls', '--config', configPath, '--json'], env);
    expect(run.code).toBe(0);
    const description = JSON.parse(run.stdout) as { topics: { topic: string; partitions: unknown[] }[] };
    expect(description).toMatchObject({ backupId: null, bucket, objects: 5, records: 34, bytes: sizes([...orders0, ...orders1]), foreignObjects: 0 });
    expect(description.topics.map((t) => t.topic)).toEqual(['orders']);
    expect(description.topics[0]!.partitions).toEqual([
      { partition: 0, objects: 3, records: 30, bytes: sizes(orders0), firstOffset: 0, lastOffset: 29 },
      { partition: 1, objects: 2, records: 4, bytes: sizes(orders1), firstOffset: 2, lastOffset: 8 },
    ]);
  });

  it('ls --backup: the cut as the range, from the manifest; ls --backups lists the ids', async () => {
    const byId = await coldstore(['ls', '--config', configPath, '--backup', String(BACKUP_ID), '--json', 'orders'], env);
    expect(byId.code).toBe(0);
    const description = JSON.parse(byId.stdout) as {
      backupId: number;
      topics: { partitions: { partition: number; firstOffset: number; lastOffset: number }[] }[];
    };
    expect(description.backupId).toBe(BACKUP_ID);
    expect(description.topics[0]!.partitions.map((p) => [p.partition, p.firstOffset, p.lastOffset])).toEqual([
      [0, 0, 29],
      [1, 0, 8],
    ]);

    const ids = await coldstore(['ls', '--config', configPath, '--backups', '--json'], env);
    expect(ids.code).toBe(0);
    expect(JSON.parse(ids.stdout)).toEqual({ bucket, backupIds: [BACKUP_ID] });
  });

  it('ls prints a table with human-readable sizes, and --objects the keys', async () => {
    const run = await coldstore(['ls', '--config', configPath, '--objects'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[1]).toMatch(/^TOPIC\s+PARTITION\s+FIRST\s+LAST\s+OBJECTS\s+RECORDS\s+SIZE$/);
    expect(lines[2]).toMatch(new RegExp(`^orders\\s+0\\s+0\\s+29\\s+3\\s+30\\s+${(sizes(orders0) / 1024).toFixed(1)} KiB$`));
    expect(lines[3]).toMatch(new RegExp(`^orders\\s+1\\s+2\\s+8\\s+2\\s+4\\s+${sizes(orders1)} B$`));
    for (const object of [...orders0, ...orders1]) expect(run.stdout).toContain(object.key);
  });

  it('a bad connector file: every bad field named, exit 2', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        name: 'x',
        'connector.class': 'FileStreamSink',
        'storage.type': 'floppy',
        'backup.label': 'Not_Valid',
        's3.endpoint': 'no url',
        'bucket.prefix': '${env:COLDSTORE_TEST_UNSET_VARIABLE}',
      }),
    );
    const run = await coldstore(['verify', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`[CONFIG_INVALID] Invalid connector file ${bad}:`);
    for (const field of ['connector.class', 'storage.type', 'backup.label', 's3.endpoint', 'bucket.prefix']) expect(run.stderr).toContain(`  ${field}: `);

    const missing = await coldstore(['ls', '--config', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read connector file');
  });

  it('usage errors exit 2', async () => {
    const noConfig = await coldstore(['verify']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain("required option '-c, --config <connector.json>' not specified");
    const badNumber = await coldstore(['verify', '--config', configPath, '--backup', 'latest'], env);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('A backup id is a non-negative integer, got "latest"');
  });

  describe('after a bundle is corrupted', () => {
    let damaged: string;
    let original: Buffer;

    beforeAll(() => {
      damaged = orders0[1]!.key;
      const path = join(root, bucket, damaged);
      original = readFileSync(path);
      const corrupt = Buffer.from(original);
      corrupt.write('garbage', 20);
      writeFileSync(path, corrupt);
    });

    afterAll(() => {
      writeFileSync(join(root, bucket, damaged), original);
    });

    it('verify exits 1 naming the key, for the continuous backup and the backup by id', async () => {
      const run = await coldstore(['verify', '--config', configPath], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(new RegExp(`^  (corrupt|checksum) ${damaged}: `, 'm'));
      expect(run.stderr).toMatch(/^coldstore: \[BACKUP_VERIFY_FAILED\] 1 problem in the continuous backup/);
      expect(run.stderr).toContain(damaged);

      const json = await coldstore(['verify', '--config', configPath, '--backup', String(BACKUP_ID), '--json'], env);
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { ok: boolean; problems: { kind: string; key: string }[] };
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.key)).toEqual([damaged]);
    });

    it('inspect exits 1 with an error naming the key; a key that is no bundle too', async () => {
      const run = await coldstore(['inspect', '--config', configPath, damaged], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`[BACKUP_OBJECT_INVALID]`);
      expect(run.stderr).toContain(damaged);

      const foreign = await coldstore(['inspect', '--config', configPath, 'orders/0/notes.txt'], env);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toContain('foreign: orders/0/notes.txt');
    });
  });
});

describe('coldstore verify, inspect and ls on a layout=azul backup in the local store', () => {
  const dir = tmpDir('cli-store-azul');
  const root = join(dir, 'objects');
  const label = 'cli-azul';
  const events: Location = { bucket: `coldstore-${label}-events`, prefix: '' };
  const streams: Location = { bucket: `coldstore-${label}-streams`, prefix: '' };
  const configPath = join(dir, 'backup.json');
  let fixture: WrittenAzulFixture;

  beforeAll(async () => {
    fixture = await writeAzulFixture(new LocalObjectStore(root), events, streams);
    fixture.close();
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'azul-backup',
        'connector.class': 'BackupSink',
        layout: 'azul',
        'storage.type': 'local',
        'local.root': root,
        'backup.label': label,
      }),
    );
  }, 60_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('verify finds the layout, checks the streams, and exits 1 naming a missing stream and the bundle referring to it', async () => {
    const ok = await coldstore(['verify', '--config', configPath]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`Continuous backup (layout azul) in bucket ${events.bucket}: 3 partitions`);
    expect(ok.stdout).toContain('4 streams checked');

    const gone = streamKey(fixture.streams.s4);
    const bundle = fixture.ranges[4]!.entry.bundle!.key;
    const blob = join(root, streams.bucket, gone);
    const saved = readFileSync(blob);
    rmSync(blob);
    try {
      const run = await coldstore(['verify', '--config', configPath, '--json']);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, layout: 'azul', problems: [{ kind: 'stream-missing', key: gone, bundle }] });
      expect(run.stderr).toContain(`[BACKUP_VERIFY_FAILED] 1 problem in the continuous backup in ${events.bucket}, first: stream-missing ${gone}: `);
    } finally {
      writeFileSync(blob, saved);
    }

    const forced = await coldstore(['verify', '--config', configPath, '--layout', 'azul', '--backup', '1']);
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain("option '--layout <layout>' cannot be used with option '-b, --backup <id>'");
  });

  it("inspect prints an azul bundle's events as JSON lines, and its metadata with --json; ls --objects lists the azul keys", async () => {
    const bundle = fixture.ranges[0]!.entry.bundle!.key;
    const run = await coldstore(['inspect', '--config', configPath, bundle]);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout).map((e) => [e['kafka_key'], e['timestamp']])).toEqual([
      ['k0', '1700000000000000'],
      ['k1', '1700000000000001'],
      ['k2', '1700000000000002'],
    ]);

    const json = await coldstore(['inspect', '--config', configPath, '--json', '--limit', '1', bundle]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      bucket: events.bucket,
      key: bundle,
      model: 'binary',
      metadata: { 'coldstore-format': 'azul-v6', 'coldstore-record-count': '3' },
      events: [{ kafka_key: 'k0' }],
    });

    const ls = await coldstore(['ls', '--config', configPath, '--objects']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^Continuous backup \(layout azul\) in bucket /);
    for (const { entry } of fixture.ranges) {
      if (entry.bundle) expect(ls.stdout).toContain(entry.bundle.key);
      if (entry.rejects) expect(ls.stdout).toContain(entry.rejects.key);
    }
  });
});

describe('coldstore verify and ls on an S3 backup in a shared bucket', () => {
  const dir = tmpDir('cli-store-s3');
  const bucket = uniqueName('cli-shared').toLowerCase();
  const location: Location = { bucket, prefix: 'events/' };
  let objects: ManifestObject[];
  let configPath: string;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    const settings = s3Settings();
    const store = createObjectStore(storeConfig.validate(settings).values);
    objects = await backUpPartition(
      store,
      location,
      'audit',
      3,
      Array.from({ length: 25 }, (_, i) => 100 + i),
      10,
    );
    await writeManifest(store, location, 1, [{ topic: 'audit', partition: 3, startOffset: 100, endOffset: 125, objects }]);
    // The secret comes from the environment, as it should in a real connector file.
    env['COLDSTORE_TEST_S3_SECRET'] = settings['s3.secret.access.key']!;
    configPath = join(dir, 'restore.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'audit-restore',
        'connector.class': 'RestoreSource',
        topics: 'audit',
        ...settings,
        's3.secret.access.key': '${env:COLDSTORE_TEST_S3_SECRET}',
        'bucket.shared': bucket,
      }),
    );
  }, 60_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('verify --backup and ls --json read the events/ prefix of the shared bucket', async () => {
    const verify = await coldstore(['verify', '--config', configPath, '--backup', '1', '--json'], env);
    // The AWS SDK may warn about the Node version on stderr; coldstore itself must say nothing.
    expect(verify.stderr).not.toContain('coldstore:');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, bucket, objects: 3, records: 25, bytes: sizes(objects) });

    const ls = await coldstore(['ls', '--config', configPath, '--json', '--objects'], env);
    expect(ls.code).toBe(0);
    const description = JSON.parse(ls.stdout) as { topics: { topic: string; partitions: { bundles: { key: string }[] }[] }[] };
    expect(description).toMatchObject({
      bucket,
      objects: 3,
      records: 25,
      topics: [{ topic: 'audit', partitions: [{ partition: 3, firstOffset: 100, lastOffset: 124 }] }],
    });
    expect(description.topics[0]!.partitions[0]!.bundles.map((b) => b.key)).toEqual(objects.map((o) => o.key));

    const inspect = await coldstore(['inspect', '--config', configPath, '--limit', '1', objects[2]!.key], env);
    expect(inspect.code).toBe(0);
    expect(jsonLines(inspect.stdout)).toMatchObject([{ topic: 'audit', partition: 3, offset: 120 }]);
  });
});
