import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../runtime/api/errors.js';
import { connectClient } from '../../runtime/kafka/connect.js';

type Listener = (said: { code?: number; message: string; severity?: number }) => void;

/** A client whose connect fails the way librdkafka's does after it logged `said` (only the callback's text is generic). */
function failingClient(said: { message: string; severity?: number; code?: number }[]) {
  const listeners = new Map<string, Listener[]>();
  return {
    on(event: string, l: Listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), l]);
    },
    removeListener(event: string, l: Listener) {
      listeners.set(
        event,
        (listeners.get(event) ?? []).filter((x) => x !== l),
      );
    },
    connect(_options: unknown, cb: (err: { code: number; message: string } | null) => void) {
      for (const s of said) for (const l of listeners.get(s.severity === undefined ? 'event.error' : 'event.log') ?? []) l(s);
      cb({ code: -195, message: 'broker transport failure' });
    },
    listening: () => [...listeners.values()].flat().length,
  };
}

describe('a Kafka connect the brokers refused', () => {
  it('names authentication and the SASL settings for a refused password', async () => {
    const client = failingClient([
      {
        severity: 3,
        message:
          'sasl_ssl://b:9094/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      },
    ]);
    const err = await connectClient(client as never, {}, 'consumer connect').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.KAFKA_ERROR, message: expect.stringMatching(/authentication failed; .*kafka\.sasl\.password/) });
    expect(client.listening()).toBe(0);
  });

  it('names TLS and kafka.ssl.ca.location for an untrusted broker certificate, though the line says sasl_ssl', async () => {
    const client = failingClient([
      { severity: 3, message: 'sasl_ssl://b:9094/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed' },
    ]);
    const err = await connectClient(client as never, {}, 'consumer connect').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.KAFKA_ERROR, message: expect.stringMatching(/TLS\/certificate error; .*kafka\.ssl\.ca\.location/) });
  });

  it('leaves an unreachable broker retriable, and ignores debug lines that merely mention SSL', async () => {
    const client = failingClient([{ severity: 7, message: 'SSL handshake failed (debug trace)' }]);
    const err = await connectClient(client as never, {}, 'consumer connect').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.RETRIABLE });
  });
});
