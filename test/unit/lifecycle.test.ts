// lifecycleRules: the S3 age-off rules BackupSink asks for (docs/operations.md, age-off).
import { describe, expect, it } from 'vitest';
import { backupSinkConfig } from '../../connectors/backup-sink/config.js';
import { lifecycleRules } from '../../connectors/backup-sink/lifecycle.js';

function settings(raw: Record<string, string> = {}) {
  const { values, errors } = backupSinkConfig.validate(raw);
  expect(errors).toEqual([]);
  return values;
}

const ABORT_7 = { id: 'coldstore-abort-incomplete-uploads', prefix: '', abortIncompleteMultipartAfterDays: 7 };

describe('lifecycleRules', () => {
  it('with nothing configured: only the abort-incomplete-uploads rule, 7 days, whole bucket', () => {
    expect(lifecycleRules(settings())).toEqual([ABORT_7]);
  });

  it('with a default expiry: one catch-all expiry rule plus the abort rule', () => {
    expect(lifecycleRules(settings({ 'lifecycle.expire.days': '30' }))).toEqual([{ id: 'coldstore-expire-all', prefix: '', expireAfterDays: 30 }, ABORT_7]);
  });

  it('with per-topic expiry: one rule per topic prefix (and its range claims), and no catch-all rule (S3 applies every matching rule)', () => {
    const rules = lifecycleRules(settings({ 'lifecycle.expire.days': '30', 'lifecycle.expire.topics': 'orders:7, audit.log:365' }));
    expect(rules).toEqual([
      { id: 'coldstore-expire-orders', prefix: 'orders/', expireAfterDays: 7 },
      { id: 'coldstore-expire-claims-orders', prefix: '~coldstore/claims/orders/', expireAfterDays: 7 },
      { id: 'coldstore-expire-audit.log', prefix: 'audit.log/', expireAfterDays: 365 },
      { id: 'coldstore-expire-claims-audit.log', prefix: '~coldstore/claims/audit.log/', expireAfterDays: 365 },
      ABORT_7,
    ]);
    expect(rules.some((r) => r.id === 'coldstore-expire-all')).toBe(false);
  });

  it('a per-topic entry with 0 days writes no rule for that topic (keep forever) and still suppresses the catch-all', () => {
    expect(lifecycleRules(settings({ 'lifecycle.expire.days': '30', 'lifecycle.expire.topics': 'keep:0,orders:3' }))).toEqual([
      { id: 'coldstore-expire-orders', prefix: 'orders/', expireAfterDays: 3 },
      { id: 'coldstore-expire-claims-orders', prefix: '~coldstore/claims/orders/', expireAfterDays: 3 },
      ABORT_7,
    ]);
  });

  it('with abort days 0: no abort rule', () => {
    expect(lifecycleRules(settings({ 'lifecycle.abort.incomplete.days': '0' }))).toEqual([]);
    expect(lifecycleRules(settings({ 'lifecycle.abort.incomplete.days': '0', 'lifecycle.expire.days': '10' }))).toEqual([
      { id: 'coldstore-expire-all', prefix: '', expireAfterDays: 10 },
    ]);
  });

  it('uses the configured abort days', () => {
    expect(lifecycleRules(settings({ 'lifecycle.abort.incomplete.days': '2' }))).toEqual([{ ...ABORT_7, abortIncompleteMultipartAfterDays: 2 }]);
  });

  it('in a shared bucket, prefixes every rule with events/', () => {
    const shared = { 'bucket.shared': 'everything' };
    expect(lifecycleRules(settings(shared))).toEqual([{ ...ABORT_7, prefix: 'events/' }]);
    expect(lifecycleRules(settings({ ...shared, 'lifecycle.expire.days': '5' }))).toEqual([
      { id: 'coldstore-expire-all', prefix: 'events/', expireAfterDays: 5 },
      { ...ABORT_7, prefix: 'events/' },
    ]);
    expect(lifecycleRules(settings({ ...shared, 'lifecycle.expire.topics': 'orders:7' }))).toEqual([
      { id: 'coldstore-expire-orders', prefix: 'events/orders/', expireAfterDays: 7 },
      { id: 'coldstore-expire-claims-orders', prefix: 'events/~coldstore/claims/orders/', expireAfterDays: 7 },
      { ...ABORT_7, prefix: 'events/' },
    ]);
  });

  it('an explicit events bucket keeps rule prefixes unprefixed', () => {
    expect(lifecycleRules(settings({ 'events.bucket': 'my-events', 'lifecycle.expire.topics': 'orders:7' }))).toEqual([
      { id: 'coldstore-expire-orders', prefix: 'orders/', expireAfterDays: 7 },
      { id: 'coldstore-expire-claims-orders', prefix: '~coldstore/claims/orders/', expireAfterDays: 7 },
      ABORT_7,
    ]);
  });

  it('the config refuses malformed per-topic entries', () => {
    const { errors } = backupSinkConfig.validate({ 'lifecycle.expire.topics': 'orders' });
    expect(errors.map((e) => e.field)).toEqual(['lifecycle.expire.topics']);
  });

  it('never emits two rules with the same id (S3 would reject the whole configuration)', () => {
    const { values, errors } = backupSinkConfig.validate({ 'lifecycle.expire.topics': 'orders:7,orders:30' });
    const ids = errors.length > 0 ? [] : lifecycleRules(values).map((r) => r.id);
    expect(ids.length === new Set(ids).size, `rule ids ${ids.join(', ')}`).toBe(true);
  });
  it('layout azul: expire_events_after becomes one rule per source prefix; sources not listed get none (the Azul service gave them a 1-day rule)', () => {
    const rules = lifecycleRules(settings({ layout: 'azul', 'dispatcher.url': 'http://127.0.0.1:8111', 'azul.sources.expire': 'virustotal:365,testing:3' }));
    expect(rules).toEqual([
      { id: 'coldstore-expire-source-virustotal', prefix: 'virustotal/', expireAfterDays: 365 },
      { id: 'coldstore-expire-source-testing', prefix: 'testing/', expireAfterDays: 3 },
      ABORT_7,
    ]);
    // S3 applies every matching rule: a catch-all expiry would cut the listed sources short, so it is not written beside them.
    expect(
      lifecycleRules(settings({ layout: 'azul', 'dispatcher.url': 'http://x:1', 'azul.sources.expire': 'a:5', 'lifecycle.expire.days': '30' })).some(
        (r) => r.id === 'coldstore-expire-all',
      ),
    ).toBe(false);
  });

  it('refuses malformed or zero-day source expiry entries', () => {
    const { errors } = backupSinkConfig.validate({ layout: 'azul', 'dispatcher.url': 'http://x:1', 'azul.sources.expire': 'good:3,bad,zero:0' });
    expect(errors.map((e) => e.field)).toEqual(['azul.sources.expire']);
    expect(errors[0]!.message).toContain('bad');
  });
});
