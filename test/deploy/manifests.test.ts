import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
}

function compose(): { services: Record<string, ComposeService> } {
  const res = runScript(['--dump-compose']);
  expect(res.status).toBe(0);
  return JSON.parse(res.stdout);
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
    expect(res.stdout).toMatch(/deploy\/base: Deployment\/kai-worker is valid against Kubernetes/);
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

  test("the worker's compose stop grace period exceeds its configured shutdown grace time", () => {
    const text = readFileSync(join(ROOT, 'docker-compose.temporal.yml'), 'utf8');
    const grace = /kai-worker:[\s\S]*?stop_grace_period: (\d+)s/.exec(text);
    const cfg = loadConfig({ path: join(ROOT, 'deploy', 'compose', 'kai.toml'), env: {} });
    expect(Number(grace![1])).toBeGreaterThan(cfg.limits.worker_shutdown_grace_s);
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
