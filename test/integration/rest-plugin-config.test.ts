/** Plugin config definitions (KIP-769, docs/rest-api.md) against a real standalone worker. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectError, type TestApp } from '../helpers/test-app.js';
import { uniqueName } from '../helpers/tmp.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ 'worker.id': uniqueName('plugins') });
});

afterAll(async () => {
  await t?.app.stop();
});

describe('connector plugins (KIP-769)', () => {
  const KEYS = ['default_value', 'dependents', 'display_name', 'documentation', 'group', 'importance', 'name', 'order', 'required', 'type', 'width'];

  it('GET /connector-plugins/{plugin}/config answers the definitions validate describes, by class name or alias; 404 for an unknown plugin', async () => {
    const byAlias = await t.call('GET', '/connector-plugins/FileStreamSink/config');
    expect(byAlias.status, byAlias.text).toBe(200);
    const byClass = await t.call('GET', '/connector-plugins/coldstore.connectors.FileStreamSink/config');
    expect(byClass.body).toEqual(byAlias.body);
    for (const definition of byAlias.body) expect(Object.keys(definition).sort()).toEqual(KEYS);
    const file = byAlias.body.find((d: { name: string }) => d.name === 'file');
    expect(file).toMatchObject({ type: 'STRING', required: true, default_value: null, importance: 'HIGH' });
    expect(byAlias.body.find((d: { name: string }) => d.name === 'tasks.max')).toMatchObject({ type: 'INT', required: false, default_value: '1' });
    const validated = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', {});
    expect(byAlias.body).toEqual(validated.body.configs.map((c: { definition: unknown }) => c.definition));

    const restore = await t.call('GET', '/connector-plugins/RestoreSource/config');
    expect(restore.body.map((d: { name: string }) => d.name)).toEqual(expect.arrayContaining(['transaction.boundary', 'backup.label', 'topics']));
    const unknown = await t.call('GET', '/connector-plugins/NoSuchConnector/config');
    expectError(unknown, 404);
    expect(unknown.body.code).toBe('PLUGIN_NOT_FOUND');
  });

  it('connectorsOnly=false lists the same plugins (coldstore has connector plugins only)', async () => {
    const plain = await t.call('GET', '/connector-plugins');
    expect(plain.body.length).toBeGreaterThan(0);
    expect((await t.call('GET', '/connector-plugins?connectorsOnly=false')).body).toEqual(plain.body);
    expect((await t.call('GET', '/connector-plugins?connectorsOnly=true')).body).toEqual(plain.body);
  });
});
