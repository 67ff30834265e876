import { ColdstoreError, ErrorCodes, RetriableError } from '../api/errors.js';

interface LibrdKafkaErrorLike {
  message: string;
  code?: number;
  isFatal?: boolean;
  isRetriable?: boolean;
}

/** Kafka's protocol error code for a topic the broker does not know. */
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** Maps a client error to ours: transient broker trouble is retriable, the rest is not. */
export function fromKafkaError(err: unknown, doing: string): ColdstoreError {
  const e = err as LibrdKafkaErrorLike;
  const message = `Kafka ${doing} failed: ${e?.message ?? String(err)} (code ${e?.code ?? 'unknown'})`;
  if (e?.code === UNKNOWN_TOPIC_OR_PARTITION) {
    return new RetriableError(`${message}. The topic does not exist (yet); the task picks it up once it is created, or fix topics/topics.regex.`, { cause: err });
  }
  if (e?.isFatal) return new ColdstoreError(ErrorCodes.KAFKA_ERROR, `${message}. The client cannot continue; restart the task.`, { cause: err });
  return new RetriableError(`${message}. Retrying; check that the brokers are reachable.`, { cause: err });
}
