import type KafkaLib from '@confluentinc/kafka-javascript';

type Consumer = InstanceType<typeof KafkaLib.KafkaConsumer>;

/**
 * Makes `consume(max)` return within about `timeoutMs` whatever the record rate:
 * it waits that long for the first record only, then takes what is already fetched.
 * By default the binding waits `timeoutMs` for *each* record, so a steady trickle
 * (records less than `timeoutMs` apart) kept a call busy until `max` records had
 * arrived — minutes at a few records per second — and nothing that runs between
 * polls (closing aged bundles, commits, flush requests) ran meanwhile.
 */
export function boundPollTime(consumer: Consumer, timeoutMs: number): void {
  consumer.setDefaultConsumeTimeout(timeoutMs);
  // Public in the binding's JavaScript, missing from its type declarations.
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
}
