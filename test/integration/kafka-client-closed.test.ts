import KafkaLib from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { bootstrap } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/tmp.js';

const { KafkaConsumer } = KafkaLib;
/** Public in the binding's JavaScript, missing from its type declarations. */
type Asked = { assignmentLost(): boolean; rebalanceProtocol(): string };

function connected(consumer: InstanceType<typeof KafkaConsumer>): Promise<void> {
  return new Promise((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
}

function disconnected(consumer: InstanceType<typeof KafkaConsumer>): Promise<void> {
  return new Promise((resolve, reject) => consumer.disconnect((err) => (err ? reject(err) : resolve())));
}

// The stock binding read its deleted native consumer when asked after disconnecting and
// crashed the whole process with SIGSEGV (reliability.md finding 16); the patched client
// answers instead. A crash here fails the run: the test's worker process dies.
describe('the patched Kafka client after its consumer disconnected', () => {
  it('answers assignmentLost and rebalanceProtocol without touching the closed handle', async () => {
    const consumer = new KafkaConsumer({ 'bootstrap.servers': bootstrap(), 'group.id': uniqueName('closed') } as never, {});
    await connected(consumer);
    expect((consumer as unknown as Asked).assignmentLost()).toBe(false);
    await disconnected(consumer);
    expect(consumer.isConnected()).toBe(false);
    expect((consumer as unknown as Asked).assignmentLost()).toBe(false);
    expect((consumer as unknown as Asked).rebalanceProtocol()).toBe('NONE');
  });
});
