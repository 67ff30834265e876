// RestoreSource target naming and partitioning (connectors/restore-source/targets.ts).
import { describe, expect, it } from 'vitest';
import { restoreSourceConfig, type RestoreSourceSettings } from '../../connectors/restore-source/config.js';
import { restoreSource } from '../../connectors/restore-source/connector.js';
import { kafkaPartitionForKey } from '../../connectors/restore-source/murmur2.js';
import { targetPartition, targetTopicName, type TopicTarget } from '../../connectors/restore-source/targets.js';

function settings(extra: Record<string, string> = {}): RestoreSourceSettings {
  const { values, errors } = restoreSourceConfig.validate({ topics: 'orders,payments', ...extra });
  expect(errors).toEqual([]);
  return values;
}

describe('targetTopicName', () => {
  it('keeps the name when nothing renames it', () => {
    const s = settings();
    expect(targetTopicName(s, 'orders')).toBe('orders');
    expect(targetTopicName(s, 'payments')).toBe('payments');
  });

  it('applies topic.rename entries to their source topic only', () => {
    const s = settings({ 'topic.rename': 'orders:orders-restored, payments:pay.v2' });
    expect(targetTopicName(s, 'orders')).toBe('orders-restored');
    expect(targetTopicName(s, 'payments')).toBe('pay.v2');
    expect(targetTopicName(s, 'other')).toBe('other');
    // A source name is matched whole, not as a prefix.
    expect(targetTopicName(s, 'orders2')).toBe('orders2');
    expect(targetTopicName(s, 'order')).toBe('order');
  });

  it('applies topic.rename.regex to the whole name, with $1 groups in the replacement', () => {
    const s = settings({ 'topic.rename.regex': '(.*)-(prod|eu)', 'topic.rename.replacement': 'restored.$1.$2' });
    expect(targetTopicName(s, 'orders-prod')).toBe('restored.orders.prod');
    expect(targetTopicName(s, 'payments-eu')).toBe('restored.payments.eu');
    // Must match the whole name, not a part of it.
    expect(targetTopicName(s, 'orders-production')).toBe('orders-production');
    expect(targetTopicName(s, 'orders')).toBe('orders');
  });

  it('treats an alternation in the regex as a whole-name match too', () => {
    const s = settings({ 'topic.rename.regex': 'orders|payments', 'topic.rename.replacement': 'r-$&' });
    expect(targetTopicName(s, 'orders')).toBe('r-orders');
    expect(targetTopicName(s, 'payments')).toBe('r-payments');
    // "xorders" contains "orders" but does not match as a whole.
    expect(targetTopicName(s, 'xorders')).toBe('xorders');
    expect(targetTopicName(s, 'paymentsx')).toBe('paymentsx');
    // Both ends of the alternation are anchored, not just the first and the last branch.
    expect(targetTopicName(s, 'ordersx')).toBe('ordersx');
    expect(targetTopicName(s, 'xpayments')).toBe('xpayments');
  });

  it('lets an explicit rename win over the regex', () => {
    const s = settings({
      'topic.rename': 'orders:orders-special',
      'topic.rename.regex': '(.*)',
      'topic.rename.replacement': 'restored-$1',
    });
    expect(targetTopicName(s, 'orders')).toBe('orders-special');
    expect(targetTopicName(s, 'payments')).toBe('restored-payments');
  });

  it('rejects malformed rename entries in the config', () => {
    const { errors } = restoreSourceConfig.validate({ topics: 'orders', 'topic.rename': 'orders' });
    expect(errors.map((e) => e.field)).toEqual(['topic.rename']);
    const missing = restoreSourceConfig.validate({});
    expect(missing.errors).toContainEqual({ field: 'topics', message: 'is required with target=kafka (or topics.regex with restore.mode=follow)' });
    // target=dispatcher restores Azul sources, not topics; it needs dispatcher.url instead.
    expect(restoreSourceConfig.validate({ target: 'dispatcher' }).errors).toEqual([{ field: 'dispatcher.url', message: 'is required with target=dispatcher' }]);
    expect(restoreSourceConfig.validate({ topics: 'orders' }).errors).toEqual([]);
    expect(restoreSource.validateAll!({ target: 'dispatcher', 'dispatcher.url': 'http://dispatcher:8111' })).toEqual([]);
    expect(restoreSource.validateAll!({ target: 'dispatcher', 'dispatcher.url': 'http://dispatcher:8111', groups: 'billing' }).map((e) => e.field)).toEqual([
      'groups',
    ]);
  });
});

describe('targetPartition', () => {
  const preserve: TopicTarget = { topic: 't', partitions: 4, mode: 'preserve' };
  const hash: TopicTarget = { topic: 't', partitions: 3, mode: 'hash' };

  it('preserve: keeps the source partition whatever the key', () => {
    for (let p = 0; p < 4; p++) {
      expect(targetPartition(preserve, null, p)).toBe(p);
      expect(targetPartition(preserve, Buffer.from('some-key'), p)).toBe(p);
      expect(targetPartition(preserve, Buffer.alloc(0), p)).toBe(p);
    }
  });

  it('hash: a null key goes to the source partition modulo the target count', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((p) => targetPartition(hash, null, p))).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
    const one: TopicTarget = { topic: 't', partitions: 1, mode: 'hash' };
    expect([0, 1, 5].map((p) => targetPartition(one, null, p))).toEqual([0, 0, 0]);
  });

  it("hash: a key goes where Kafka's default partitioner puts it, whatever its source partition", () => {
    const keys = ['a', 'b', 'customer-1', 'customer-2', 'foobar', '21', ''].map((k) => Buffer.from(k));
    const targets = keys.map((k) => targetPartition(hash, k, 0));
    for (const key of keys) {
      const expected = kafkaPartitionForKey(key, 3);
      for (let p = 0; p < 6; p++) expect(targetPartition(hash, key, p), `${key.toString()} from ${p}`).toBe(expected);
    }
    // foobar: (2^31 - 790332482) % 3
    expect(targetPartition(hash, Buffer.from('foobar'), 2)).toBe(1357151166 % 3);
    // An empty key is a key (hashed), not a null key.
    expect(targetPartition(hash, Buffer.alloc(0), 1)).toBe(kafkaPartitionForKey(Buffer.alloc(0), 3));
    // The keys really spread over more than one partition (so the comparisons above can fail).
    expect(new Set(targets).size).toBeGreaterThan(1);
  });
});
