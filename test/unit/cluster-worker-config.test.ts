import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../runtime/api/errors.js';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';

const BASE = { 'bootstrap.servers': 'localhost:9092' };

function configError(input: Record<string, unknown>): ConfigError {
  try {
    parseWorkerConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(input)}`);
}

const fields = (err: ConfigError) => err.fields.map((f) => f.field);

describe('parseWorkerConfig: cluster mode', () => {
  it("gives the cluster keys Kafka Connect's defaults", () => {
    const config = parseWorkerConfig(BASE);
    expect(config['group.id']).toBeUndefined();
    expect(config['config.storage.topic']).toBe('coldstore-configs');
    expect(config['offset.storage.topic']).toBe('coldstore-offsets');
    expect(config['status.storage.topic']).toBe('coldstore-status');
    expect(config['offset.storage.partitions']).toBe(25);
    expect(config['status.storage.partitions']).toBe(5);
    expect(config['session.timeout.ms']).toBe(10_000);
    expect(config['heartbeat.interval.ms']).toBe(3_000);
    expect(config['config.storage.replication.factor']).toBe(-1);
  });

  it('defaults are valid in cluster mode too', () => {
    const config = parseWorkerConfig({ ...BASE, 'group.id': 'g' });
    expect(config['group.id']).toBe('g');
    expect(config['heartbeat.interval.ms'] * 3).toBeLessThanOrEqual(config['session.timeout.ms']);
  });

  it('accepts the old key offsets.storage.topic as offset.storage.topic', () => {
    const config = parseWorkerConfig({ ...BASE, 'offsets.storage.topic': 'legacy-offsets' });
    expect(config['offset.storage.topic']).toBe('legacy-offsets');
    expect(config).not.toHaveProperty('offsets.storage.topic');
  });

  it('prefers offset.storage.topic when both names are given', () => {
    const config = parseWorkerConfig({ ...BASE, 'offsets.storage.topic': 'old', 'offset.storage.topic': 'new' });
    expect(config['offset.storage.topic']).toBe('new');
  });

  it('with group.id, refuses heartbeat.interval.ms above a third of session.timeout.ms', () => {
    const err = configError({ ...BASE, 'group.id': 'g', 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 2001 });
    expect(fields(err)).toEqual(['heartbeat.interval.ms']);
    expect(err.message).toContain('heartbeat.interval.ms');
    // Exactly a third is fine.
    expect(parseWorkerConfig({ ...BASE, 'group.id': 'g', 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 2000 })['heartbeat.interval.ms']).toBe(2000);
    // Standalone, the heartbeat is not checked.
    expect(parseWorkerConfig({ ...BASE, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 5000 })['heartbeat.interval.ms']).toBe(5000);
  });

  it('with group.id, refuses two storage topics with the same name, naming config.storage.topic', () => {
    const same = configError({ ...BASE, 'group.id': 'g', 'status.storage.topic': 'coldstore-offsets' });
    expect(fields(same)).toEqual(['config.storage.topic']);
    expect(same.message).toContain('config.storage.topic');
    const legacy = configError({ ...BASE, 'group.id': 'g', 'offsets.storage.topic': 'coldstore-configs' });
    expect(fields(legacy)).toEqual(['config.storage.topic']);
  });

  it('with group.id and rest.port 0, requires worker.id', () => {
    const err = configError({ ...BASE, 'group.id': 'g', 'rest.port': 0 });
    expect(fields(err)).toEqual(['worker.id']);
    expect(err.message).toContain('worker.id');
    expect(parseWorkerConfig({ ...BASE, 'group.id': 'g', 'rest.port': 0, 'worker.id': 'w1' })['worker.id']).toBe('w1');
    expect(parseWorkerConfig({ ...BASE, 'rest.port': 0 })['rest.port']).toBe(0);
  });

  it('reports every bad field together', () => {
    const err = configError({
      ...BASE,
      'group.id': 'g',
      'rest.port': 0,
      'session.timeout.ms': 3000,
      'heartbeat.interval.ms': 1500,
      'config.storage.topic': 'same',
      'offset.storage.topic': 'same',
      'status.storage.partitions': 0,
    });
    expect(fields(err).sort()).toEqual(['config.storage.topic', 'heartbeat.interval.ms', 'status.storage.partitions', 'worker.id']);
    for (const field of ['config.storage.topic', 'heartbeat.interval.ms', 'status.storage.partitions', 'worker.id']) expect(err.message).toContain(field);
  });
});
