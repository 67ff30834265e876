import { describe, expect, it } from 'vitest';
import { closestKey } from '../../runtime/config/connect-keys.js';
import { configInfos, validateConnectorConfig } from '../../runtime/config/connector-config.js';
import { javaOnlySyntax, topicsRegexProblem } from '../../runtime/api/regex-syntax.js';
import { PluginRegistry } from '../../runtime/plugins/registry.js';
import { builtInPlugins } from '../../connectors/index.js';

describe('topics.regex in Java syntax', () => {
  it.each([
    ['(?i)orders', /\(\?i\) \(a Java inline flag\).*\[Oo\]rders/],
    ['orders(?s).*', /\(\?s\) \(a Java inline flag\)/],
    ['(?x:a b)', /only i, m and s/],
    ['orders.*+', /\*\+ \(a Java possessive quantifier\)/],
    ['a++', /\+\+ \(a Java possessive/],
    ['a?+b', /\?\+ \(a Java possessive/],
    ['a{2,3}+', /\}\+ \(a Java possessive/],
    ['\\p{javaLowerCase}+', /\\p\{\.\.\.\} \(a Java character class\) is the letter p/],
    ['[\\p{Lower}]+', /\\p\{\.\.\.\}/],
    ['\\Qa.b\\E', /\\Q\.\.\.\\E \(Java quoting\)/],
    ['(?>abc)', /atomic group/],
    ['[a-z&&[^aeiou]]+', /Java intersection/],
    ['[a[bc]]', /Java union/],
    ['\\Aorders\\z', /\\A \(Java: start of input\)/],
    ['\\x{41}', /\\x\{\.\.\.\}/],
    ['x[]+]', /a \] first in a bracket class/],
    ['[^]+]', /a \] first in a bracket class/],
  ])('%s is refused with its JavaScript equivalent', (pattern, advice) => {
    const problem = topicsRegexProblem(pattern);
    expect(problem).toMatch(/^is Java regex syntax, which coldstore does not read: /);
    expect(problem).toMatch(advice);
  });

  it.each(['orders', 'orders\\..*', 'a+b*c?', 'a{2,3}', '[+*?]+', '\\++', '(a|b)x', 'a\\*+', '[a-z0-9._-]+', '\\w+'])(
    '%s is accepted (Java, JavaScript and POSIX read it alike)',
    (pattern) => {
      expect(topicsRegexProblem(pattern)).toBeUndefined();
    },
  );

  it.each([
    ['(?:a|b)x', /\(\?\.\.\.\) groups .* use a plain group/],
    ['(?=o)o.*', /\(\?\.\.\.\) groups/],
    ['(?i:orders)', /\(\?\.\.\.\) groups/],
    ['orders-\\d+', /\\d is the letter d .*write \[0-9\]/],
    ['[\\w.-]+', /a backslash inside \[\.\.\.\] is a backslash/],
    ['a\\tb', /\\t is the letter t/],
    ['(a)-\\1', /\\1 \(a backreference\) refers to another group/],
    ['x{,3}', /\{,n\} is \{0,n\} .* write \{0,n\}/],
    ['(?!__).*', /negative lookahead .* topics\.exclude\.regex/],
    ['.*(?<!-dlq)', /negative lookahead .* topics\.exclude\.regex/],
  ])('%s is valid JavaScript but refused: the consumer subscription reads it otherwise', (pattern, advice) => {
    expect(javaOnlySyntax(pattern)).toEqual([]);
    const problem = topicsRegexProblem(pattern);
    expect(problem).toMatch(
      /^is read differently by the Kafka consumer's topic subscription \(librdkafka, POSIX extended regular expressions\) than by Kafka Connect: /,
    );
    expect(problem).toMatch(advice);
  });

  it('still reports what JavaScript cannot compile', () => {
    expect(topicsRegexProblem('orders(')).toMatch(/^is not a valid JavaScript regular expression: /);
  });
});

describe('Kafka Connect framework keys and unknown keys', () => {
  const registry = new PluginRegistry(builtInPlugins);
  const base = { name: 'b', 'connector.class': 'BackupSink', topics: 't', 'storage.type': 'local', 'local.root': '/tmp/x' };

  it('refuses every converter, transform, predicate and errors.* key, each with its advice', () => {
    const raw = {
      ...base,
      'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
      'value.converter.schemas.enable': 'false',
      'header.converter': 'x',
      transforms: 'route',
      'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
      predicates: 'p',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': 'dlq',
      'errors.log.enable': 'true',
      'errors.retry.timeout': '1000',
    };
    const validation = validateConnectorConfig(registry, raw);
    const byField = Object.fromEntries(validation.errors.map((e) => [e.field, e.message]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        'errors.deadletterqueue.topic.name',
        'errors.log.enable',
        'errors.retry.timeout',
        'errors.tolerance',
        'header.converter',
        'key.converter',
        'predicates',
        'transforms',
        'transforms.route.type',
        'value.converter.schemas.enable',
      ].sort(),
    );
    expect(byField['key.converter']).toMatch(/byte-exact.*no converter applies: remove it/);
    expect(byField['transforms']).toMatch(/does not run transforms.*topics\.exclude\.regex/);
    expect(byField['errors.tolerance']).toMatch(/no dead letter queue/);
    expect(byField['errors.retry.timeout']).toMatch(/retries retriable failures/);
    // Unknown-key warnings are not given for refused keys.
    expect(validation.warnings).toEqual([]);
    // The validate answer shows each refused key with its error, although no plugin declares it.
    const infos = configInfos(validation, raw, 'BackupSink');
    expect(infos.error_count).toBe(10);
    const entry = infos.configs.find((c) => c.value.name === 'transforms.route.type');
    expect(entry?.value.errors).toEqual([byField['transforms.route.type']]);
  });

  it('RestoreSource is pointed at on.bad.object and topic.rename', () => {
    const raw = { name: 'r', 'connector.class': 'RestoreSource', 'errors.tolerance': 'all', transforms: 'x' };
    const byField = Object.fromEntries(validateConnectorConfig(registry, raw).errors.map((e) => [e.field, e.message]));
    expect(byField['errors.tolerance']).toMatch(/on\.bad\.object=skip/);
    expect(byField['transforms']).toMatch(/topic\.rename/);
  });

  it('accepts unknown keys with a warning, naming a close declared key; client overrides are not unknown', () => {
    const raw = { ...base, 'bundle.max.record': '10', 'gzip.levle': '1', 'something.else': 'x', 'consumer.override.fetch.min.bytes': '1' };
    const validation = validateConnectorConfig(registry, raw);
    expect(validation.errors).toEqual([]);
    expect(validation.warnings.map((w) => w.field)).toEqual(['bundle.max.record', 'gzip.levle', 'something.else']);
    expect(validation.warnings[0]!.message).toMatch(/Did you mean bundle\.max\.records\?$/);
    expect(validation.warnings[1]!.message).toMatch(/Did you mean gzip\.level\?$/);
    expect(validation.warnings[2]!.message).not.toMatch(/Did you mean/);
    const infos = configInfos(validation, raw, 'BackupSink');
    expect(infos.error_count).toBe(0);
    expect(infos.warnings).toEqual(validation.warnings);
  });

  it('suggests only within edit distance 2', () => {
    expect(closestKey('bundle.max.record', ['bundle.max.records', 'bundle.max.bytes'])).toBe('bundle.max.records');
    expect(closestKey('bndle.max.recrd', ['bundle.max.records'])).toBeUndefined();
    expect(closestKey('tasks.mx', ['tasks.max', 'topics'])).toBe('tasks.max');
  });
});

describe('refused key families and what a plugin declares', () => {
  const fileSink = builtInPlugins.find((p) => p.className.endsWith('FileStreamSink'))!;

  it('a key a plugin declares itself is the plugin’s, even when its name looks like a refused Connect family', () => {
    const plugin = {
      ...fileSink,
      className: 'ErrorsAwareSink',
      aliases: [],
      config: fileSink.config.extend({ 'errors.tolerance': { type: 'string', default: 'none', doc: 'This plugin’s own setting.' } }),
    };
    const registry = new PluginRegistry([plugin]);
    const raw = { name: 'e', 'connector.class': 'ErrorsAwareSink', topics: 't', file: '/tmp/x', 'errors.tolerance': 'all', 'errors.log.enable': 'true' };
    const validation = validateConnectorConfig(registry, raw);
    // errors.log.enable is still refused: only the declared key is exempt.
    expect(validation.errors.map((e) => e.field)).toEqual(['errors.log.enable']);
    expect(validation.resolved['errors.tolerance']).toBe('all');
  });

  it('validate never echoes the value of a refused undeclared key (it may hold credentials)', () => {
    const registry = new PluginRegistry(builtInPlugins);
    const raw = {
      name: 'b',
      'connector.class': 'BackupSink',
      topics: 't',
      'storage.type': 'local',
      'local.root': '/tmp/x',
      'value.converter.basic.auth.user.info': 'user:s3cret',
    };
    const infos = configInfos(validateConnectorConfig(registry, raw), raw, 'BackupSink');
    const entry = infos.configs.find((c) => c.value.name === 'value.converter.basic.auth.user.info');
    expect(entry?.value.errors.length).toBe(1);
    expect(entry?.value.value).toBeNull();
    expect(JSON.stringify(infos)).not.toContain('s3cret');
    // Declared keys still echo their value.
    expect(infos.configs.find((c) => c.value.name === 'topics')?.value.value).toBe('t');
  });
});

describe('the connectors’ own regex settings', () => {
  const registry = new PluginRegistry(builtInPlugins);
  it.each([
    ['BackupSink', 'topics.exclude.regex', { topics: 't', 'storage.type': 'local', 'local.root': '/tmp/x' }],
    ['BackupSink', 'groups.regex', { topics: 't', 'storage.type': 'local', 'local.root': '/tmp/x' }],
    ['RestoreSource', 'topic.rename.regex', { 'topic.rename.replacement': 'r.$1', 'storage.type': 'local', 'local.root': '/tmp/x' }],
  ])('%s %s refuses Java-only syntax with its JavaScript equivalent, and takes JavaScript syntax', (className, key, rest) => {
    const field = (value: string) =>
      validateConnectorConfig(registry, { name: 'c', 'connector.class': className, ...rest, [key]: value }).errors.filter((e) => e.field === key);
    expect(field('(?i)orders')[0]?.message).toMatch(/^is Java regex syntax, which coldstore does not read: .*\[Oo\]rders/);
    expect(field('orders.*+')[0]?.message).toMatch(/possessive quantifier/);
    // JavaScript-only syntax is fine here: nothing but JavaScript reads these.
    expect(field('(?!__)(?:orders|payments)-\\d+')).toEqual([]);
  });
});
