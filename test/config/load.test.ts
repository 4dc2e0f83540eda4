import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configCheck, defaultConfig, loadConfig, readConfig } from '../../src/config';

const FIXTURE = join(__dirname, '..', 'fixtures', 'config', 'takopi-linear.toml');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kai-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeToml(text: string, name = 'kai.toml'): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The messages a file produces, or [] when it is valid. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    readConfig({ path: writeToml(text), env, cwd: dir });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('loading kai.toml', () => {
  test("the seed's takopi-linear example file loads unchanged with its values and the seed's defaults", () => {
    const { config, warnings } = readConfig({ path: FIXTURE, env: {} });
    expect(warnings).toEqual([]);
    const t = config.transports.linear;
    expect(t.app_id).toBe('your-app-id');
    expect(t.poll_interval).toBe(5);
    expect(t.message_overflow).toBe('split');
    expect(t.attachment_allowed_hosts).toEqual(['uploads.linear.app']);
    expect(t.webhook_enabled).toBe(true);
    expect(t.webhook_path).toBe('/webhooks/linear');
    expect(t.files).toEqual({ enabled: true, auto_put: true, auto_put_mode: 'prompt', uploads_dir: 'incoming' });
    const p = config.plugins.linear;
    expect(p.project_map).toEqual({ 'linear-project-uuid': 'my-project' });
    expect(p.success_state_name).toBe('In Review');
    expect(p.auto_labels.failed).toBe('agent:failed');
    expect(p.project_engines).toEqual({ 'my-project': 'claude' });
    expect(config.default_engine).toBe('claude');
    expect(config.projects['my-project']).toEqual({
      path: '/srv/repos/my-project',
      worktrees_dir: '.worktrees',
      worktree_base: 'main',
      default_engine: 'codex',
    });
    // The gateway URL is also the database kai's ingester reads.
    expect(config.database.url).toBe(t.gateway_database_url);
    // kai's own sections get their defaults.
    expect(config.temporal.address).toBe('localhost:7233');
    expect(config.temporal.task_queue).toBe('kai');
  });

  test('a minimal file gets the seed defaults for every key it leaves out', () => {
    const config = loadConfig({ path: writeToml('[transports.linear]\napp_id = "a"\n'), env: {} });
    const t = config.transports.linear;
    expect([t.poll_interval, t.poll_batch_size, t.max_body_chars, t.plan_coalesce_s, t.ephemeral_activity_coalesce_s]).toEqual([5, 10, 10000, 1, 0.2]);
    expect([t.attachment_max_bytes, t.attachment_dir, t.webhook_port]).toEqual([20_000_000, '.takopi-linear/attachments', 8080]);
    expect(config.plugins.linear.worktree_strategy).toBe('per_issue');
    expect(config.plugins.linear.branch_prefix).toBe('kai/');
    expect(config.plugins.linear.comment_followups_debounce_seconds).toBe(0.5);
  });

  test('without --config, KAI_CONFIG or ./kai.toml the defaults apply', () => {
    const loaded = readConfig({ env: {}, cwd: dir });
    expect(loaded.path).toBeUndefined();
    expect(loaded.origin).toBe('defaults');
    expect(loaded.config).toEqual(defaultConfig());
  });

  test('--config wins over KAI_CONFIG, which wins over ./kai.toml', () => {
    writeToml('default_engine = "from-cwd"\n');
    const envFile = writeToml('default_engine = "from-env"\n', 'env.toml');
    const flagFile = writeToml('default_engine = "from-flag"\n', 'flag.toml');
    expect(loadConfig({ env: {}, cwd: dir }).default_engine).toBe('from-cwd');
    expect(loadConfig({ env: { KAI_CONFIG: envFile }, cwd: dir }).default_engine).toBe('from-env');
    expect(loadConfig({ path: flagFile, env: { KAI_CONFIG: envFile }, cwd: dir }).default_engine).toBe('from-flag');
  });

  test('a --config path that does not exist is an error naming the file', () => {
    const missing = join(dir, 'nope.toml');
    expect(() => loadConfig({ path: missing, env: {} })).toThrow(/nope\.toml[\s\S]*cannot read the configuration file given with --config: ENOENT/);
  });

  test('relative project paths resolve against the config file, ~ against HOME', () => {
    const config = loadConfig({
      path: writeToml('[projects.a]\npath = "repos/a"\n[projects.b]\npath = "~/b"\n'),
      env: { HOME: '/home/someone' },
    });
    expect(config.projects.a!.path).toBe(join(dir, 'repos', 'a'));
    expect(config.projects.b!.path).toBe('/home/someone/b');
  });
});

describe('invalid values name the key, what was expected and what was found', () => {
  const CASES: Array<[string, string]> = [
    ['[transports.linear]\npoll_interval = "fast"', 'transports.linear.poll_interval: expected a number, found the string "fast".'],
    ['[transports.linear]\nmessage_overflow = "wrap"', 'transports.linear.message_overflow: expected one of "split", "trim", found the string "wrap".'],
    ['[transports.linear]\nwebhook_port = 70000', 'transports.linear.webhook_port: expected a number at most 65535, found the integer 70000.'],
    ['[transports.linear]\npoll_batch_size = 0', 'transports.linear.poll_batch_size: expected a number greater than 0, found the integer 0.'],
    ['[transports.linear]\nwebhook_path = "hooks"', 'transports.linear.webhook_path: expected a string starting with "/", found the string "hooks".'],
    ['[transports.linear]\ndownload_attachments = "yes"', 'transports.linear.download_attachments: expected a boolean (true or false), found the string "yes".'],
    ['[transports.linear.files]\nauto_put_mode = "always"', 'transports.linear.files.auto_put_mode: expected one of "upload", "prompt", found the string "always".'],
    ['[plugins.linear]\nproject_map = 3', 'plugins.linear.project_map: expected a table, found the integer 3.'],
    ['[plugins.linear]\nworktree_strategy = "per_team"', 'plugins.linear.worktree_strategy: expected one of "per_issue", "shared", found the string "per_team".'],
    ['[plugins.linear]\nsubissues_max = 2.5', 'plugins.linear.subissues_max: expected an integer, found the number 2.5.'],
    ['[projects.web]\nworktrees_dir = ".wt"', 'projects.web: give the repository as either url = "<git URL>" (a remote each worker mirrors) or path = "/local/checkout", exactly one of them; found a table.'],
    ['[limits]\nconcurrent_engine_runs = -1', 'limits.concurrent_engine_runs: expected a number greater than 0, found the integer -1.'],
    ['[temporal]\naddress = 7233', 'temporal.address: expected a string, found the integer 7233.'],
    ['[engines.claude]\nargs = "--verbose"', 'engines.claude.args: expected an array, found the string "--verbose".'],
    ['[log]\nlevel = "loud"', 'log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", found the string "loud".'],
  ];
  test.each(CASES.map(([toml, message]) => [message.split(':')[0]!, toml, message] as const))('%s: a wrong value gives its message', (_key, toml, message) => {
    expect(problemsOf(toml)).toEqual([message]);
  });

  test('every problem in a file is reported at once', () => {
    const problems = problemsOf('[transports.linear]\npoll_interval = "x"\nmax_body_chars = 10\n[limits]\nidle_timeout_s = "1d"\n');
    expect(problems).toHaveLength(3);
  });

  test('a TOML syntax error gives the line and column without echoing the line', () => {
    let message = '';
    try {
      loadConfig({ path: writeToml('[transports.linear]\noauth_token = "lin_oauth_secret_value\n'), env: {} });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/line 2, column \d+: not valid TOML/);
    expect(message).not.toContain('lin_oauth_secret_value');
  });

  test('a secret of the wrong type is reported without its value', () => {
    const problems = problemsOf('[transports.linear]\nwebhook_signing_secret = ["hunter2-secret"]\noauth_token = 424242\n');
    expect(problems.join('\n')).toContain('transports.linear.webhook_signing_secret: expected a string, found an array.');
    expect(problems.join('\n')).toContain('transports.linear.oauth_token: expected a string, found a number.');
    expect(problems.join('\n')).not.toMatch(/hunter2|424242/);
  });
});

describe('unknown keys', () => {
  test('a misspelt key is an error with a did-you-mean', () => {
    expect(problemsOf('[transports.linear]\npoll_intervall = 5\n')).toEqual([
      'transports.linear.poll_intervall: unknown key in [transports.linear]. Did you mean "poll_interval"?',
    ]);
    expect(problemsOf('[plugins.linear]\nsucess_state_name = "Done"\n')).toEqual([
      'plugins.linear.sucess_state_name: unknown key in [plugins.linear]. Did you mean "success_state_name"?',
    ]);
  });

  test('a misspelt section is an error with a did-you-mean', () => {
    expect(problemsOf('[temporall]\naddress = "x:7233"\n')).toEqual(['temporall: unknown key in the top level. Did you mean "temporal"?']);
    expect(problemsOf('[plugins.linaer]\nbranch_prefix = "x/"\n')).toEqual(['plugins.linaer: unknown section [plugins.linaer]. Did you mean "linear"?']);
  });

  test('an unknown key with no near match lists the known keys', () => {
    const [problem] = problemsOf('[workspace]\nzzz = 1\n');
    expect(problem).toBe('workspace.zzz: unknown key in [workspace]. Known keys: cleanup_on_end.');
  });

  test("takopi's own sections for other transports, engines and plugins are accepted and ignored with a note", () => {
    const path = writeToml(
      [
        'watch_config = true',
        'default_project = "web"',
        '[transports.telegram]',
        'bot_token = "123:telegram-secret"',
        'chat_id = 1',
        '[transports.linear]',
        'app_id = "app"',
        '[codex]',
        'extra_args = ["-c", "notify=[]"]',
        '[claude]',
        'model = "sonnet"',
        '[plugins]',
        'enabled = ["takopi-linear"]',
        '[plugins.slack-helper]',
        'x = 1',
        '[projects.web]',
        'path = "/srv/web"',
        'chat_id = -100',
      ].join('\n'),
    );
    const { config, warnings } = readConfig({ path, env: {} });
    expect(config.transports.linear.app_id).toBe('app');
    expect(config.projects.web!.path).toBe('/srv/web');
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('watch_config'),
        expect.stringContaining('[codex]'),
        expect.stringContaining('[claude]'),
        expect.stringContaining('[transports.telegram]'),
        expect.stringContaining('[plugins.slack-helper]'),
      ]),
    );
    expect(JSON.stringify(config)).not.toContain('telegram-secret');
  });
});

describe('environment overrides', () => {
  test('secrets from the environment override the file', () => {
    const { config, fromEnv } = readConfig({
      path: FIXTURE,
      env: {
        LINEAR_OAUTH_TOKEN: 'lin_oauth_from_env',
        LINEAR_WEBHOOK_SECRET: 'whsec-from-env',
        DATABASE_URL: 'postgresql://kai:envpw@db:5432/kai',
        GITHUB_TOKEN: 'ghp_from_env',
        LINEAR_CLIENT_SECRET: 'client-secret-from-env',
      },
    });
    expect(config.transports.linear.oauth_token).toBe('lin_oauth_from_env');
    expect(config.transports.linear.webhook_signing_secret).toBe('whsec-from-env');
    expect(config.database.url).toBe('postgresql://kai:envpw@db:5432/kai');
    expect(config.transports.linear.gateway_database_url).toBe('postgresql://kai:envpw@db:5432/kai');
    expect(config.github.token).toBe('ghp_from_env');
    expect(config.linear.client_secret).toBe('client-secret-from-env');
    expect(fromEnv).toEqual(['LINEAR_OAUTH_TOKEN', 'LINEAR_WEBHOOK_SECRET', 'LINEAR_CLIENT_SECRET', 'DATABASE_URL', 'GITHUB_TOKEN']);
  });

  test('secrets from the environment apply with no file at all', () => {
    const config = loadConfig({ env: { LINEAR_OAUTH_TOKEN: 'tok', DATABASE_URL: 'postgresql://localhost/kai' }, cwd: dir });
    expect(config.transports.linear.oauth_token).toBe('tok');
    expect(config.database.url).toBe('postgresql://localhost/kai');
  });

  test('an empty variable does not blank the file value', () => {
    const config = loadConfig({ path: FIXTURE, env: { LINEAR_OAUTH_TOKEN: '' } });
    expect(config.transports.linear.oauth_token).toBe('lin_oauth_fixture_token_0123456789');
  });

  test('an invalid value from the environment is reported under its key', () => {
    expect(() => loadConfig({ env: { KAI_LOG_LEVEL: 'chatty' }, cwd: dir })).toThrow(/log\.level: expected one of .* found the string "chatty"/);
  });
});

describe('kai config check', () => {
  const SECRETS = {
    LINEAR_OAUTH_TOKEN: 'lin_oauth_env_TOPSECRET_1',
    LINEAR_WEBHOOK_SECRET: 'whsec_TOPSECRET_2',
    DATABASE_URL: 'postgresql://kai:TOPSECRET_3@db.internal:5432/kai',
    GITHUB_TOKEN: 'ghp_TOPSECRET_4',
    LINEAR_CLIENT_SECRET: 'lin_client_TOPSECRET_5',
  };

  test('prints the effective configuration with every secret masked', () => {
    const path = writeToml(
      [
        '[transports.linear]',
        'app_id = "visible-app-id"',
        'gateway_database_url = "postgresql://kai:TOPSECRET_6@neon/kai"',
        '[temporal]',
        'api_key = "TOPSECRET_7"',
        '[engines.claude]',
        'binary = "claude"',
        'env = { ANTHROPIC_API_KEY = "TOPSECRET_8", CLAUDE_MODEL = "visible-model" }',
      ].join('\n'),
    );
    for (const format of ['toml', 'json'] as const) {
      const result = configCheck({ path, env: SECRETS, format });
      expect(result.ok).toBe(true);
      expect(result.exitCode).toBe(0);
      expect(result.output).not.toContain('TOPSECRET');
      expect(result.output).toContain('visible-app-id');
      expect(result.output).toContain('visible-model');
      expect(result.output).toContain('postgresql://kai:********@db.internal:5432/kai');
      expect(result.output).toContain('from the environment: LINEAR_OAUTH_TOKEN, LINEAR_WEBHOOK_SECRET, LINEAR_CLIENT_SECRET, DATABASE_URL, GITHUB_TOKEN');
    }
    const json = configCheck({ path, env: SECRETS, format: 'json' }).output;
    const parsed = JSON.parse(json.slice(json.indexOf('{')));
    expect(parsed.transports.linear.oauth_token).toBe('********');
    expect(parsed.github.token).toBe('********');
    expect(parsed.engines.claude.env.ANTHROPIC_API_KEY).toBe('********');
    expect(parsed.transports.linear.poll_interval).toBe(5);
  });

  test("the seed's example file passes with its secrets masked", () => {
    const result = configCheck({ path: FIXTURE, env: {} });
    expect(result.ok).toBe(true);
    expect(result.output).not.toContain('lin_oauth_fixture_token_0123456789');
    expect(result.output).not.toContain('fixture-signing-secret-abcdef');
    expect(result.output).not.toContain('fixture-db-password');
    expect(result.output).toContain('oauth_token = "********"');
  });

  test('an invalid file fails with exit code 1 and names the problem', () => {
    const result = configCheck({ path: writeToml('[transports.linear]\npoll_interval = "soon"\n'), env: {} });
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('transports.linear.poll_interval: expected a number, found the string "soon".');
  });
});
