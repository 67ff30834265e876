import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { fromKafkaError } from './errors.js';

/** librdkafka's local codes for a refused SASL handshake (_AUTHENTICATION) and a failed TLS handshake (_SSL). */
const AUTHENTICATION = -169;
const SSL = -181;
/** The same failures when librdkafka reports them as a transport error with the reason in the text. */
const SECURITY_TEXT = /SASL authentication error|Authentication failed|SSL handshake failed|certificate verify failed/i;

/** What librdkafka said: an error event, or a log line of severity error or worse (how it reports a refused handshake). */
interface Said {
  code?: number;
  message: string;
  severity?: number;
}

interface Connectable {
  connect(options: unknown, cb: (err: LibrdKafkaError | null) => void): unknown;
  on(event: 'event.error' | 'event.log', listener: (said: Said) => void): unknown;
  removeListener(event: 'event.error' | 'event.log', listener: (said: Said) => void): unknown;
}

/**
 * Why a connect failed when the brokers answered but refused the credentials or the TLS
 * handshake: librdkafka's connect callback only says "broker transport failure" (it keeps
 * retrying such brokers), while its log lines (FAIL, severity 3) name the reason. No retry fixes a wrong
 * password or an untrusted CA, so this is KAFKA_ERROR, naming the settings to fix.
 */
export function securityFailure(seen: Said, doing: string): ColdstoreError {
  const auth = seen.code === AUTHENTICATION || (seen.code !== SSL && /SASL authentication error|Authentication failed/i.test(seen.message));
  const fix = auth
    ? 'the brokers refused the SASL credentials: check kafka.sasl.mechanisms, kafka.sasl.username and kafka.sasl.password (and that the user exists for that mechanism)'
    : "the TLS handshake with the brokers failed: check that kafka.ssl.ca.location names the CA that signed the brokers' certificates and that kafka.security.protocol matches the listener";
  return new ColdstoreError(
    ErrorCodes.KAFKA_ERROR,
    `Kafka ${doing} failed: ${seen.message}${seen.code === undefined ? '' : ` (code ${seen.code})`}: ${auth ? 'authentication failed' : 'TLS/certificate error'}; ${fix}. Retrying cannot help; fix the worker's kafka.* settings and restart it.`,
    { cause: seen },
  );
}

function isSecurityError(said: Said): boolean {
  if (said.severity !== undefined && said.severity > 3) return false;
  return said.code === AUTHENTICATION || said.code === SSL || SECURITY_TEXT.test(said.message ?? '');
}

/** What librdkafka last said about a refused handshake, for the failures it reports only as timeouts or transport errors. */
export interface SecurityWatch {
  seen(): Said | undefined;
  stop(): void;
}

export function watchSecurity(client: Pick<Connectable, 'on' | 'removeListener'>): SecurityWatch {
  let seen: Said | undefined;
  const watch = (said: Said) => {
    if (isSecurityError(said)) seen = { message: said.message, ...(said.severity === undefined ? { code: said.code } : {}) };
  };
  client.on('event.error', watch);
  client.on('event.log', watch);
  return {
    seen: () => seen,
    stop: () => {
      client.removeListener('event.error', watch);
      client.removeListener('event.log', watch);
    },
  };
}

/**
 * A request's failure: a local one (timed out, transport; librdkafka's codes are negative)
 * after the brokers refused the handshake is that refusal; anything else as fromKafkaError.
 */
export function requestFailure(err: LibrdKafkaError, doing: string, watch: SecurityWatch): ColdstoreError {
  const seen = watch.seen();
  return seen && err.code < 0 ? securityFailure(seen, doing) : fromKafkaError(err, doing);
}

/** Connects a client; a failure the brokers' refusal explains (see securityFailure) says so, any other is mapped by fromKafkaError. */
export function connectClient(client: Connectable, options: Record<string, unknown>, doing: string): Promise<void> {
  const watch = watchSecurity(client);
  return new Promise((resolve, reject) => {
    client.connect(options, (err) => {
      watch.stop();
      if (!err) return resolve();
      const seen = watch.seen();
      reject(seen || isSecurityError(err) ? securityFailure(seen ?? err, doing) : fromKafkaError(err, doing));
    });
  });
}
