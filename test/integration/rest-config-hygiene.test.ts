/**
 * Connector config hygiene through the REST API of a real worker (real Kafka): Kafka Connect
 * framework keys coldstore does not implement are refused, unknown keys accepted with a
 * warning, `${file:path:key}` placeholders resolved but never shown, Java-only topics.regex
 * syntax refused, and a topics.regex alternation matched as a whole.
 */
import KafkaLib from '@confluentinc/kafka-javascript';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { badFields, createTestApp, expectError, sinkLines, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let t: TestApp;
let topic: string;
const dir = tmpDir('hygiene');

beforeAll(async () => {
  topic = uniqueName('hygiene');
  await createTopic(topic, 1);
  t = await createTestApp({}, { captureLogs: true });
});

afterEach(async () => {
  for (const name of t.app.herder.names()) expect((await t.call('DELETE', `/connectors/${name}`)).status).toBe(204);
});

afterAll(async () => {
  await t?.app.stop();
});

function sinkConfig(extra: Record<string, string> = {}): Record<string, string> {
  return { 'connector.class': 'FileStreamSink', topics: topic, file: join(dir, `${uniqueName('out')}.jsonl`), ...extra };
}

const CONNECT_KEYS = {
  'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
  transforms: 'route',
  'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
  'errors.tolerance': 'all',
  'errors.deadletterqueue.topic.name': 'dlq',
};

describe('Kafka Connect framework keys coldstore does not implement', () => {
  it('POST and PUT answer 400 naming each key with what to do; validate lists each as an error', async () => {
    const name = uniqueName('sink');
    const created = await t.call('POST', '/connectors', { name, config: sinkConfig(CONNECT_KEYS) });
    expectError(created, 400, /key\.converter: is a Kafka Connect converter setting/);
    expect(badFields(created)).toEqual(Object.keys(CONNECT_KEYS).sort());
    const messages = Object.fromEntries((created.body.fields as { field: string; message: string }[]).map((f) => [f.field, f.message]));
    expect(messages['value.converter.schemas.enable']).toMatch(/byte-exact.*remove it/);
    expect(messages['transforms.route.type']).toMatch(/does not run transforms/);
    expect(messages['errors.deadletterqueue.topic.name']).toMatch(/no dead letter queue/);
    expect(t.app.herder.names()).toEqual([]);

    // An existing connector's update is refused the same way and leaves it as it was.
    expect((await t.call('POST', '/connectors', { name, config: sinkConfig() })).status).toBe(201);
    const updated = await t.call('PUT', `/connectors/${name}/config`, sinkConfig({ 'errors.tolerance': 'all' }));
    expectError(updated, 400, /errors\.tolerance/);
    expect(badFields(updated)).toEqual(['errors.tolerance']);
    expect((await t.call('GET', `/connectors/${name}/config`)).body['errors.tolerance']).toBeUndefined();

    const validated = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', { ...sinkConfig(CONNECT_KEYS), name: 'v' });
    expect(validated.status, validated.text).toBe(200);
    expect(validated.body.error_count).toBe(Object.keys(CONNECT_KEYS).length);
    for (const key of Object.keys(CONNECT_KEYS)) {
      const entry = validated.body.configs.find((c: { value: { name: string } }) => c.value.name === key);
      expect(entry?.value.errors, key).toEqual([messages[key]]);
    }
  });
});

describe('unknown keys', () => {
  it('are accepted with a warning in validate (error_count stays 0) and one log line naming them at create', async () => {
    const config = sinkConfig({ 'tasks.mx': '2', 'my.own.setting': 'x' });
    const validated = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', { ...config, name: 'v' });
    expect(validated.status, validated.text).toBe(200);
    expect(validated.body.error_count).toBe(0);
    expect(validated.body.warnings).toEqual([
      { field: 'tasks.mx', message: expect.stringMatching(/is not a setting of .*FileStreamSink.*Did you mean tasks\.max\?$/) },
      { field: 'my.own.setting', message: expect.not.stringMatching(/Did you mean/) },
    ]);

    const name = uniqueName('sink');
    const before = t.logs.length;
    expect((await t.call('POST', '/connectors', { name, config })).status).toBe(201);
    const lines = t.logs
      .slice(before)
      .map((l) => JSON.parse(l) as { level: string; msg: string; connector?: string })
      .filter((l) => l.msg.startsWith('config keys that no setting'));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', connector: name, msg: expect.stringMatching(/tasks\.mx \(did you mean tasks\.max\?\), my\.own\.setting$/) }),
    ]);
    expect((await t.call('GET', `/connectors/${name}/config`)).body['my.own.setting']).toBe('x');
  });
});

describe('${file:path:key} placeholders', () => {
  const props = join(dir, 'connector.properties');
  const SECRET = 'topsecret-4f9a1c';

  it('resolve for the task but show unresolved in every answer and in no log line', async () => {
    const out = join(dir, `${uniqueName('resolved')}.jsonl`);
    writeFileSync(props, `# written by the test\nout.path = ${out}\napi.token: ${SECRET}\nunrelated=${SECRET}-other\n`);
    const name = uniqueName('sink');
    const config = sinkConfig({ file: `\${file:${props}:out.path}`, 'api.token': `\${file:${props}:api.token}` });
    const created = await t.call('POST', '/connectors', { name, config });
    expect(created.status, created.text).toBe(201);
    produceLines(topic, 0, ['through-the-placeholder']);
    // The task wrote to the path the key names: the placeholder was resolved for it.
    await waitFor('the record in the resolved file', () => sinkLines(out).length > 0);

    const answers = [
      created,
      await t.call('GET', `/connectors/${name}`),
      await t.call('GET', `/connectors/${name}/config`),
      await t.call('GET', `/connectors/${name}/tasks`),
      await t.call('GET', `/connectors/${name}/status`),
      await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', { ...config, name }),
    ];
    expect((await t.call('GET', `/connectors/${name}/config`)).body['api.token']).toBe(`\${file:${props}:api.token}`);
    for (const answer of answers) expect(answer.text).not.toContain(SECRET);
    expect(t.logs.join('\n')).not.toContain(SECRET);
  });

  it('a missing key or file answers 400 naming the field and the placeholder, and nothing else of the file', async () => {
    writeFileSync(props, `api.token=${SECRET}\n`);
    const missingKey = `\${file:${props}:api.tokn}`;
    const missingFile = `\${file:${join(dir, 'absent.properties')}:api.token}`;
    const res = await t.call('POST', '/connectors', { name: uniqueName('sink'), config: sinkConfig({ 'api.token': missingKey, 'other.token': missingFile }) });
    expectError(res, 400);
    expect(badFields(res)).toEqual(['api.token', 'other.token']);
    expect(res.text).toContain(`key api.tokn not found in file ${props} referenced by ${missingKey}`);
    expect(res.text).toContain(`cannot be read: ENOENT`);
    expect(res.text).not.toContain(SECRET);
  });
});

describe('topics.regex', () => {
  it('in Java syntax answers 400 naming topics.regex and the JavaScript equivalent', async () => {
    const res = await t.call('POST', '/connectors', {
      name: uniqueName('sink'),
      config: { 'connector.class': 'FileStreamSink', 'topics.regex': '(?i)orders.*+', file: join(dir, 'x.jsonl') },
    });
    expectError(res, 400, /topics\.regex: is Java regex syntax/);
    expect(badFields(res)).toEqual(['topics.regex']);
    expect(res.body.message).toMatch(/\[Oo\]rders/);
    expect(res.body.message).toMatch(/possessive/);
  });

  it('an alternation is matched against the whole topic name by the consumer subscription', async () => {
    const base = uniqueName('alt');
    await createTopic(`${base}-a`, 1);
    await createTopic(`${base}-a-dlq`, 1);
    const name = uniqueName('sink');
    const config = { 'connector.class': 'FileStreamSink', 'topics.regex': `${base}-a|${base}-b`, file: join(dir, `${uniqueName('alt')}.jsonl`) };
    expect((await t.call('POST', '/connectors', { name, config })).status).toBe(201);
    // Both topics exist before the subscription: one rebalance assigns every match at once.
    const assigned = await waitFor('an assignment', () => {
      const partitions = t.app.herder.find(name)?.partitionProgress() ?? [];
      return partitions.length > 0 ? partitions.map((p) => p.topic).sort() : undefined;
    });
    expect(assigned).toEqual([`${base}-a`]);
  });

  it('is refused with \\d because the consumer subscription (POSIX) reads \\d as the letter d', async () => {
    const base = uniqueName('posix');
    await createTopic(`${base}-1`, 1);
    await createTopic(`${base}-d`, 1);
    const refused = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', {
      ...sinkConfig(),
      topics: '',
      'topics.regex': `${base}-\\d`,
      name: 'v',
    });
    expect(refused.body.error_count).toBe(1);
    expect(JSON.stringify(refused.body)).toContain('write [0-9]');

    // What the subscription would do with it: a plain librdkafka consumer, subscribed as the sink consumer subscribes.
    const consumer = new KafkaLib.KafkaConsumer({ 'bootstrap.servers': bootstrap(), 'group.id': uniqueName('posix-probe') }, {});
    await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
    try {
      consumer.subscribe([`^(${base}-\\d)$`]);
      consumer.setDefaultConsumeTimeout(200);
      const assigned = await waitFor('an assignment', async () => {
        await new Promise((resolve) => consumer.consume(1, () => resolve(undefined)));
        const topics = consumer.assignments().map((a) => a.topic);
        return topics.length > 0 ? topics : undefined;
      });
      expect(assigned).toEqual([`${base}-d`]);
    } finally {
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  });
});
