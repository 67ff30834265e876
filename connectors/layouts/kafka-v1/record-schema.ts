import avro from 'avsc';
import { containerHeader } from './avro-container.js';

/** The `kafka` layout's record schema, exactly as docs/formats.md states it. */
export const KAFKA_RECORD_SCHEMA = {
  type: 'record',
  name: 'KafkaRecord',
  namespace: 'coldstore.v1',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'offset', type: 'long' },
    { name: 'timestamp', type: 'long' },
    { name: 'timestampType', type: { type: 'enum', name: 'TimestampType', symbols: ['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE'] } },
    { name: 'key', type: ['null', 'bytes'] },
    { name: 'value', type: ['null', 'bytes'] },
    {
      name: 'headers',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Header',
          fields: [
            { name: 'key', type: 'string' },
            { name: 'value', type: ['null', 'bytes'] },
          ],
        },
      },
    },
  ],
} as const;

export const KAFKA_SCHEMA_JSON = JSON.stringify(KAFKA_RECORD_SCHEMA);
export const kafkaRecordType = avro.Type.forSchema(KAFKA_RECORD_SCHEMA as unknown as avro.Schema);
/** Every kafka-v1 container starts with these bytes. */
export const KAFKA_CONTAINER_HEADER = containerHeader(KAFKA_SCHEMA_JSON);
