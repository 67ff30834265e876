import { describe, expect, it } from 'vitest';
import { initialTarget, patchedConfig, requireStopped } from '../../runtime/herder/config-changes.js';

describe('config changes', () => {
  it('initial_state: RUNNING by default, any case accepted, anything else refused naming the allowed values', () => {
    expect(initialTarget(undefined)).toBe('RUNNING');
    expect(initialTarget(null)).toBe('RUNNING');
    expect(initialTarget('stopped')).toBe('STOPPED');
    expect(initialTarget('Paused')).toBe('PAUSED');
    for (const bad of ['STARTED', '', 1, true, {}]) expect(() => initialTarget(bad)).toThrow(/initial_state must be one of RUNNING, PAUSED, STOPPED/);
  });

  it('a patch sets keys and removes those given as null, leaving the rest', () => {
    expect(patchedConfig({ a: '1', b: '2', c: '3' }, { set: { b: '20', d: '4' }, remove: ['c', 'absent'] })).toEqual({ a: '1', b: '20', d: '4' });
  });

  it('offsets and active topics change only while STOPPED, each refused with its own code and the way out', () => {
    const record = (target: 'RUNNING' | 'PAUSED' | 'STOPPED') => ({ name: 'c', config: {}, target });
    expect(() => requireStopped(record('STOPPED'), 'offsets')).not.toThrow();
    expect(() => requireStopped(record('STOPPED'), 'topics')).not.toThrow();
    expect(() => requireStopped(record('RUNNING'), 'offsets')).toThrow(
      expect.objectContaining({ code: 'CONNECTOR_NOT_STOPPED', message: expect.stringMatching(/offsets .*PUT \/connectors\/c\/stop first/) }),
    );
    expect(() => requireStopped(record('PAUSED'), 'topics')).toThrow(
      expect.objectContaining({
        code: 'TOPICS_RESET_NOT_STOPPED',
        message: expect.stringMatching(/is PAUSED: its active topics .*PUT \/connectors\/c\/stop first/),
      }),
    );
  });
});
