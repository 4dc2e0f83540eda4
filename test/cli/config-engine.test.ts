// `kai config check`, configuration errors on any command, and `kai engine parse`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKai } from './run-kai';

const SEED_FIXTURE = join(__dirname, '..', 'fixtures', 'config', 'takopi-linear.toml');
const ENGINE_FIXTURES = join(__dirname, '..', 'fixtures', 'engines');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kai-cli-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('kai config check', () => {
  it('prints the effective configuration of a takopi-linear file with every secret masked', async () => {
    const run = await runKai(['--config', SEED_FIXTURE, 'config', 'check']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`# kai configuration: ${SEED_FIXTURE}`);
    expect(run.stdout).toMatch(/oauth_token = "\*{8}"/);
    expect(run.stdout).toMatch(/webhook_signing_secret = "\*{8}"/);
    expect(run.stdout).toContain('postgresql://kai:********@db.example.neon.tech/kai_gateway');
    for (const secret of ['lin_oauth_fixture_token_0123456789', 'fixture-signing-secret-abcdef', 'fixture-db-password']) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  });

  it('masks secrets that come from the environment and says where they came from', async () => {
    const path = file('env.toml', 'default_engine = "codex"\n');
    const run = await runKai(['--config', path, 'config', 'check', '--json'], { GITHUB_TOKEN: 'ghp_from_env_secret_42', LINEAR_OAUTH_TOKEN: 'lin_from_env_secret_43' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('# from the environment: LINEAR_OAUTH_TOKEN, GITHUB_TOKEN');
    const json = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(json.github.token).toBe('********');
    expect(json.transports.linear.oauth_token).toBe('********');
    expect(json.default_engine).toBe('codex');
    expect(run.stdout).not.toContain('ghp_from_env_secret_42');
    expect(run.stdout).not.toContain('lin_from_env_secret_43');
  });

  it('exits non-zero on an unknown key, naming the key and the one meant', async () => {
    const path = file('typo.toml', '[temporal]\nadress = "localhost:7233"\n');
    const run = await runKai(['--config', path, 'config', 'check']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`Invalid configuration in ${path}`);
    expect(run.stderr).toContain('temporal.adress: unknown key in [temporal]. Did you mean "address"?');
  });

  it('exits non-zero on a wrongly typed value, naming the key, what was expected and what was found', async () => {
    const path = file('type.toml', '[limits]\nconcurrent_engine_runs = "four"\n');
    const run = await runKai(['--config', path, 'config', 'check']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/limits\.concurrent_engine_runs: expected a number, found the string "four"/);
  });
});

describe('a bad configuration on any command', () => {
  it('stops `kai doctor` before it checks anything, with exit code 2 and the key named', async () => {
    const path = file('bad-doctor.toml', 'defualt_engine = "claude"\n');
    const run = await runKai(['--config', path, 'doctor']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('kai: Invalid configuration');
    expect(run.stderr).toContain('defualt_engine: unknown key in the top level. Did you mean "default_engine"?');
  });

  it('names the file given with --config when it does not exist', async () => {
    const run = await runKai(['--config', join(dir, 'nope.toml'), 'status', 'ENG-1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read the configuration file given with --config: ENOENT');
  });
});

describe('kai engine parse', () => {
  it.each(['claude', 'codex', 'opencode'])('prints the %s fixture as JSONL of kai events, ending with the completion', async (engine) => {
    const run = await runKai(['engine', 'parse', '--engine', engine, join(ENGINE_FIXTURES, engine, 'basic.jsonl')]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    const events = lines.map((l) => JSON.parse(l) as { type: string; ok?: boolean });
    for (const e of events) expect(typeof e.type).toBe('string');
    expect(events.at(-1)).toMatchObject({ type: 'completed', ok: true });
    // Each fixture carries one line that is not JSON: kai warns about it and goes on.
    expect(run.stderr).toMatch(/^warning: .*skipped a line that is not JSON/m);
    expect(run.stderr).toMatch(new RegExp(`^\\d+ lines, ${events.length} events, 1 skipped$`, 'm'));
  });

  it('reports a failed run from a recorded error stream', async () => {
    const run = await runKai(['engine', 'parse', '--engine', 'claude', join(ENGINE_FIXTURES, 'claude', 'error.jsonl')]);
    expect(run.code).toBe(0);
    const last = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'completed', ok: false });
  });

  it('exits non-zero on an unknown engine, listing the engines that exist', async () => {
    const run = await runKai(['engine', 'parse', '--engine', 'gpt', join(ENGINE_FIXTURES, 'claude', 'basic.jsonl')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Unknown engine "gpt". The engines that exist are: claude, codex, opencode, pi, gemini, script.');
  });

  it('exits non-zero when the recorded file does not exist, naming it', async () => {
    const missing = join(dir, 'missing.jsonl');
    const run = await runKai(['engine', 'parse', '--engine', 'claude', missing]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(missing);
  });
});
