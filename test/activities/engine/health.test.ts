// `kai doctor`'s engine checks, against stand-in CLIs that answer their status commands the way
// the real ones do (exit code and text): logged in or a key present, the sandbox starts, a
// model is set; every result that is not ok says what to do.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkEngineHealth, type EngineHealthCheck } from '../../../src/activities/engine/health';
import { makeConfig, tempDir } from './helpers';

jest.setTimeout(60_000);

let tmp: ReturnType<typeof tempDir>;
let bin: string;
beforeEach(() => {
  tmp = tempDir('kai-health-');
  bin = path.join(tmp.dir, 'bin');
  mkdirSync(bin);
});
afterEach(() => tmp.cleanup());

/** A stand-in CLI: `case "$*"` arms give each subcommand's output and exit code. */
function cli(name: string, arms: Record<string, { out: string; code: number }>): void {
  const cases = Object.entries(arms)
    .map(([args, r]) => `  "${args}") printf '%s\\n' '${r.out}'; exit ${r.code} ;;`)
    .join('\n');
  writeFileSync(path.join(bin, name), `#!/bin/sh\ncase "$*" in\n${cases}\n  *) echo "error: unrecognized subcommand '$1'" >&2; exit 2 ;;\nesac\n`);
  chmodSync(path.join(bin, name), 0o755);
}

const env = (extra: Record<string, string> = {}) => ({ PATH: `${bin}:/usr/bin:/bin`, HOME: tmp.dir, ...extra });
const byCheck = (results: EngineHealthCheck[]) => Object.fromEntries(results.map((r) => [r.check, r]));

it('an engine that is not installed gets one result with the fix', async () => {
  const results = await checkEngineHealth('claude', { config: makeConfig(), env: env() });
  expect(results).toEqual([{ engine: 'claude', check: 'installed', level: 'fail', detail: 'no executable "claude" on PATH', fix: 'install claude or set [engines.claude] binary' }]);
});

it('claude logged in (claude auth status exits 0) with a model: all ok', async () => {
  cli('claude', { 'auth status': { out: '{"loggedIn": true, "authMethod": "claude.ai"}', code: 0 } });
  const results = byCheck(await checkEngineHealth('claude', { config: makeConfig({ engines: { claude: { model: 'sonnet' } } }), env: env() }));
  expect(results.installed!.level).toBe('ok');
  expect(results.credentials).toMatchObject({ level: 'ok', detail: expect.stringContaining('logged in (claude auth status') });
  expect(results.model).toMatchObject({ level: 'ok', detail: 'model sonnet' });
  expect(['ok', 'warn']).toContain(results.sandbox!.level); // cgroup or process-tree containment
});

it('claude not logged in and no key: a failure that says how to log in, without printing anything secret', async () => {
  cli('claude', { 'auth status': { out: '{"loggedIn": false}', code: 1 } });
  const results = byCheck(await checkEngineHealth('claude', { config: makeConfig(), env: env({ LINEAR_OAUTH_TOKEN: 'lin_standin_secret' }) }));
  expect(results.credentials).toMatchObject({ level: 'fail', fix: expect.stringContaining('claude auth login') });
  expect(results.model).toMatchObject({ level: 'warn', fix: expect.stringContaining('[engines.claude] model') });
  expect(JSON.stringify(results)).not.toContain('lin_standin_secret');
});

it('a key in the engine env counts as credentials without asking the CLI, and the key itself is never shown', async () => {
  cli('codex', { 'sandbox linux -- /bin/true': { out: '', code: 0 } });
  const all = await checkEngineHealth('codex', { config: makeConfig({ engines: { codex: { env: { OPENAI_API_KEY: 'sk-standin-123' } } } }), env: env() });
  const results = byCheck(all);
  expect(results.credentials).toEqual({ engine: 'codex', check: 'credentials', level: 'ok', detail: 'key present: OPENAI_API_KEY' });
  expect(all).toContainEqual({ engine: 'codex', check: 'sandbox', level: 'ok', detail: "codex's own sandbox (Landlock/seccomp) starts" });
  expect(JSON.stringify(results)).not.toContain('sk-standin-123');
});

it('codex not logged in, and a sandbox that cannot start, each with a fix', async () => {
  cli('codex', {
    'login status': { out: 'Not logged in', code: 1 },
    'sandbox linux -- /bin/true': { out: 'Error: sandbox error: Landlock is not supported', code: 1 },
  });
  const results = await checkEngineHealth('codex', { config: makeConfig(), env: env() });
  const credentials = results.find((r) => r.check === 'credentials')!;
  expect(credentials).toMatchObject({ level: 'fail', detail: expect.stringContaining('Not logged in'), fix: expect.stringContaining('codex login') });
  const own = results.find((r) => r.check === 'sandbox' && r.detail.includes('codex'))!;
  expect(own).toMatchObject({ level: 'fail', detail: expect.stringContaining('Landlock is not supported'), fix: expect.stringContaining('danger-full-access') });
});

it('opencode with providers and no model: credentials ok, model required', async () => {
  cli('opencode', { 'providers list': { out: '┌  Credentials ~/.local/share/opencode/auth.json\n│\n●  Anthropic api\n│\n└  1 credentials', code: 0 } });
  const results = byCheck(await checkEngineHealth('opencode', { config: makeConfig(), env: env() }));
  expect(results.credentials!.level).toBe('ok');
  expect(results.model).toMatchObject({ level: 'fail', fix: 'set [engines.opencode] model = "<provider>/<model>"' });
});

it('opencode with 0 credentials is not logged in', async () => {
  cli('opencode', { 'providers list': { out: '┌  Credentials ~/.local/share/opencode/auth.json\n│\n└  0 credentials', code: 0 } });
  const results = byCheck(await checkEngineHealth('opencode', { config: makeConfig({ engines: { opencode: { model: 'anthropic/claude-sonnet-4-5' } } }), env: env() }));
  expect(results.credentials).toMatchObject({ level: 'fail', fix: expect.stringContaining('opencode providers login') });
});

it('pi and gemini: a stored login or a key, else a failure naming the variables to set', async () => {
  cli('pi', {});
  cli('gemini', {});
  const none = byCheck(await checkEngineHealth('gemini', { config: makeConfig(), env: env() }));
  expect(none.credentials).toMatchObject({ level: 'fail', fix: expect.stringContaining('GEMINI_API_KEY') });
  const keyed = byCheck(await checkEngineHealth('gemini', { config: makeConfig(), env: env({ GEMINI_API_KEY: 'standin' }) }));
  expect(keyed.credentials).toMatchObject({ level: 'ok', detail: 'key present: GEMINI_API_KEY' });
  mkdirSync(path.join(tmp.dir, '.pi', 'agent'), { recursive: true });
  writeFileSync(path.join(tmp.dir, '.pi', 'agent', 'auth.json'), '{}');
  const pi = byCheck(await checkEngineHealth('pi', { config: makeConfig({ engines: { pi: { model: 'anthropic/claude-sonnet-4-5' } } }), env: env() }));
  expect(pi.credentials).toMatchObject({ level: 'ok', detail: expect.stringContaining('.pi/agent/auth.json') });
  expect(pi.model!.level).toBe('ok');
});

it('a status command that hangs is reported, not waited on forever', async () => {
  writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\nexec sleep 30\n');
  chmodSync(path.join(bin, 'claude'), 0o755);
  const results = byCheck(await checkEngineHealth('claude', { config: makeConfig(), env: env(), timeoutMs: 500 }));
  expect(results.credentials).toMatchObject({ level: 'fail', detail: expect.stringContaining('no answer within') });
});

it('checks for several engines may run at once', async () => {
  cli('claude', { 'auth status': { out: '{"loggedIn": true}', code: 0 } });
  const config = makeConfig({ engines: { claude: { model: 'sonnet' } } });
  const runs = await Promise.all([1, 2, 3].map(() => checkEngineHealth('claude', { config, env: env() })));
  for (const results of runs) expect(results.filter((r) => r.level === 'fail')).toEqual([]);
});
