import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePlaceholders } from '../../runtime/config/placeholders.js';
import { toRawConfig } from '../../runtime/config/raw-config.js';
import { MASK, maskConfig } from '../../runtime/config/secrets.js';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';
import { ConfigError } from '../../runtime/api/errors.js';

describe('placeholders', () => {
  it('resolves env and file references and names each unresolvable field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-ph-'));
    writeFileSync(join(dir, 'secret.txt'), 's3cr3t\n');
    const { config, errors } = resolvePlaceholders(
      { a: 'x-${env:CS_TEST_A}-y', b: '${file:' + join(dir, 'secret.txt') + '}', c: '${env:CS_TEST_MISSING}', d: '${file:/nonexistent/f}' },
      { CS_TEST_A: 'AAA' },
    );
    expect(config['a']).toBe('x-AAA-y');
    expect(config['b']).toBe('s3cr3t');
    expect(errors.map((e) => e.field)).toEqual(['c', 'd']);
    expect(errors[0]?.message).toMatch(/CS_TEST_MISSING/);
  });
});

describe('masking', () => {
  it('hides declared and secret-looking values but keeps placeholders visible', () => {
    const masked = maskConfig({ 'aws.secret.access.key': 'abc', plain: 'v', 'my.pass': 'p', 'sasl.password': '${env:PW}' }, (k) => k === 'my.pass');
    expect(masked).toEqual({ 'aws.secret.access.key': MASK, plain: 'v', 'my.pass': MASK, 'sasl.password': '${env:PW}' });
  });
});

describe('raw configs', () => {
  it('stores JSON scalars and lists as strings and rejects objects', () => {
    expect(toRawConfig({ a: 1, b: true, c: ['x', 'y'], d: null }, 'cfg')).toEqual({ a: '1', b: 'true', c: 'x,y' });
    expect(() => toRawConfig({ a: { nested: 1 } }, 'cfg')).toThrow(/"a" must be/);
    expect(() => toRawConfig([1], 'cfg')).toThrow(/JSON object/);
  });
});

describe('worker config', () => {
  it('parses with defaults and passes kafka.* through', () => {
    const config = parseWorkerConfig({ 'bootstrap.servers': 'h:9092', 'kafka.security.protocol': 'SSL', 'rest.port': 9999 });
    expect(config['rest.port']).toBe(9999);
    expect(config['rest.host']).toBe('127.0.0.1');
    expect(config.kafka).toEqual({ 'security.protocol': 'SSL' });
  });

  it('lists every bad field', () => {
    try {
      parseWorkerConfig({ 'rest.port': 'x', 'rest.auth.type': 'bearer', 'typo.key': 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).fields.map((f) => f.field).sort()).toEqual(['bootstrap.servers', 'rest.auth.token', 'rest.port', 'typo.key']);
    }
  });
});
