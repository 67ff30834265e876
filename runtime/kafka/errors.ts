import { ColdstoreError, ErrorCodes, isFenced, RetriableError } from '../api/errors.js';

interface LibrdKafkaErrorLike {
  message: string;
  code?: number;
  isFatal?: boolean;
  isRetriable?: boolean;
}

/** Kafka's protocol error code for a topic the broker does not know. */
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/**
 * Broker answers that no retry can change: the record or the request is refused as it
 * is (too large, invalid, not authorized). librdkafka's codes are Kafka's protocol codes.
 */
const PERMANENT: Record<number, string> = {
  2: 'a record is corrupt',
  10: "a record is larger than the producer or topic allows (raise producer.override.message.max.bytes and the topic's max.message.bytes)",
  17: 'the topic name is invalid',
  18: "a batch is larger than the broker accepts (raise the broker's message.max.bytes)",
  29: 'not authorized for the topic',
  30: 'not authorized for the consumer group',
  31: 'not authorized for the cluster',
  53: 'not authorized for the transactional id',
  87: 'the broker rejected a record as invalid',
};

/**
 * Kafka's answers to a client whose role another one took over: a newer producer with the
 * same transactional.id (PRODUCER_FENCED 90, INVALID_PRODUCER_EPOCH 47, librdkafka's
 * fatal _FENCED -144) or a newer consumer with the same group.instance.id (FENCED_INSTANCE_ID 82).
 */
const FENCED = new Set([90, 47, -144, 82]);

/** Maps a client error to ours: transient broker trouble is retriable, the rest is not. */
export function fromKafkaError(err: unknown, doing: string): ColdstoreError {
  const e = err as LibrdKafkaErrorLike;
  const message = `Kafka ${doing} failed: ${e?.message ?? String(err)} (code ${e?.code ?? 'unknown'})`;
  if (e?.code === UNKNOWN_TOPIC_OR_PARTITION) {
    return new RetriableError(`${message}. The topic does not exist (yet); the task picks it up once it is created, or fix topics/topics.regex.`, {
      cause: err,
    });
  }
  if (e?.code !== undefined && FENCED.has(e.code)) {
    return new ColdstoreError(
      ErrorCodes.TASK_FENCED,
      `${message}: another worker took over this work (this worker was paused or cut off past its session timeout). It stops here; the new owner carries on.`,
      { cause: err },
    );
  }
  const permanent = e?.code === undefined ? undefined : PERMANENT[e.code];
  if (permanent)
    return new ColdstoreError(ErrorCodes.KAFKA_ERROR, `${message}: ${permanent}. Retrying cannot help; fix it and restart the task.`, { cause: err });
  if (e?.isFatal) return new ColdstoreError(ErrorCodes.KAFKA_ERROR, `${message}. The client cannot continue; restart the task.`, { cause: err });
  return new RetriableError(`${message}. Retrying; check that the brokers are reachable.`, { cause: err });
}

/**
 * Aborts a failed transaction and returns the error to raise: a fenced producer's sends
 * fail first as purged from its queue (-152), a retriable-looking error; its abort
 * then says it was fenced, which is what the task must hear (it stops, not fails).
 */
export async function abortAfter(failure: unknown, abort: () => Promise<void>): Promise<unknown> {
  if (isFenced(failure)) return failure;
  const refused = await abort().then(
    () => undefined,
    (err: unknown) => err,
  );
  return isFenced(refused) ? refused : failure;
}
