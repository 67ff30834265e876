import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { createTestApp } from '../helpers/test-app.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { newScript, scriptedSink, type Script } from '../helpers/scripted-sink.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const PARTITIONS = 4;

function produceRound(topic: string, round: number, perPartition: number): void {
  for (let p = 0; p < PARTITIONS; p++) {
    produceLines(
      topic,
      p,
      Array.from({ length: perPartition }, (_, i) => `k:r${round}-p${p}-${i}`),
    );
  }
}

/** Each partition's accepted offsets, which must be 0..n-1 exactly once each. */
function expectEachOffsetOnce(script: Script, topic: string, perPartition: number): void {
  for (let p = 0; p < PARTITIONS; p++) {
    const offsets = script.accepted.filter((r) => r.topic === topic && r.partition === p).map((r) => Number(r.offset));
    expect(offsets, `partition ${p}`).toEqual(Array.from({ length: perPartition }, (_, i) => i));
  }
}

describe('sink loop across rebalances: tasks share partitions, restarts and reconfiguration lose and repeat nothing', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await createTestApp({ 'offset.flush.interval.ms': 100 }, { plugins: [scriptedSink] }));
  });
  afterAll(async () => {
    await app.stop();
  });

  it('delivers each offset once through task restarts and a change of tasks.max', async () => {
    const topic = uniqueName('rebalance');
    const name = uniqueName('scripted');
    const script = newScript(name);
    await createTopic(topic, PARTITIONS);
    produceRound(topic, 0, 100);
    const config = { 'connector.class': 'test.ScriptedSink', topics: topic, script: name, 'tasks.max': '2' };
    await app.herder.putConfig(name, config, true);
    await waitFor('round 0 delivered', () => script.accepted.length >= 400);
    await waitFor('both tasks own partitions', () => {
      const owners = new Set(
        script.events
          .filter((e) => e.startsWith('open'))
          .slice(-2)
          .map((e) => e.split(' ')[1]),
      );
      return owners.size === 2;
    });

    // A graceful task restart commits before giving its partitions up: nothing is delivered twice.
    await app.herder.restartTask(name, 1);
    produceRound(topic, 1, 100);
    await waitFor('round 1 delivered', () => script.accepted.length >= 800);

    // Reconfiguration stops every task (each commits) and starts one that takes all partitions.
    await app.herder.putConfig(name, { ...config, 'tasks.max': '1' }, false);
    produceRound(topic, 2, 100);
    await waitFor('round 2 delivered', () => script.accepted.length >= 1200);
    await new Promise((r) => setTimeout(r, 500));

    expectEachOffsetOnce(script, topic, 300);
    expect(new Set(script.accepted.map((r) => r.task))).toEqual(new Set([0, 1]));
    // Every close of a partition came before any other task opened it again.
    const owner = new Map<string, string>();
    for (const event of script.events) {
      const [kind, task, list] = event.split(' ');
      for (const tp of (list ?? '').split(',').filter(Boolean)) {
        if (kind === 'open') {
          expect(owner.get(tp), `${tp} opened by task ${task} while owned`).toBeUndefined();
          owner.set(tp, task!);
        } else {
          owner.delete(tp);
        }
      }
    }
    const { offsets } = await app.herder.getOffsets(name);
    expect(offsets.map((o) => o.offset?.['kafka_offset'])).toEqual(Array(PARTITIONS).fill(300));
  });
});
