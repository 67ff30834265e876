/**
 * Failover in cluster mode: three workers share a BackupSink with 6 tasks on a 6-partition
 * topic written at a steady rate; a worker running tasks is killed with -9. Measured: the
 * time from the kill to every task RUNNING on the survivors (the promise: within
 * session.timeout.ms + 10 s), and the catch-up after it, until every partition's committed
 * offset is back at what had been produced when the tasks ran again. The killed worker
 * rejoins between runs.
 */
import KafkaLib from '@confluentinc/kafka-javascript';
import { BUCKET_PREFIX, bucketsOf, unique, type BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { createTopic } from './kafka.js';
import { recordKey, recordValue } from './records.js';
import { s3Settings } from './s3.js';
import { BenchWorker } from './worker.js';

const { Producer } = KafkaLib;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PARTITIONS = 6;
const RECORDS_PER_SECOND = 3_000;
/** The worker default: the figure is what a user gets out of the box. */
const SESSION_TIMEOUT_MS = 10_000;

export async function failoverScenario(ctx: BenchContext): Promise<Figure[]> {
  const runs = ctx.options.quick ? 3 : 5;
  const group = `coldstore-bench-cluster-${unique()}`;
  const topic = `coldstore-bench-failover-${unique()}`;
  const label = `fo${unique()}`;
  const name = `bench-failover-${label}`;
  ctx.topicsToDelete.add(topic);
  for (const t of ['configs', 'offsets', 'status']) ctx.topicsToDelete.add(`${group}-${t}`);
  for (const b of bucketsOf(BUCKET_PREFIX, label)) ctx.bucketsToDelete.add(b);
  await createTopic(ctx.stack.kafkaBootstrap, topic, PARTITIONS);
  const config = (id: string) => ({
    dir: ctx.scratch(`failover-${id}`),
    bootstrap: ctx.stack.kafkaBootstrap,
    config: {
      'group.id': group,
      'worker.id': id,
      'config.storage.topic': `${group}-configs`,
      'offset.storage.topic': `${group}-offsets`,
      'status.storage.topic': `${group}-status`,
      'offset.storage.partitions': 5,
      'status.storage.partitions': 2,
    },
  });
  const workers = new Map<string, BenchWorker>();
  for (const id of ['a', 'b', 'c']) workers.set(id, await BenchWorker.start(config(id)));
  const producer = new Producer({
    'bootstrap.servers': ctx.stack.kafkaBootstrap,
    'client.id': 'coldstore-bench-failover',
    'linger.ms': 5,
    'enable.idempotence': true,
  });
  const produced = Array.from({ length: PARTITIONS }, () => 0);
  let producing = true;
  const failovers: number[] = [];
  const catchUps: number[] = [];
  try {
    await workers.get('a')!.createConnector(name, {
      'connector.class': 'BackupSink',
      topics: topic,
      'tasks.max': String(PARTITIONS),
      'backup.label': label,
      'bucket.prefix': BUCKET_PREFIX,
      'bundle.max.age.ms': '2000',
      ...s3Settings(ctx.stack),
    });
    await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    producer.setPollInterval(20);
    const started = Date.now();
    let sent = 0;
    const production = (async () => {
      while (producing) {
        const due = Math.floor(((Date.now() - started) / 1000) * RECORDS_PER_SECOND);
        for (; sent < due; sent++) {
          const p = sent % PARTITIONS;
          producer.produce(topic, p, recordValue('compressible', p, produced[p]!), recordKey(p, produced[p]!), Date.now());
          produced[p]!++;
        }
        await sleep(20);
      }
    })();
    const anyLive = () => [...workers.values()][0]!;
    /** Task → worker once all tasks are RUNNING on live workers. */
    const placement = async (deadlineMs: number) => {
      for (;;) {
        const tasks = (await anyLive().api('GET', `/connectors/${name}/status`)).body?.tasks as { state: string; worker_id: string }[] | undefined;
        if (tasks?.length === PARTITIONS && tasks.every((t) => t.state === 'RUNNING' && workers.has(t.worker_id))) return tasks.map((t) => t.worker_id);
        if (Date.now() > deadlineMs) throw new Error(`tasks of ${name} not RUNNING on live workers: ${JSON.stringify(tasks)}`);
        await sleep(100);
      }
    };
    await placement(Date.now() + 60_000);
    await sleep(5_000);
    for (let run = 0; run < runs; run++) {
      const placed = await placement(Date.now() + 60_000);
      const victim = placed[run % placed.length]!;
      const killed = workers.get(victim)!;
      workers.delete(victim);
      process.kill(killed.pid, 'SIGKILL');
      const killedAt = Date.now();
      await placement(killedAt + SESSION_TIMEOUT_MS + 60_000);
      const runningAt = Date.now();
      failovers.push((runningAt - killedAt) / 1000);
      const target = [...produced];
      for (;;) {
        const committed = await anyLive().committed(name, topic);
        if (target.every((n, p) => (committed.get(p) ?? 0) >= n)) break;
        if (Date.now() - runningAt > 180_000) throw new Error('the backup did not catch up within 180 s after failover');
        await sleep(200);
      }
      catchUps.push((Date.now() - runningAt) / 1000);
      ctx.log(`failover run ${run + 1}: ${failovers.at(-1)} s to RUNNING elsewhere, ${catchUps.at(-1)} s to catch up`);
      await killed.stop().catch(() => undefined);
      workers.set(victim, await BenchWorker.start(config(victim)));
      await sleep(3_000);
    }
    producing = false;
    await production;
  } finally {
    producing = false;
    producer.disconnect();
    for (const w of workers.values()) await w.stop().catch(() => undefined);
  }
  const note = `${PARTITIONS} tasks on 3 workers, ${RECORDS_PER_SECOND} records/s, session.timeout.ms ${SESSION_TIMEOUT_MS}`;
  return [
    figure({
      id: 'failover/kill9',
      title: 'kill -9 of a worker → its tasks RUNNING on the others',
      unit: 's',
      coldstore: measure(failovers),
      target: { of: 'value', op: '<=', value: SESSION_TIMEOUT_MS / 1000 + 10 },
      note,
    }),
    figure({
      id: 'failover/catch-up',
      title: 'then until every partition is durable up to what was produced at that moment',
      unit: 's',
      coldstore: measure(catchUps),
      note,
    }),
  ];
}
