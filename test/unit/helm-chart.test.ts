// The Helm chart (deploy/helm/coldstore), without a Kubernetes cluster: `helm lint`,
// `helm template` of a standalone worker and of a three-worker cluster, the manifests
// validated offline against the Kubernetes schemas (kubernetes-validate, strict), and
// what the chart promises checked in them. The tools come from scripts/setup-helm.sh;
// in CI (CI set) their absence fails the test instead of skipping it.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { resolvePlaceholders } from '../../runtime/config/placeholders.js';
import {
  CHART,
  CLUSTER_VALUES,
  HELM,
  KUBERNETES_VALIDATE,
  NAMESPACE,
  RELEASE,
  container,
  kinds,
  missingTools,
  one,
  render,
  run,
  selects,
  template,
  workerConfig,
} from '../helpers/helm.js';
import { parsedFor, probe, skipChartTests } from '../helpers/helm-config.js';
import { asArray, asObj, at, finalInstruction, isObj, read, type Obj } from '../helpers/repo-files.js';
import { tmpDir } from '../helpers/tmp.js';

const FULLNAME = `${RELEASE}-coldstore`;

describe.skipIf(skipChartTests('helm-chart.test.ts'))('Helm chart deploy/helm/coldstore', () => {
  const cluster = () => render(['-f', CLUSTER_VALUES]);

  it('has its tools', () => {
    expect(missingTools(), 'run bash scripts/setup-helm.sh').toEqual([]);
  });

  it.each([
    ['the default values', []],
    ['ci/cluster-values.yaml', ['-f', CLUSTER_VALUES]],
  ])('passes helm lint --strict with %s', (_name, args) => {
    const r = run(HELM, ['lint', '--strict', CHART, ...args]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it('renders manifests valid for Kubernetes 1.29 (the chart’s minimum) and 1.35, strictly', () => {
    const dir = tmpDir('helm-manifests');
    const files: string[] = [];
    for (const [name, manifests] of [
      ['standalone', render()],
      ['cluster', cluster()],
      ['tls', render(['-f', CLUSTER_VALUES, '--set', 'rest.tls.enabled=true,rest.tls.secretName=coldstore-tls'])],
    ] as const) {
      // ServiceMonitor is a Prometheus Operator CRD, not in the core schemas: its shape is checked below.
      const core = manifests.filter((m) => m.kind !== 'ServiceMonitor');
      core.forEach((m, i) => writeFileSync(join(dir, `${name}-${i}.yaml`), stringify(m)));
      files.push(...core.map((_, i) => join(dir, `${name}-${i}.yaml`)));
    }
    for (const version of ['1.29.0', '1.35.0']) {
      const r = run(KUBERNETES_VALIDATE, ['--strict', '-k', version, ...files]);
      expect(r.stdout + r.stderr).not.toMatch(/WARN|ERROR/);
      expect((r.stdout + r.stderr).match(/passed for resource/g)?.length).toBe(files.length);
      expect(r.status).toBe(0);
    }
    // The same validation refuses a manifest a cluster would refuse.
    const broken = structuredClone(one(cluster(), 'StatefulSet'));
    asObj(broken.spec, 'spec').replicas = 'three';
    writeFileSync(join(dir, 'broken.yaml'), stringify(broken));
    const bad = run(KUBERNETES_VALIDATE, ['--strict', '-k', '1.35.0', join(dir, 'broken.yaml')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('replicas');
  });

  describe('standalone (default values)', () => {
    let manifests: Obj[] = [];
    beforeAll(() => {
      manifests = render();
    });

    it('runs one worker with a volume claim for data.dir', () => {
      expect(kinds(manifests)).toEqual(['ConfigMap', 'Service', 'Service', 'StatefulSet']);
      const sts = one(manifests, 'StatefulSet');
      expect(at(sts, 'spec.replicas')).toBe(1);
      const claim = asObj(asArray(at(sts, 'spec.volumeClaimTemplates'))[0], 'volume claim');
      expect(at(claim, 'spec.resources.requests.storage')).toBe('1Gi');
      const config = parsedFor(manifests, `${FULLNAME}-0`);
      expect(config['group.id']).toBe(undefined);
      expect(config['worker.id']).toBe(`${FULLNAME}-0`);
      const dataMount = asArray(container(manifests).volumeMounts).find((m) => at(m, 'name') === at(claim, 'metadata.name'));
      expect(at(dataMount, 'mountPath')).toBe(config['data.dir']);
    });

    it('probes /health for liveness and startup, /ready for readiness, on the REST port', () => {
      const c = container(manifests);
      expect(probe(manifests, 'livenessProbe')).toEqual({ path: '/health', port: 'rest', scheme: 'HTTP' });
      expect(probe(manifests, 'startupProbe')).toEqual({ path: '/health', port: 'rest', scheme: 'HTTP' });
      expect(probe(manifests, 'readinessProbe')).toEqual({ path: '/ready', port: 'rest', scheme: 'HTTP' });
      const port = asArray(c.ports).find((p) => at(p, 'name') === 'rest');
      expect(at(port, 'containerPort')).toBe(workerConfig(manifests)['rest.port']);
    });

    it('sends client requests to the worker even when it is not ready, and rolls the workers when the config changes', () => {
      // A FAILED task makes the only worker not ready: /ui and POST .../restart must still reach it.
      const client = one(manifests, 'Service', FULLNAME);
      expect(at(client, 'spec.publishNotReadyAddresses')).toBe(true);
      expect(selects(at(client, 'spec.selector'), at(one(manifests, 'StatefulSet'), 'spec.template.metadata.labels'))).toBe(true);
      const checksum = (m: Obj[]) => at(one(m, 'StatefulSet'), 'spec.template.metadata.annotations.checksum/config');
      expect(checksum(manifests)).toMatch(/^[0-9a-f]{64}$/);
      expect(checksum(render(['--set', 'config.log\\.level=debug']))).not.toBe(checksum(manifests));
      expect(checksum(render())).toBe(checksum(manifests));
    });

    it('runs the image the repository builds, tagged with its version', () => {
      const version = String(asObj(JSON.parse(read('package.json')), 'package.json').version);
      expect(container(manifests).image).toBe(`coldstore:${version}`);
    });

    it('starts the worker with the ConfigMap as its --config', () => {
      const args = asArray(container(manifests).args).map(String);
      expect(args.slice(0, 2)).toEqual(['worker', '--config']);
      const mount = asArray(container(manifests).volumeMounts).find((m) => at(m, 'name') === 'config');
      expect(args[2]).toBe(`${String(at(mount, 'mountPath'))}/worker.json`);
      const volume = asArray(at(one(manifests, 'StatefulSet'), 'spec.template.spec.volumes')).find((v) => at(v, 'name') === 'config');
      expect(at(volume, 'configMap.name')).toBe(at(one(manifests, 'ConfigMap'), 'metadata.name'));
    });

    it("runs as the image's non-root user, and gives tasks the time to flush and commit", () => {
      // The image's USER is the Node image's "node", uid and gid 1000.
      expect(finalInstruction('USER').trim()).toBe('node');
      const pod = asObj(at(one(manifests, 'StatefulSet'), 'spec.template.spec'), 'pod spec');
      expect(at(pod, 'securityContext')).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
      expect(at(container(manifests), 'securityContext')).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      const shutdownMs = Number(workerConfig(manifests)['task.shutdown.graceful.timeout.ms']);
      expect(Number(pod.terminationGracePeriodSeconds) * 1000).toBeGreaterThanOrEqual(shutdownMs + 10_000);
    });
  });

  describe('cluster (ci/cluster-values.yaml: 3 workers, bearer auth, ServiceMonitor)', () => {
    let manifests: Obj[] = [];
    let sts: Obj = {};
    beforeAll(() => {
      manifests = cluster();
      sts = one(manifests, 'StatefulSet');
    });

    it('runs three workers of one group, with the storage topics replicated', () => {
      expect(kinds(manifests)).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceMonitor', 'StatefulSet']);
      expect(at(sts, 'spec.replicas')).toBe(3);
      expect(at(one(manifests, 'PodDisruptionBudget'), 'spec.maxUnavailable')).toBe(1);
      // Updates replace one worker at a time (RollingUpdate's default maxUnavailable is 1).
      expect(at(sts, 'spec.updateStrategy')).toEqual({ type: 'RollingUpdate' });
      // persistence.enabled false: data.dir is an emptyDir, enough where the state is in Kafka.
      expect(at(sts, 'spec.volumeClaimTemplates')).toBe(undefined);
      const data = asArray(at(sts, 'spec.template.spec.volumes')).find((v) => at(v, 'name') === 'data');
      expect(at(data, 'emptyDir')).toEqual({});
      const config = parsedFor(manifests, `${FULLNAME}-0`, { COLDSTORE_REST_TOKEN: 'token' });
      expect(config['group.id']).toBe('coldstore-prod');
      expect([config['config.storage.topic'], config['offset.storage.topic'], config['status.storage.topic']]).toEqual([
        'coldstore-configs',
        'coldstore-offsets',
        'coldstore-status',
      ]);
      for (const rf of ['config', 'offset', 'status'] as const) expect(config[`${rf}.storage.replication.factor`]).toBe(3);
    });

    it("gives each worker its own id and rest.advertised.url, its pod's DNS name through the headless Service", () => {
      const headless = one(manifests, 'Service', String(at(sts, 'spec.serviceName')));
      expect(at(headless, 'spec.clusterIP')).toBe('None');
      expect(at(headless, 'spec.publishNotReadyAddresses')).toBe(true);
      // The client Service too: readiness gates rolling updates, not who can reach /ui.
      expect(at(one(manifests, 'Service', FULLNAME), 'spec.publishNotReadyAddresses')).toBe(true);
      expect(selects(at(headless, 'spec.selector'), at(sts, 'spec.template.metadata.labels'))).toBe(true);
      const env = asArray(container(manifests).env);
      expect(
        at(
          env.find((e) => at(e, 'name') === 'POD_NAME'),
          'valueFrom.fieldRef.fieldPath',
        ),
      ).toBe('metadata.name');
      const urls = [0, 1, 2].map((i) => {
        const pod = `${String(at(sts, 'metadata.name'))}-${i}`;
        const config = parsedFor(manifests, pod, { COLDSTORE_REST_TOKEN: 'token' });
        expect(config['worker.id']).toBe(pod);
        return config['rest.advertised.url'];
      });
      expect(urls).toEqual([0, 1, 2].map((i) => `http://${FULLNAME}-${i}.${String(at(headless, 'metadata.name'))}.${NAMESPACE}.svc.cluster.local:8083`));
    });

    it('takes secrets from Secrets, through ${env:...} and ${file:...}, never in clear', () => {
      const config = workerConfig(manifests);
      expect(config['rest.auth.type']).toBe('bearer');
      expect(config['rest.auth.token']).toBe('${env:COLDSTORE_REST_TOKEN}');
      const env = asArray(container(manifests).env).find((e) => at(e, 'name') === 'COLDSTORE_REST_TOKEN');
      expect(at(env, 'valueFrom.secretKeyRef')).toEqual({ name: 'coldstore-rest', key: 'token' });
      expect(config['kafka.sasl.password']).toBe('${file:/etc/coldstore/secrets/kafka/password}');
      const volumes = asArray(at(sts, 'spec.template.spec.volumes'));
      const mount = asArray(container(manifests).volumeMounts).find((m) => at(m, 'mountPath') === '/etc/coldstore/secrets/kafka');
      expect(
        at(
          volumes.find((v) => at(v, 'name') === at(mount, 'name')),
          'secret.secretName',
        ),
      ).toBe('coldstore-kafka');
      // Resolved as the worker resolves them: the parsed config carries the secrets' values.
      const parsed = parsedFor(manifests, `${FULLNAME}-1`, { COLDSTORE_REST_TOKEN: 'the-token' });
      expect(parsed['rest.auth.token']).toBe('the-token');
      expect(parsed.kafka['sasl.password']).toBe('secret-from-file');
      expect(resolvePlaceholders({ t: String(config['rest.auth.token']) }, {}).errors).toHaveLength(1);
    });

    it('lets Prometheus scrape /metrics of every worker without credentials', () => {
      expect(workerConfig(manifests)['rest.metrics.open']).toBe(true);
      const monitor = one(manifests, 'ServiceMonitor');
      expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(at(monitor, 'metadata.labels.release')).toBe('prometheus');
      expect(Object.keys(asObj(monitor.spec, 'spec')).sort()).toEqual(['endpoints', 'namespaceSelector', 'selector']);
      expect(at(monitor, 'spec.namespaceSelector.matchNames')).toEqual([NAMESPACE]);
      const services = manifests.filter((m) => m.kind === 'Service');
      const scraped = services.filter((s) => selects(at(monitor, 'spec.selector.matchLabels'), at(s, 'metadata.labels')));
      expect(scraped.map((s) => at(s, 'metadata.name'))).toEqual([at(sts, 'spec.serviceName')]);
      const endpoints = asArray(at(monitor, 'spec.endpoints')).filter(isObj);
      expect(endpoints).toHaveLength(1);
      const endpoint = endpoints[0] as Obj;
      expect(Object.keys(endpoint).sort()).toEqual(['interval', 'path', 'port', 'scheme', 'scrapeTimeout']);
      expect(endpoint).toMatchObject({ path: '/metrics', scheme: 'http', interval: '30s', scrapeTimeout: '10s' });
      expect(asArray(at(scraped[0], 'spec.ports')).map((p) => at(p, 'name'))).toContain(endpoint.port);
    });
  });

  it.each([
    [['--set', 'terminationGracePeriodSeconds=30'], 'terminationGracePeriodSeconds (30) must be at least'],
    [['--set', 'replicas=3'], 'set cluster.enabled and cluster.replicas'],
    [['--set', 'rest.auth.type=bearer'], 'rest.auth.token is required'],
    [['-f', CLUSTER_VALUES, '--set', 'metrics.open=false'], 'needs metrics.open'],
    [['--set', 'rest.tls.enabled=true'], 'rest.tls.secretName is required'],
  ])('refuses %j, saying why', (args, message) => {
    const r = template(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
