// abortAfter (runtime/kafka/errors.ts): a transaction whose sends failed is aborted, and
// the error raised is the fence when the abort says the producer was fenced — a fenced
// producer's queued sends fail first as "purged", which looked retriable and ended a
// healthy worker's task FAILED instead of stopping it (found by the network-partition test).
import { describe, expect, it, vi } from 'vitest';
import { ErrorCodes, RetriableError } from '../../runtime/api/index.js';
import { isFenced } from '../../runtime/api/errors.js';
import { abortAfter, fromKafkaError } from '../../runtime/kafka/errors.js';

const purged = () => fromKafkaError({ message: 'Local: Purged in queue', code: -152 }, 'produce to g-offsets');
const fenced = () => fromKafkaError({ message: 'Local: This instance has been fenced by a newer instance', code: -144 }, 'abort transaction');

describe('abortAfter', () => {
  it('raises the fence the abort reports rather than the purged send', async () => {
    const failure = purged();
    expect(failure).toBeInstanceOf(RetriableError);
    const raised = await abortAfter(failure, () => Promise.reject(fenced()));
    expect(isFenced(raised)).toBe(true);
    expect((raised as { code: string }).code).toBe(ErrorCodes.TASK_FENCED);
  });

  it('keeps the original error when the abort succeeds or fails for another reason', async () => {
    const failure = purged();
    expect(await abortAfter(failure, () => Promise.resolve())).toBe(failure);
    expect(await abortAfter(failure, () => Promise.reject(new Error('broker down')))).toBe(failure);
  });

  it('does not abort a producer already known fenced', async () => {
    const abort = vi.fn(() => Promise.resolve());
    const failure = fenced();
    expect(await abortAfter(failure, abort)).toBe(failure);
    expect(abort).not.toHaveBeenCalled();
  });
});
