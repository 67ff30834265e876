import { describe, expect, it } from 'vitest';
import { logLevelsOf } from '../../runtime/telemetry/log-levels.js';
import { createLogger, redactingLogger } from '../../runtime/telemetry/logger.js';

function capture() {
  const lines: { level: unknown; msg: string; connector?: string; task?: number }[] = [];
  const root = createLogger('info', {}, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { root, lines, messages: () => lines.map((l) => l.msg) };
}

describe('log levels at run time', () => {
  it('writes levels as names, not pino numbers', () => {
    const { root, lines } = capture();
    root.info('hello');
    root.warn('careful');
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn']);
  });

  it('setting a connector reaches its task loggers, also those created afterwards, and not the rest', () => {
    const { root, messages } = capture();
    const connector = redactingLogger(root.child({ connector: 'x' }), (t) => t);
    const task0 = connector.child({ task: 0 });
    const other = root.child({ connector: 'y' });
    const levels = logLevelsOf(root);
    expect(levels.set('connector.x', 'debug', 1000)).toEqual(['connector.x', 'connector.x.task.0']);
    const task1 = connector.child({ task: 1 });
    root.debug('root');
    other.debug('other');
    connector.debug('connector');
    task0.debug('task0');
    task1.debug('task1');
    expect(messages()).toEqual(['connector', 'task0', 'task1']);
    expect(levels.get('connector.x.task.1')).toEqual({ level: 'DEBUG', last_modified: null });
    expect(levels.get('connector.x')).toEqual({ level: 'DEBUG', last_modified: 1000 });
    expect(levels.get('connector.y')).toEqual({ level: 'INFO', last_modified: null });
  });

  it('root sets every logger, and a name set before its logger exists applies when it is created', () => {
    const { root, messages } = capture();
    const levels = logLevelsOf(root);
    const a = root.child({ connector: 'a' });
    levels.set('connector.a', 'debug');
    expect(levels.set('root', 'warn')).toEqual(['connector.a', 'root']);
    a.info('a-info');
    root.info('root-info');
    levels.set('connector.later', 'debug');
    const later = root.child({ connector: 'later' }).child({ task: 3 });
    later.debug('later-debug');
    root.child({ component: 'backups' }).info('backups-info');
    expect(messages()).toEqual(['later-debug']);
    expect(Object.keys(levels.all())).toEqual(expect.arrayContaining(['root', 'connector.a', 'connector.later', 'connector.later.task.3', 'backups']));
    expect(levels.get('root')?.level).toBe('WARN');
    expect(levels.get('nothing')).toBeUndefined();
    expect(levels.acceptsName('org.apache.kafka.connect')).toBe(false);
    expect(levels.acceptsName('connector.not-yet')).toBe(true);
  });
});
