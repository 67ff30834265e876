import type { BackupParticipant, CutPartition } from '../../connectors/common/backups.js';
import type { KafkaCluster } from '../../runtime/api/cluster.js';

/**
 * The cut: every partition of every topic the participants cover, with its log start
 * and last stable offset, each bound read for all partitions in one request. Everything
 * acknowledged before the request is inside it.
 */
export async function takeCut(
  cluster: KafkaCluster,
  participants: readonly { name: string; participant: BackupParticipant }[],
): Promise<Map<string, CutPartition[]>> {
  const topics = (await cluster.listTopics()).sort();
  const covered = new Map(participants.map(({ name, participant }) => [name, topics.filter((t) => participant.coversTopic(t))]));
  const partitionCounts = new Map<string, number>();
  for (const topic of new Set([...covered.values()].flat())) {
    const described = await cluster.describeTopic(topic);
    if (described) partitionCounts.set(topic, described.partitions);
  }
  const all = [...partitionCounts].flatMap(([topic, count]) => Array.from({ length: count }, (_, partition) => ({ topic, partition })));
  const bounds = new Map((await cluster.partitionBounds(all)).map((b) => [`${b.topic}/${b.partition}`, b]));
  const cut = new Map<string, CutPartition[]>();
  for (const [name, names] of covered) {
    cut.set(
      name,
      names.flatMap((topic) =>
        Array.from({ length: partitionCounts.get(topic) ?? 0 }, (_, partition) => {
          const b = bounds.get(`${topic}/${partition}`)!;
          return { topic, partition, startOffset: b.start, endOffset: b.end };
        }),
      ),
    );
  }
  return cut;
}
