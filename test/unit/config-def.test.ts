import { describe, expect, it } from 'vitest';
import { defineConfig } from '../../runtime/api/config-def.js';

const def = defineConfig({
  name: { type: 'string', required: true, doc: 'name' },
  count: { type: 'int', default: 10, min: 1, max: 100, doc: 'count' },
  ratio: { type: 'double', default: 0.5, min: 0, max: 1, doc: 'ratio' },
  enabled: { type: 'boolean', default: false, doc: 'flag' },
  items: { type: 'list', default: [], doc: 'items' },
  mode: { type: 'string', default: 'a', oneOf: ['a', 'b'], doc: 'mode' },
  secret: { type: 'password', doc: 'secret' },
  even: { type: 'int', doc: 'even number', check: (v: number) => (v % 2 === 0 ? undefined : 'must be even') },
});

describe('ConfigDef', () => {
  it('parses and types values, applying defaults', () => {
    const { values, errors } = def.validate({ name: 'x', count: '42', enabled: 'TRUE', items: 'a, b,,c', ratio: '0.25' });
    expect(errors).toEqual([]);
    expect(values).toEqual({ name: 'x', count: 42, ratio: 0.25, enabled: true, items: ['a', 'b', 'c'], mode: 'a' });
  });

  it('reports every bad field, not just the first', () => {
    const { errors } = def.validate({ count: '1000', ratio: 'abc', enabled: 'yes', mode: 'z', even: '3' });
    expect(errors.map((e) => e.field).sort()).toEqual(['count', 'enabled', 'even', 'mode', 'name', 'ratio']);
    expect(errors.find((e) => e.field === 'count')?.message).toMatch(/at most 100/);
    expect(errors.find((e) => e.field === 'name')?.message).toBe('is required');
    expect(errors.find((e) => e.field === 'mode')?.message).toMatch(/one of a, b/);
  });

  it('rejects fractional ints', () => {
    expect(def.validate({ name: 'x', count: '1.5' }).errors[0]?.message).toMatch(/integer/);
  });

  it('describes keys for REST validate and docs', () => {
    const described = def.describe();
    expect(described.find((d) => d.name === 'name')).toMatchObject({ required: true, defaultValue: null, type: 'string' });
    expect(described.find((d) => d.name === 'items')).toMatchObject({ required: false, defaultValue: '' });
    expect(described.find((d) => d.name === 'mode')?.allowed).toEqual(['a', 'b']);
    expect(def.isSecret('secret')).toBe(true);
    expect(def.isSecret('name')).toBe(false);
  });

  it('requires a key only when requiredWhen names a condition, and applies its default otherwise', () => {
    const conditional = defineConfig({
      target: { type: 'string', default: 'kafka', oneOf: ['kafka', 'http'], doc: 'target' },
      topics: { type: 'list', default: [], requiredWhen: (all) => ((all['target'] ?? 'kafka') === 'kafka' ? 'with target=kafka' : undefined), doc: 'topics' },
    });
    expect(conditional.validate({}).errors).toEqual([{ field: 'topics', message: 'is required with target=kafka' }]);
    expect(conditional.validate({ topics: '' }).errors).toEqual([{ field: 'topics', message: 'is required with target=kafka' }]);
    expect(conditional.validate({ target: 'http' })).toEqual({ values: { target: 'http', topics: [] }, errors: [] });
    expect(conditional.validate({ topics: 'a' }).values).toEqual({ target: 'kafka', topics: ['a'] });
    expect(conditional.describe().find((d) => d.name === 'topics')).toMatchObject({ required: false, defaultValue: '' });
  });

  it('extends with refined keys', () => {
    const more = def.extend({ count: { type: 'int', default: 5, doc: 'refined' }, extra: { type: 'boolean', default: true, doc: 'x' } });
    expect(more.validate({ name: 'n' }).values).toMatchObject({ count: 5, extra: true });
  });
});
