/**
 * vitest globalSetup: brings up the real local stack (Kafka, S3Proxy, moto's KMS) before any test.
 * If it cannot, the whole run fails: tests never silently skip the real servers.
 *
 * Teardown stops only what this run started, so a stack brought up beforehand with
 * `npm run stack -- up` stays up; COLDSTORE_STACK_KEEP=1 keeps everything running (fast
 * re-runs while developing).
 */
import type { TestProject } from 'vitest/node';
import { removeSuiteNetworks } from './nemesis/netns-host.js';
import { stackUp, stopService } from './stack/stack.js';

/** The nemesis namespaces and veth pairs that runs which died left behind (test/nemesis/netns.ts). */
async function removeStrandedNetworks(log: (line: string) => void): Promise<void> {
  try {
    const removed = await removeSuiteNetworks();
    if (removed.namespaces.length + removed.links.length > 0)
      log(`removed stranded namespaces ${removed.namespaces.join(',')} and veths ${removed.links.join(',')}`);
  } catch (err) {
    // No ip tool or no root here: then no test could have made any.
    log(`could not look for stranded nemesis namespaces: ${(err as Error).message}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => console.error(`[nemesis] ${line}`);
  await removeStrandedNetworks(log);
  const result = await stackUp({ log: (line) => console.error(`[stack] ${line}`) });
  const { endpoints } = result;
  // Workers are forked after globalSetup, so they inherit these.
  process.env.COLDSTORE_TEST_KAFKA = endpoints.kafkaBootstrap;
  process.env.COLDSTORE_TEST_S3 = endpoints.s3Endpoint;
  process.env.COLDSTORE_TEST_KMS = endpoints.kmsEndpoint;
  project.provide('stack', endpoints);

  return async () => {
    await removeStrandedNetworks(log);
    if (process.env.COLDSTORE_STACK_KEEP === '1') return;
    for (const name of result.started) await stopService(name);
  };
}
