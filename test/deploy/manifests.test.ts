import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/names';
import { SUPPORTED_NODE_MAJOR } from '../../src/cli/node-version';

const ROOT = join(__dirname, '..', '..');
const PYTHON = join(ROOT, '.tools', 'bin', 'python');
const SCRIPT = join(ROOT, 'scripts', 'validate-manifests.py');
const INSTALL = 'bash scripts/ensure-tools.sh (npm test runs it first)';

function runScript(args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(PYTHON)) throw new Error(`No Python venv at .tools/. Create it and install the validation tools: ${INSTALL}`);
  const res = spawnSync(PYTHON, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (res.status === 2) throw new Error(`The validation tools are missing (${res.stderr.trim()}). Install them: ${INSTALL}`);
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

interface ComposeService {
  image?: string;
  ports?: string[];
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  stop_grace_period?: string;
}

function compose(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const res = runScript(['--dump-compose']);
  expect(res.status).toBe(0);
  return JSON.parse(res.stdout);
}

/** The parts of a rendered Kubernetes resource these tests read. */
interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Resource {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    serviceName?: string;
    clusterIP?: string;
    podManagementPolicy?: string;
    selector?: { matchLabels?: Record<string, string> };
    volumeClaimTemplates?: { metadata: { name: string } }[];
    template?: {
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
        volumes?: { name: string; persistentVolumeClaim?: unknown; ephemeral?: unknown }[];
      };
    };
  };
}

/** A kustomization rendered by `kubectl kustomize`, as the cluster would receive it. */
function rendered(target: string): Resource[] {
  const res = runScript(['--render', join(ROOT, target)]);
  if (res.status !== 0) throw new Error(`kubectl kustomize ${target} failed:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

function find(docs: Resource[], kind: string, name: string): Resource {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind}/${name} among ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
}

/** The shutdown grace the rendered ConfigMap's kai.toml gives the worker (the schema's default when unset). */
function shutdownGrace(docs: Resource[]): number {
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.data?.['kai.toml'] !== undefined)!;
  const dir = mkdtempSync(join(tmpdir(), 'kai-deploy-'));
  try {
    writeFileSync(join(dir, 'kai.toml'), configMap.data!['kai.toml']!);
    return loadConfig({ path: join(dir, 'kai.toml'), env: {} }).limits.worker_shutdown_grace_s;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The service table of docs/deploy.md: service -> { image, ports }. */
function documentedServices(): Map<string, { image: string; ports: string[] }> {
  const text = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
  const section = text.slice(text.indexOf('| service | image | ports |'));
  const rows = new Map<string, { image: string; ports: string[] }>();
  for (const line of section.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [service, image, ports] = line.split('|').slice(1, 4).map((c) => c.trim());
    rows.set(service!, { image: image!, ports: ports ? ports.split(',').map((p) => p.trim()) : [] });
  }
  return rows;
}

describe('deployment files', () => {
  test('the compose file, the rendered Kubernetes manifests and the Dockerfile pass offline validation', () => {
    const res = runScript();
    if (res.status !== 0) throw new Error(`scripts/validate-manifests.py failed:\n${res.stdout}\n${res.stderr}`);
    expect(res.stdout).toContain('docker-compose.temporal.yml matches the Compose Specification schema');
    expect(res.stdout).toMatch(/deploy\/base: StatefulSet\/kai-worker is valid against Kubernetes/);
    expect(res.stdout).toMatch(/deploy\/overlays\/example: StatefulSet\/kai-worker is valid against Kubernetes/);
    expect(res.stdout).toMatch(/deploy\/overlays\/example: Deployment\/kai-ingester is valid against Kubernetes/);
    expect(res.stdout).toMatch(/deploy\/overlays\/example: Deployment\/kai-gateway is valid against Kubernetes/);
    expect(res.stdout).toContain('Dockerfile passes hadolint');
    expect(res.stdout).toContain('all deployment files are valid');
  });

  test("every compose service's image and ports match the table in docs/deploy.md", () => {
    const { services } = compose();
    const documented = documentedServices();
    expect([...documented.keys()].sort()).toEqual(Object.keys(services).sort());
    for (const [name, svc] of Object.entries(services)) {
      const doc = documented.get(name)!;
      expect({ name, image: svc.image }).toEqual({ name, image: doc.image });
      expect({ name, ports: svc.ports ?? [] }).toEqual({ name, ports: doc.ports });
    }
  });

  test("the compose stack registers exactly kai's search attributes", () => {
    const { services } = compose();
    const script = JSON.stringify(services['temporal-admin-tools']!.command);
    const registered = /for name in ([\w ]+); do/.exec(script)![1]!.trim().split(/\s+/);
    expect(registered.sort()).toEqual(Object.keys(SEARCH_ATTRIBUTE_TYPES).sort());
  });

  test("the kai.toml files shipped for compose and Kubernetes are valid kai configuration", () => {
    const composeCfg = loadConfig({ path: join(ROOT, 'deploy', 'compose', 'kai.toml'), env: {} });
    expect(composeCfg.temporal.metrics_bind_address).toBe('0.0.0.0:9465');
    expect(composeCfg.metrics.port).toBe(9464);
    expect(composeCfg.transports.linear.webhook_port).toBe(8080);
    const k8sCfg = loadConfig({ path: join(ROOT, 'deploy', 'base', 'kai.toml'), env: {} });
    expect(k8sCfg.limits.worker_shutdown_grace_s).toBe(90);
    expect(k8sCfg.transports.linear.oauth_token).toBeUndefined();
  });

  test("each compose worker's stop grace period exceeds its configured shutdown grace time", () => {
    const { services } = compose();
    const cfg = loadConfig({ path: join(ROOT, 'deploy', 'compose', 'kai.toml'), env: {} });
    const workers = Object.entries(services).filter(([, svc]) => JSON.stringify(svc.command) === '["worker"]');
    expect(workers.length).toBeGreaterThanOrEqual(2);
    for (const [name, svc] of workers) {
      const seconds = Number(/^(\d+)s$/.exec(svc.stop_grace_period ?? '')?.[1]);
      expect({ name, exceeds: seconds > cfg.limits.worker_shutdown_grace_s }).toEqual({ name, exceeds: true });
    }
  });

  test('each compose worker has a worker name of its own and its own named volume at its data directory', () => {
    const { services, volumes } = compose();
    const workers = Object.entries(services).filter(([, svc]) => JSON.stringify(svc.command) === '["worker"]');
    expect(workers.length).toBeGreaterThanOrEqual(2);
    const names = new Set<string>();
    const dataVolumes = new Set<string>();
    for (const [service, svc] of workers) {
      const name = svc.environment?.KAI_WORKER_NAME;
      const dataDir = svc.environment?.KAI_DATA_DIR;
      expect({ service, name, dataDir }).toEqual({ service, name: expect.any(String), dataDir: expect.any(String) });
      names.add(name!);
      const volume = (svc.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === dataDir)?.[0];
      expect({ service, volume: volume !== undefined && volume in volumes }).toEqual({ service, volume: true });
      dataVolumes.add(volume!);
    }
    expect(names.size).toBe(workers.length);
    expect(dataVolumes.size).toBe(workers.length);
    // The webhook holds no workspace: no data directory, no worker name.
    expect(services['kai-webhook']!.environment).not.toHaveProperty('KAI_DATA_DIR');
    expect(services['kai-webhook']!.environment).not.toHaveProperty('KAI_WORKER_NAME');
  });

  describe.each(['deploy/base', 'deploy/overlays/example'])('Kubernetes workloads as %s renders them', (target) => {
    let docs: Resource[];
    beforeAll(() => {
      docs = rendered(target);
    });

    test('the worker is a StatefulSet of at least 2 pods, each with a volume claim mounted at its KAI_DATA_DIR', () => {
      const worker = find(docs, 'StatefulSet', 'kai-worker');
      expect(docs.filter((d) => d.kind === 'Deployment' && d.metadata.name === 'kai-worker')).toEqual([]);
      expect(worker.spec!.replicas).toBeGreaterThanOrEqual(2);
      expect(worker.spec!.podManagementPolicy).toBe('Parallel');
      const claims = worker.spec!.volumeClaimTemplates!.map((t) => t.metadata.name);
      const container = worker.spec!.template!.spec.containers.find((c) => c.name === 'worker')!;
      const dataDir = container.env!.find((e) => e.name === 'KAI_DATA_DIR')!.value!;
      expect(dataDir).toBe('/var/lib/kai');
      const mount = container.volumeMounts!.find((m) => m.mountPath === dataDir)!;
      expect(claims).toContain(mount.name);
      // The claim is the data volume, not shadowed by a pod volume of the same name.
      expect((worker.spec!.template!.spec.volumes ?? []).map((v) => v.name)).not.toContain(mount.name);
    });

    test("the worker's name is its pod's name, and a headless Service governs the StatefulSet", () => {
      const worker = find(docs, 'StatefulSet', 'kai-worker');
      const container = worker.spec!.template!.spec.containers.find((c) => c.name === 'worker')!;
      const name = container.env!.find((e) => e.name === 'KAI_WORKER_NAME')!;
      expect(name).toEqual({ name: 'KAI_WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
      expect(find(docs, 'Service', worker.spec!.serviceName!).spec!.clusterIP).toBe('None');
    });

    test("the worker's termination grace period exceeds its shutdown grace, and it runs as non-root with a PodDisruptionBudget", () => {
      const worker = find(docs, 'StatefulSet', 'kai-worker');
      const pod = worker.spec!.template!.spec;
      expect(pod.terminationGracePeriodSeconds!).toBeGreaterThan(shutdownGrace(docs));
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
      const pdb = find(docs, 'PodDisruptionBudget', 'kai-worker');
      expect(worker.spec!.selector!.matchLabels).toMatchObject(pdb.spec!.selector!.matchLabels!);
    });

    test('webhook, gateway and ingester are Deployments with no volume claims', () => {
      const stateless = docs.filter((d) => ['Deployment', 'StatefulSet'].includes(d.kind) && d.metadata.name !== 'kai-worker');
      const expected = target === 'deploy/base' ? ['kai-webhook'] : ['kai-gateway', 'kai-ingester', 'kai-webhook'];
      expect(stateless.map((d) => d.metadata.name).sort()).toEqual(expected);
      for (const d of stateless) {
        const pod = d.spec!.template!.spec;
        expect({ name: d.metadata.name, kind: d.kind, claimTemplates: d.spec!.volumeClaimTemplates ?? [] }).toEqual({
          name: d.metadata.name,
          kind: 'Deployment',
          claimTemplates: [],
        });
        expect((pod.volumes ?? []).filter((v) => v.persistentVolumeClaim || v.ephemeral)).toEqual([]);
        expect(pod.containers.flatMap((c) => c.env ?? []).map((e) => e.name)).not.toContain('KAI_DATA_DIR');
      }
    });
  });

  test('the image, package.json and the Node that CI installs are all kai\'s supported Node major', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(/^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1]).toBe(String(SUPPORTED_NODE_MAJOR));
    for (const from of dockerfile.match(/^FROM .*/gm)!) expect(from).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS \w+$/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${SUPPORTED_NODE_MAJOR}`);
    const tools = readFileSync(join(ROOT, 'scripts', 'ensure-tools.sh'), 'utf8');
    expect(/KAI_NODE_VERSION:-(\d+)\./.exec(tools)?.[1]).toBe(String(SUPPORTED_NODE_MAJOR));
  });
});
