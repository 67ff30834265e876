/**
 * Manages the real local test stack: `npm run stack -- up [--fresh] | down | status | restart <kafka|s3|kms> | fetch`.
 * Servers keep running after this exits; `down` stops them.
 */
import { SERVICES, fetchStackJars, stackDown, stackEndpoints, stackStatus, stackUp, startService, stopService, type ServiceName } from './stack.js';

const USAGE = 'usage: stack up [--fresh] | down | status | restart <kafka|s3|kms> | fetch';

const say = (line: string) => console.log(line);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function up(args: string[]): Promise<void> {
  const t0 = Date.now();
  const result = await stackUp({ fresh: args.includes('--fresh'), log: (l) => say(`  ${l}`) });
  const e = result.endpoints;
  say(`stack up in ${seconds(t0)} (started: ${result.started.join(', ') || 'none'}; ` + `already running: ${result.reused.join(', ') || 'none'})`);
  say(`  kafka  ${e.kafkaBootstrap}`);
  say(`  s3     ${e.s3Endpoint}  access key ${e.s3AccessKey}  secret ${e.s3SecretKey}  region ${e.s3Region}`);
  say(`  kms    ${e.kmsEndpoint}  any credentials  region ${e.kmsRegion}  (moto: keys in memory only)`);
}

async function down(): Promise<void> {
  const t0 = Date.now();
  const stopped = await stackDown();
  say(stopped.length ? `stopped ${stopped.join(', ')} in ${seconds(t0)}` : 'stack was not running');
}

async function status(): Promise<void> {
  for (const s of await stackStatus()) {
    say(`${s.name.padEnd(6)} ${s.state.padEnd(10)} pid ${String(s.pid ?? '-').padEnd(8)} ${s.endpoint}  (log: ${s.logFile})`);
  }
}

async function restart(name: string | undefined): Promise<void> {
  if (!SERVICES.includes(name as ServiceName)) throw new Error(USAGE);
  const service = name as ServiceName;
  const t0 = Date.now();
  await stopService(service);
  await startService(service, { log: (l) => say(`  ${l}`) });
  const e = stackEndpoints();
  const endpoint = { kafka: e.kafkaBootstrap, s3: e.s3Endpoint, kms: e.kmsEndpoint }[service];
  say(`restarted ${service} in ${seconds(t0)} (${endpoint})`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up(rest);
    case 'down':
      return down();
    case 'status':
      return status();
    case 'restart':
      return restart(rest[0]);
    case 'fetch':
      return fetchStackJars(say);
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
