// `kai doctor` against the test Temporal server, the Linear and GitHub emulators, a real git
// repository, fake engine binaries and the local PostgreSQL: all pass, and each broken piece
// is named with a fix.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { startGitHubEmulator, type GitHubEmulator } from '../../src/emulator/github';
import { startLinearEmulator, type LinearEmulator } from '../../src/emulator/linear';
import { migrate } from '../../src/ingest';
import { temporalAddress } from '../harness/temporal';
import { createTestDatabase, type TestDatabase } from '../ingest/pg';
import { runKai, type KaiRun } from './run-kai';

const LINEAR_TOKEN = 'lin_oauth_doctor_test_token_1234';
const GITHUB_TOKEN = 'ghp_doctor_test_token_5678';
const WEBHOOK_SECRET = 'whsec_doctor_test_secret_9012';

let dir: string;
let linear: LinearEmulator;
let github: GitHubEmulator;
let db: TestDatabase;
let repo: string;
let bin: string;

function fakeEngine(name: string, version: string): string {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\necho "${version}"\n`);
  chmodSync(path, 0o755);
  return path;
}

type Table = Record<string, unknown>;
function merge(base: Table, over: Table): Table {
  const out: Table = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    // An empty table replaces; a non-empty one merges key by key.
    const table = v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
    out[k] = table && cur && typeof cur === 'object' ? merge(cur as Table, v as Table) : v;
  }
  return out;
}

/** A kai.toml where every check passes, changed by `over`; returns its path. */
function config(over: Table = {}, name = `kai-${Math.random().toString(36).slice(2)}.toml`): string {
  const base: Table = {
    default_engine: 'claude',
    projects: { app: { path: repo } },
    transports: { linear: { oauth_token: LINEAR_TOKEN, webhook_signing_secret: WEBHOOK_SECRET } },
    plugins: { linear: { project_map: { default: 'app' } } },
    temporal: { address: temporalAddress(), namespace: 'default' },
    linear: { api_url: linear.url, token_file: join(dir, 'no-token-file.json') },
    github: { api_url: github.url, token: GITHUB_TOKEN },
    engines: {
      claude: { binary: join(bin, 'claude'), model: 'sonnet' },
      codex: { binary: join(bin, 'codex') },
      opencode: { binary: join(bin, 'opencode') },
    },
    database: { url: db.url },
  };
  const path = join(dir, name);
  writeFileSync(path, stringify(merge(base, over)));
  return path;
}

const doctor = (path: string, env: Record<string, string | undefined> = {}) => runKai(['--config', path, 'doctor', '--timeout', '3'], env);

function line(run: KaiRun, check: string): string {
  const found = run.stdout.split('\n').find((l) => l.includes(` ${check}:`));
  if (!found) throw new Error(`no "${check}" line in:\n${run.stdout}`);
  return found;
}

function expectNoSecrets(run: KaiRun): void {
  for (const secret of [LINEAR_TOKEN, GITHUB_TOKEN, WEBHOOK_SECRET, 'wrong_linear_token_abcd', 'ghp_wrong_token_efgh']) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kai-doctor-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  fakeEngine('claude', '2.0.14 (Claude Code)');
  fakeEngine('codex', 'codex-cli 0.46.0');
  fakeEngine('opencode', '0.15.0');
  repo = join(dir, 'app');
  mkdirSync(repo);
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'https://github.com/acme/app.git']);
  linear = await startLinearEmulator({ seed: true, accessToken: LINEAR_TOKEN });
  github = await startGitHubEmulator({ token: GITHUB_TOKEN, repos: ['acme/app'] });
  db = await createTestDatabase();
  await migrate(db.pool);
});

afterAll(async () => {
  await linear?.stop();
  await github?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kai doctor', () => {
  it('passes every check against a working setup and exits 0', async () => {
    const run = await doctor(config());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(line(run, 'Temporal')).toMatch(/^\[ ok \].*reachable at .*namespace "default" present/);
    expect(line(run, 'Search attributes')).toMatch(/^\[ ok \].*KaiIssueIdentifier/);
    expect(line(run, 'Linear token')).toMatch(/^\[ ok \].*valid at http:\/\/127\.0\.0\.1:\d+\/graphql/);
    expect(line(run, 'Linear scopes')).toMatch(/^\[ ok \].*acts as the app/);
    expect(line(run, 'Webhook secret')).toMatch(/^\[ ok \] Webhook secret:\s+set/);
    expect(line(run, 'Engine claude')).toMatch(/^\[ ok \].*2\.0\.14 \(Claude Code\).*default_engine/);
    expect(line(run, 'Engine codex')).toMatch(/^\[ ok \].*codex-cli 0\.46\.0/);
    expect(line(run, 'Engine opencode')).toMatch(/^\[ ok \].*0\.15\.0/);
    expect(line(run, 'Git')).toMatch(/^\[ ok \] Git:\s+git version/);
    expect(line(run, 'Repository app')).toMatch(/^\[ ok \].*is a git repository; remote origin is acme\/app/);
    expect(line(run, 'GitHub token')).toMatch(/^\[ ok \].*can access acme\/app/);
    expect(line(run, 'PostgreSQL')).toMatch(/^\[ ok \].*events table migrated/);
    // The required engine can work: logged in, its model set, kai's containment starts.
    expect(line(run, 'Engine claude login')).toMatch(/^\[ ok \].*logged in \(claude auth status/);
    expect(line(run, 'Engine claude model')).toMatch(/^\[ ok \].*model sonnet/);
    expect(line(run, 'Engine claude sandbox')).toMatch(/^\[ ok \].*cgroup|^\[warn\].*contained by process tree/);
    expect(run.stdout).not.toContain('[FAIL]');
    // A static token works but cannot be renewed: the one warning a working setup may get, beside
    // process-tree containment on a machine without a writable cgroup.
    expect(line(run, 'Linear renewal')).toMatch(/^\[warn\].*static/);
    const warned = run.stdout.split('\n').filter((l) => l.startsWith('[warn]'));
    const allowed = warned.filter((l) => / Linear renewal:| Engine claude sandbox:/.test(l));
    expect(warned).toEqual(allowed);
    expect(run.stdout).toContain(`kai doctor: all required checks passed (${warned.length} warning${warned.length === 1 ? '' : 's'}).`);
    // The Linear check went through the emulator with the configured token.
    expect(linear.requests().some((r) => r.rootFields.includes('viewer') && r.outcome === 'ok')).toBe(true);
    expectNoSecrets(run);
  });

  it('names the Linear token as failing when Linear rejects the token, without printing it', async () => {
    const run = await doctor(config({ transports: { linear: { oauth_token: 'wrong_linear_token_abcd' } } }));
    expect(run.code).toBe(1);
    expect(line(run, 'Linear token')).toMatch(/^\[FAIL\].*viewer query.*failed/);
    expect(run.stdout).toMatch(/fix:\s+The token is wrong or revoked/);
    expect(line(run, 'Linear scopes')).toMatch(/^\[skip\]/);
    expect(run.stdout).toContain('kai doctor: 1 check failed: Linear token.');
    expectNoSecrets(run);
  });

  it('takes the Linear token from LINEAR_OAUTH_TOKEN and never prints it', async () => {
    const run = await doctor(config({ transports: { linear: { oauth_token: 'wrong_linear_token_abcd' } } }), { LINEAR_OAUTH_TOKEN: LINEAR_TOKEN });
    expect(run.code).toBe(0);
    expect(line(run, 'Linear token')).toMatch(/^\[ ok \].*from LINEAR_OAUTH_TOKEN/);
    expectNoSecrets(run);
  });

  it('names the repository that does not exist, and one that is not a git repository', async () => {
    const plain = join(dir, 'not-a-repo');
    mkdirSync(plain, { recursive: true });
    const run = await doctor(config({ projects: { app: { path: join(dir, 'missing') }, docs: { path: plain } } }));
    expect(run.code).toBe(1);
    expect(line(run, 'Repository app')).toMatch(/^\[FAIL\].*missing does not exist/);
    expect(run.stdout).toContain('or fix projects.app.path');
    expect(line(run, 'Repository docs')).toMatch(/^\[FAIL\].*not-a-repo is not a git repository/);
    expect(run.stdout).toMatch(/kai doctor: 2 checks failed: Repository app, Repository docs\./);
  });

  it('names a project_map entry that points at no [projects] section', async () => {
    const run = await doctor(config({ plugins: { linear: { project_map: { default: 'app', 'proj-2': 'web' } } } }));
    expect(run.code).toBe(1);
    expect(line(run, 'Repository web')).toMatch(/^\[FAIL\].*"proj-2" to "web", but there is no \[projects\.web\]/);
  });

  it('names Temporal as failing when the server is unreachable, and skips the search attributes', async () => {
    const port = await closedPort();
    const run = await doctor(config({ temporal: { address: `127.0.0.1:${port}` } }));
    expect(run.code).toBe(1);
    expect(line(run, 'Temporal')).toMatch(new RegExp(`^\\[FAIL\\].*cannot reach 127\\.0\\.0\\.1:${port}`));
    expect(run.stdout).toMatch(/fix:\s+Start Temporal/);
    expect(line(run, 'Search attributes')).toMatch(/^\[skip\]/);
    expect(run.stdout).toContain('kai doctor: 1 check failed: Temporal.');
  });

  it('names Temporal as failing when the namespace does not exist', async () => {
    const run = await doctor(config({ temporal: { namespace: 'no-such-namespace' } }));
    expect(run.code).toBe(1);
    expect(line(run, 'Temporal')).toMatch(/^\[FAIL\].*namespace "no-such-namespace" does not exist/);
    expect(run.stdout).toContain('temporal operator namespace create --namespace no-such-namespace');
  });

  it('names the GitHub token when GitHub rejects it, and when none is set', async () => {
    const wrong = await doctor(config({ github: { token: 'ghp_wrong_token_efgh' } }));
    expect(wrong.code).toBe(1);
    expect(line(wrong, 'GitHub token')).toMatch(/^\[FAIL\].*rejected the token from github\.token \(HTTP 401/);
    expectNoSecrets(wrong);

    const path = config();
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(/^token = .*$/m, ''));
    const none = await doctor(path);
    expect(none.code).toBe(1);
    expect(line(none, 'GitHub token')).toMatch(/^\[FAIL\].*not set/);
  });

  it('checks the GitHub token with GET /user when no repository is known', async () => {
    const run = await doctor(config({ projects: {}, plugins: { linear: { project_map: {} } } }));
    expect(line(run, 'GitHub token')).toMatch(/^\[ ok \].*authenticated as kai-emulator/);
    expect(line(run, 'Repositories')).toMatch(/^\[warn\].*none configured/);
    expect(run.code).toBe(0);
  });

  it('fails on a missing webhook secret, names it, and accepts LINEAR_WEBHOOK_SECRET instead', async () => {
    const path = config();
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(/^webhook_signing_secret = .*$/m, ''));
    const missing = await doctor(path);
    expect(missing.code).toBe(1);
    expect(line(missing, 'Webhook secret')).toMatch(/^\[FAIL\].*not set/);
    const fromEnv = await doctor(path, { LINEAR_WEBHOOK_SECRET: WEBHOOK_SECRET });
    expect(line(fromEnv, 'Webhook secret')).toMatch(/^\[ ok \].*LINEAR_WEBHOOK_SECRET/);
    expectNoSecrets(fromEnv);
  });

  it('fails when the default engine is not installed, but only warns about other engines', async () => {
    const missingDefault = await doctor(config({ default_engine: 'codex', engines: { codex: { binary: join(dir, 'nowhere', 'codex') } } }));
    expect(missingDefault.code).toBe(1);
    expect(line(missingDefault, 'Engine codex')).toMatch(/^\[FAIL\].*not on PATH \(it is required by default_engine\)/);

    const missingOther = await doctor(config({ engines: { opencode: { binary: join(dir, 'nowhere', 'opencode') } } }));
    expect(missingOther.code).toBe(0);
    expect(line(missingOther, 'Engine opencode')).toMatch(/^\[warn\].*not on PATH \(only needed by issues that ask for it\)/);
    const warned = missingOther.stdout.split('\n').filter((l) => l.startsWith('[warn]'));
    expect(warned.filter((l) => !/ Linear renewal:| Engine claude sandbox:/.test(l))).toEqual([line(missingOther, 'Engine opencode')]);
    expect(missingOther.stdout).toContain(`kai doctor: all required checks passed (${warned.length} warnings).`);
  });

  it('fails when the required engine is installed but not logged in, and says how to log in', async () => {
    const loggedOut = join(bin, 'logged-out-claude');
    writeFileSync(loggedOut, '#!/bin/sh\nif [ "$1" = auth ]; then echo "Not logged in"; exit 1; fi\necho "2.1.332 (Claude Code)"\n');
    chmodSync(loggedOut, 0o755);
    const run = await doctor(config({ engines: { claude: { binary: loggedOut, model: 'sonnet' } } }));
    expect(run.code).toBe(1);
    expect(line(run, 'Engine claude')).toMatch(/^\[ ok \].*2\.1\.332/);
    expect(line(run, 'Engine claude login')).toMatch(/^\[FAIL\].*not logged in and no key/);
    expect(run.stdout).toMatch(/claude auth login/);
  });

  it('bounds an engine whose --version hangs by the timeout', async () => {
    const hang = join(bin, 'hanging-claude');
    writeFileSync(hang, '#!/bin/sh\nsleep 30\n');
    chmodSync(hang, 0o755);
    const started = Date.now();
    const run = await runKai(['--config', config({ engines: { claude: { binary: hang } } }), 'doctor', '--timeout', '1']);
    expect(run.code).toBe(1);
    expect(line(run, 'Engine claude')).toMatch(/^\[FAIL\].*--version` failed \(no answer within 1 s\)/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('fails on an events table that was never migrated and on a database it cannot reach', async () => {
    const fresh = await createTestDatabase();
    try {
      const run = await doctor(config({ database: { url: fresh.url } }));
      expect(run.code).toBe(1);
      expect(line(run, 'PostgreSQL')).toMatch(/^\[FAIL\].*no events table/);
      expect(run.stdout).toMatch(/fix:\s+Run `kai migrate`/);
    } finally {
      await fresh.drop();
    }
    const port = await closedPort();
    const down = await doctor(config({ database: { url: `postgres://kai:hunter2secret@127.0.0.1:${port}/kai` } }));
    expect(line(down, 'PostgreSQL')).toMatch(new RegExp(`^\\[FAIL\\].*cannot connect to 127\\.0\\.0\\.1:${port}/kai`));
    expect(down.stdout).not.toContain('hunter2secret');
  });

  it('skips PostgreSQL when no database is configured', async () => {
    const path = config();
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(/^\[database\]\nurl = .*$/m, ''));
    const run = await doctor(path);
    expect(line(run, 'PostgreSQL')).toMatch(/^\[skip\].*not configured/);
    expect(run.code).toBe(0);
  });
});
