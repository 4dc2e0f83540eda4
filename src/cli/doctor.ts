// `kai doctor`: checks that everything kai needs is in place, one line per check, each failure
// with a one-line fix. Every check is bounded by a timeout and the groups run concurrently, so
// a dead dependency costs seconds, not minutes. Nothing it prints carries a secret.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { Client, type ConnectionOptions } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import pino from 'pino';
import { DEFAULT_BINARIES, ENGINE_NAMES, isEngineName, type EngineName } from '../activities/engine/registry';
import { findExecutable } from '../activities/engine/binary';
import { createGitHubClient, parseRepoSlug } from '../activities/git/github';
import { expandPath } from '../activities/git/projects';
import { createLinearGateway } from '../activities/linear/gateway';
import { createLinearTokenProvider, LINEAR_SCOPES, LinearAuthError, readTokenFile, tokenFilePath, type LinearTokenProvider } from '../config/linear-auth';
import type { KaiConfig } from '../config/schema';
import { MASK, secretValues } from '../config/secrets';
import { MIGRATIONS } from '../ingest/migrations';
import { SEARCH_ATTRIBUTE_TYPES } from '../names';
import { temporalSettings } from '../temporal/connect';
import { missingSearchAttributes } from '../temporal/search-attributes';
import { connectTracked, type TrackedConnection } from '../temporal/calls';

export interface DoctorOptions {
  config: KaiConfig;
  print: (line: string) => void;
  /** PATH, GITHUB_TOKEN, LINEAR_WEBHOOK_SECRET, TEMPORAL_*...; process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Bound on each check, in ms (default 5 s). */
  timeoutMs?: number;
}

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable name of the check ("Temporal", "Linear token", "Repository app", ...). */
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it; printed for failures and warnings. */
  fix?: string;
}

const LABEL: Record<CheckStatus, string> = { pass: '[ ok ]', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' };
const DEFAULT_TIMEOUT_MS = 5_000;

const pass = (check: string, detail: string): CheckResult => ({ check, status: 'pass', detail });
const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });
const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'warn', detail, fix });
const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skip', detail });

class CheckTimeout extends Error {}

/** Resolves with the promise or rejects after `ms`. A value that arrives late goes to `late`
 *  (e.g. to close a connection nobody will use). */
function bounded<T>(ms: number, promise: Promise<T>, late?: (value: T) => void): Promise<T> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new CheckTimeout(`no answer within ${Math.round(ms / 100) / 10} s`));
    }, ms);
    timer.unref();
  });
  promise.then(
    (v) => timedOut && late?.(v),
    () => undefined,
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Why it did not succeed: spawn error, timeout or exit status. */
  problem?: string;
}

/** Runs a program without a shell, stdin closed, output capped, killed after `ms`. */
function runCommand(file: string, args: string[], opts: { ms: number; env: NodeJS.ProcessEnv; cwd?: string }): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    // Its own process group, so a wrapper script's children die with it on timeout.
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ ok: false, stdout, stderr, problem: `no answer within ${Math.round(opts.ms / 100) / 10} s` });
    }, opts.ms);
    child.stdout.on('data', (c: Buffer) => (stdout = (stdout + c.toString('utf8')).slice(0, 4096)));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(0, 4096)));
    child.on('error', (err) => finish({ ok: false, stdout, stderr, problem: messageOf(err) }));
    child.on('close', (code, signal) =>
      finish(code === 0 ? { ok: true, stdout, stderr } : { ok: false, stdout, stderr, problem: signal ? `killed by ${signal}` : `exit status ${code}` }),
    );
  });
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim().length > 0) ?? '').trim().slice(0, 120);
}

// ---------------------------------------------------------------------------------------------
// Temporal

async function temporalChecks(config: KaiConfig, env: NodeJS.ProcessEnv, ms: number): Promise<CheckResult[]> {
  const saSkipped = skip('Search attributes', 'not checked: Temporal is not reachable');
  let settings;
  try {
    settings = temporalSettings(config, env);
  } catch (err) {
    return [fail('Temporal', `cannot build the connection settings: ${messageOf(err)}`, 'Check the files named under [temporal.tls] (or TEMPORAL_TLS_*).'), saSkipped];
  }
  const { address, namespace } = settings;
  let tracked: TrackedConnection;
  try {
    tracked = await bounded(
      ms + 1_000,
      connectTracked({ ...(settings.connection as ConnectionOptions), connectTimeout: ms }),
      (late) => void late.close(0).catch(() => undefined),
    );
  } catch (err) {
    return [
      fail(
        'Temporal',
        `cannot reach ${address}: ${messageOf(err)}`,
        'Start Temporal (`kai dev`, or `temporal server start-dev`), or point TEMPORAL_ADDRESS / temporal.address at your server.',
      ),
      saSkipped,
    ];
  }
  const { connection } = tracked;
  try {
    try {
      await bounded(ms, connection.workflowService.describeNamespace({ namespace }));
    } catch (err) {
      const code = (err as { code?: number }).code;
      const result =
        code === 5
          ? fail('Temporal', `reachable at ${address}, but namespace "${namespace}" does not exist`, `Create it (\`temporal operator namespace create --namespace ${namespace}\`) or set TEMPORAL_NAMESPACE / temporal.namespace.`)
          : code === 16 || code === 7
            ? fail('Temporal', `reachable at ${address}, but it refused kai's credentials: ${messageOf(err)}`, 'Check TEMPORAL_API_KEY / temporal.api_key or the client certificate under [temporal.tls].')
            : fail('Temporal', `reachable at ${address}, but describing namespace "${namespace}" failed: ${messageOf(err)}`, 'Check the server logs and the namespace name (temporal.namespace).');
      return [result, skip('Search attributes', 'not checked: the namespace is not available')];
    }
    const results = [pass('Temporal', `reachable at ${address}, namespace "${namespace}" present`)];
    try {
      const client = new Client({ connection, namespace });
      const missing = await bounded(ms, missingSearchAttributes(client, namespace));
      const all = Object.keys(SEARCH_ATTRIBUTE_TYPES);
      if (missing.length === 0) results.push(pass('Search attributes', `all ${all.length} registered (${all.join(', ')})`));
      else
        results.push(
          fail(
            'Search attributes',
            `missing in namespace "${namespace}": ${missing.join(', ')}`,
            `Start \`kai worker\` once (it registers them), or run ${missing.map((n) => `\`temporal operator search-attribute create --namespace ${namespace} --name ${n} --type Keyword\``).join(', ')}.`,
          ),
        );
    } catch (err) {
      results.push(fail('Search attributes', `cannot list them: ${messageOf(err)}`, 'kai needs the operator service; check that the credentials may list search attributes.'));
    }
    return results;
  } finally {
    // A check that ran out of time may still be retrying: close without waiting for it.
    await tracked.close(0).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Linear

const VIEWER_QUERY = 'query KaiDoctorViewer { viewer { id name app organization { name urlKey } } }';

interface ViewerData {
  viewer: { id: string; name: string; app: boolean; organization: { name: string; urlKey: string } };
}

function credentialSource(tokens: LinearTokenProvider, config: KaiConfig, env: NodeJS.ProcessEnv): string {
  switch (tokens.kind) {
    case 'static':
      return env.LINEAR_OAUTH_TOKEN ? 'LINEAR_OAUTH_TOKEN' : 'transports.linear.oauth_token';
    case 'stored':
      return `tokens stored by \`kai auth linear\` in ${tokenFilePath(config, env)}`;
    case 'client_credentials':
      return 'the app\'s client credentials (linear.client_id / client_secret)';
  }
}

async function linearChecks(config: KaiConfig, env: NodeJS.ProcessEnv, ms: number, secrets: Set<string>): Promise<CheckResult[]> {
  const scopesSkipped = skip('Linear scopes', 'not checked: no valid Linear token');
  let tokens: LinearTokenProvider;
  try {
    tokens = createLinearTokenProvider(config, { env });
  } catch (err) {
    if (!(err instanceof LinearAuthError)) throw err;
    return [fail('Linear token', 'no Linear credentials are configured', err.message.replace(/^No Linear credentials\.\s*/, '')), scopesSkipped];
  }
  const source = credentialSource(tokens, config, env);
  const apiUrl = config.linear.api_url;
  const gateway = createLinearGateway({
    apiUrl,
    accessToken: async () => {
      const token = await tokens.accessToken();
      secrets.add(token);
      return token;
    },
    logger: pino({ level: 'silent' }),
  });
  let viewer: ViewerData['viewer'];
  try {
    viewer = (await bounded(ms, gateway.raw<ViewerData>('viewer query', VIEWER_QUERY, {}))).viewer;
  } catch (err) {
    const text = messageOf(err);
    const refused = /refused the credentials|401|403|authenticat/i.test(text);
    return [
      fail(
        'Linear token',
        `the viewer query at ${apiUrl} failed (token from ${source}): ${text}`,
        refused
          ? 'The token is wrong or revoked: set LINEAR_OAUTH_TOKEN to your Linear app\'s token, or run `kai auth linear` again.'
          : `Check linear.api_url (${apiUrl}) and the network path to it.`,
      ),
      scopesSkipped,
    ];
  }
  const results = [pass('Linear token', `valid at ${apiUrl} (from ${source}): acts as "${viewer.name}" in workspace "${viewer.organization.name}"`)];
  const needed = [...LINEAR_SCOPES];
  let granted: string[] | undefined;
  if (tokens.kind === 'stored') {
    try {
      const scope = readTokenFile(tokenFilePath(config, env))?.scope;
      granted = scope ? scope.split(/[\s,]+/).filter(Boolean) : undefined;
    } catch {
      granted = undefined;
    }
  }
  if (!viewer.app) {
    results.push(
      warn(
        'Linear scopes',
        `the token acts as the user "${viewer.name}", not as an app: Linear will not delegate issues to it or start agent sessions`,
        `Install kai's Linear app with actor=app and scopes ${needed.join(', ')}: run \`kai auth linear\`.`,
      ),
    );
  } else if (granted) {
    const missing = needed.filter((s) => !granted!.includes(s));
    results.push(
      missing.length
        ? fail('Linear scopes', `the stored token lacks ${missing.join(', ')} (granted: ${granted.join(', ')})`, `Run \`kai auth linear\` again to grant ${needed.join(', ')}.`)
        : pass('Linear scopes', `acts as the app; granted ${granted.join(', ')}`),
    );
  } else {
    results.push(pass('Linear scopes', `acts as the app (actor=app); Linear does not report this token's scopes, kai needs ${needed.join(', ')}`));
  }
  return results;
}

function webhookSecretCheck(config: KaiConfig, env: NodeJS.ProcessEnv): CheckResult {
  const fromFile = config.transports.linear.webhook_signing_secret;
  const fromEnv = env.LINEAR_WEBHOOK_SECRET;
  if (fromFile) return pass('Webhook secret', `set (${fromEnv === fromFile ? 'LINEAR_WEBHOOK_SECRET' : 'transports.linear.webhook_signing_secret'})`);
  if (fromEnv) return pass('Webhook secret', 'set (LINEAR_WEBHOOK_SECRET)');
  return fail(
    'Webhook secret',
    'not set: kai cannot verify that webhooks come from Linear',
    "Copy the signing secret from your Linear app's webhook settings into LINEAR_WEBHOOK_SECRET (or transports.linear.webhook_signing_secret).",
  );
}

// ---------------------------------------------------------------------------------------------
// Engines

/** Engines sessions will use without being asked, and which key says so. */
function requiredEngines(config: KaiConfig): Map<string, string> {
  const required = new Map<string, string>([[config.default_engine, 'default_engine']]);
  for (const [alias, project] of Object.entries(config.projects)) {
    if (project.default_engine && !required.has(project.default_engine)) required.set(project.default_engine, `projects.${alias}.default_engine`);
  }
  for (const [key, engine] of Object.entries(config.plugins.linear.project_engines)) {
    if (!required.has(engine)) required.set(engine, `plugins.linear.project_engines.${key}`);
  }
  return required;
}

async function engineCheck(name: string, config: KaiConfig, env: NodeJS.ProcessEnv, ms: number, requiredBy: string | undefined): Promise<CheckResult | undefined> {
  const check = `Engine ${name}`;
  if (!isEngineName(name)) {
    const where = requiredBy ?? `[engines.${name}]`;
    const detail = `"${name}" (from ${where}) is not an engine kai knows`;
    const fix = `Use one of ${ENGINE_NAMES.join(', ')}.`;
    return requiredBy ? fail(check, detail, fix) : warn(check, detail, fix);
  }
  const engine: EngineName = name;
  if (engine === 'script') {
    if (!requiredBy && !config.engines.script) return undefined;
    return pass(check, 'runs its command through /bin/sh; nothing to install');
  }
  const binary = config.engines[engine]?.binary ?? DEFAULT_BINARIES[engine];
  const role = requiredBy ? `it is required by ${requiredBy}` : 'only needed by issues that ask for it';
  const found = findExecutable(binary, env.PATH);
  if (!found) {
    const detail = `"${binary}" is not on PATH (${role})`;
    const fix = `Install ${engine}, or set [engines.${engine}] binary = "/path/to/${binary}".`;
    return requiredBy ? fail(check, detail, fix) : warn(check, detail, fix);
  }
  const run = await runCommand(found, ['--version'], { ms, env });
  const version = firstLine(run.stdout) || firstLine(run.stderr);
  if (!run.ok) {
    const detail = `found ${found}, but \`${binary} --version\` failed (${run.problem})${version ? `: ${version}` : ''}`;
    const fix = `Run \`${found} --version\` yourself to see what is wrong; reinstall ${engine} if needed.`;
    return requiredBy ? fail(check, detail, fix) : warn(check, detail, fix);
  }
  return pass(check, `${found}, ${version || 'version not reported'}${requiredBy ? ` (${requiredBy})` : ''}`);
}

async function engineChecks(config: KaiConfig, env: NodeJS.ProcessEnv, ms: number): Promise<CheckResult[]> {
  const required = requiredEngines(config);
  const names = [...new Set<string>([config.default_engine, ...ENGINE_NAMES, ...required.keys(), ...Object.keys(config.engines)])];
  const results = await Promise.all(names.map((n) => engineCheck(n, config, env, ms, required.get(n))));
  return results.filter((r): r is CheckResult => r !== undefined);
}

// ---------------------------------------------------------------------------------------------
// git and the repositories

interface RepoTarget {
  label: string;
  /** The key to fix when the path is wrong. */
  key: string;
  path?: string;
  problem?: CheckResult;
}

function repositoryTargets(config: KaiConfig): RepoTarget[] {
  const targets: RepoTarget[] = [];
  for (const [alias, project] of Object.entries(config.projects)) {
    if (project.url) {
      // A remote each worker mirrors: its reachability is the worker's first fetch to prove.
      const slug = parseRepoSlug(project.url);
      targets.push({ label: `Repository ${alias}`, key: `projects.${alias}.url`, problem: pass(`Repository ${alias}`, `mirrored from ${project.url.replace(/\/\/[^/@]*@/, '//')}${slug ? ` (${slug.owner}/${slug.repo})` : ''}`) });
      continue;
    }
    targets.push({ label: `Repository ${alias}`, key: `projects.${alias}.path`, path: expandPath(project.path ?? '') });
  }
  for (const [projectId, value] of Object.entries(config.plugins.linear.project_map)) {
    if (config.projects[value]) continue;
    if (value.startsWith('/') || value.startsWith('~')) {
      targets.push({ label: `Repository ${value}`, key: `plugins.linear.project_map.${projectId}`, path: expandPath(value) });
      continue;
    }
    targets.push({
      label: `Repository ${value}`,
      key: `plugins.linear.project_map.${projectId}`,
      problem: fail(`Repository ${value}`, `plugins.linear.project_map maps "${projectId}" to "${value}", but there is no [projects.${value}]`, `Add [projects.${value}] with path = "/path/to/the/repository", or fix the project_map entry.`),
    });
  }
  return targets;
}

interface GitOutcome {
  results: CheckResult[];
  /** owner/name of the repositories' remotes, for the GitHub check. */
  slugs: string[];
}

async function gitChecks(config: KaiConfig, env: NodeJS.ProcessEnv, ms: number): Promise<GitOutcome> {
  const results: CheckResult[] = [];
  const slugs: string[] = [];
  const version = await runCommand('git', ['--version'], { ms, env });
  if (!version.ok) {
    results.push(fail('Git', `git does not run (${version.problem})`, 'Install git and make sure it is on PATH.'));
    return { results, slugs };
  }
  results.push(pass('Git', firstLine(version.stdout)));
  const targets = repositoryTargets(config);
  if (targets.length === 0) {
    results.push(
      warn('Repositories', 'none configured: sessions have no repository to work in', 'Add [projects.<alias>] with path = "/path/to/repo" and map Linear projects to it in [plugins.linear] project_map.'),
    );
    return { results, slugs };
  }
  const remote = config.github.remote;
  const checked = await Promise.all(
    targets.map(async (t): Promise<CheckResult> => {
      if (t.problem || !t.path) return t.problem!;
      if (!existsSync(t.path) || !statSync(t.path).isDirectory()) {
        return fail(t.label, `${t.path} does not exist`, `Clone the repository to ${t.path}, or fix ${t.key}.`);
      }
      const top = await runCommand('git', ['-C', t.path, 'rev-parse', '--show-toplevel'], { ms, env });
      if (!top.ok) return fail(t.label, `${t.path} is not a git repository`, `Clone the repository there (or \`git init\` it), or fix ${t.key}.`);
      const url = await runCommand('git', ['-C', t.path, 'remote', 'get-url', remote], { ms, env });
      const slug = url.ok ? parseRepoSlug(firstLine(url.stdout)) : undefined;
      if (slug) slugs.push(`${slug.owner}/${slug.repo}`);
      const remoteText = url.ok ? `remote ${remote}${slug ? ` is ${slug.owner}/${slug.repo}` : ''}` : `no remote "${remote}": kai commits but cannot push or open pull requests`;
      return pass(t.label, `${t.path} is a git repository; ${remoteText}`);
    }),
  );
  results.push(...checked);
  return { results, slugs: [...new Set(slugs)] };
}

// ---------------------------------------------------------------------------------------------
// GitHub

async function githubCheck(config: KaiConfig, env: NodeJS.ProcessEnv, ms: number, slugsFromRemotes: Promise<string[]>, secrets: Set<string>): Promise<CheckResult> {
  const token = config.github.token ?? env.GITHUB_TOKEN ?? env.GH_TOKEN;
  const source = config.github.token ? 'github.token' : env.GITHUB_TOKEN ? 'GITHUB_TOKEN' : 'GH_TOKEN';
  if (!token) {
    return fail('GitHub token', 'not set: kai pushes branches but cannot open pull requests', 'Set GITHUB_TOKEN (or github.token) to a token that may push to and open pull requests on your repositories.');
  }
  secrets.add(token);
  const apiUrl = config.github.api_url;
  const gh = createGitHubClient({ token, baseUrl: apiUrl });
  const repos = config.github.repository ? [config.github.repository] : await slugsFromRemotes;
  const status = (err: unknown) => (err as { status?: number }).status;
  const rejected = (err: unknown): CheckResult =>
    status(err) === 401
      ? fail('GitHub token', `${apiUrl} rejected the token from ${source} (HTTP 401: bad credentials)`, `Replace ${source} with a valid token (github.api_url is ${apiUrl}).`)
      : fail('GitHub token', `request to ${apiUrl} failed: ${messageOf(err)}`, `Check github.api_url (${apiUrl}) and the network path to it.`);
  // A GitHub App's installation token cannot read /user, so when kai knows its repositories it
  // asks for those: that is also the access that matters.
  if (repos.length === 0) {
    try {
      const res = await bounded(ms, gh.rest.users.getAuthenticated());
      const scopes = res.headers['x-oauth-scopes'];
      return pass('GitHub token', `valid at ${apiUrl} (from ${source}): authenticated as ${res.data.login}${scopes ? `, scopes: ${scopes}` : ''}`);
    } catch (err) {
      return rejected(err);
    }
  }
  const seen: string[] = [];
  for (const full of repos) {
    const [owner, repo] = full.split('/');
    if (!owner || !repo) return fail('GitHub token', `github.repository "${full}" is not owner/name`, 'Set github.repository to "owner/name", or leave it unset to use the remote.');
    try {
      const { data } = await bounded(ms, gh.rest.repos.get({ owner, repo }));
      const perms = (data as { permissions?: { push?: boolean } }).permissions;
      if (perms && perms.push === false) {
        return fail('GitHub token', `the token from ${source} can read ${full} but not push to it`, `Give the token write access (contents and pull requests) to ${full}.`);
      }
      seen.push(full);
    } catch (err) {
      if (status(err) === 404) {
        return fail('GitHub token', `the token from ${source} cannot see ${full} at ${apiUrl} (HTTP 404)`, `Grant the token access to ${full}, or fix the remote / github.repository.`);
      }
      return rejected(err);
    }
  }
  return pass('GitHub token', `valid at ${apiUrl} (from ${source}): can access ${seen.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'the configured database';
  }
}

async function postgresCheck(config: KaiConfig, ms: number, secrets: Set<string>): Promise<CheckResult> {
  const url = config.database.url ?? config.transports.linear.gateway_database_url;
  if (!url) return skip('PostgreSQL', 'not configured (DATABASE_URL / database.url): only `kai gateway` and `kai ingest` need it');
  try {
    const pw = new URL(url).password;
    if (pw) secrets.add(decodeURIComponent(pw));
  } catch {
    // not a URL: pg reports it below
  }
  const where = describeDatabase(url);
  const latest = Math.max(...MIGRATIONS.map((m) => m.version));
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: ms, query_timeout: ms, statement_timeout: ms });
  client.on('error', () => undefined);
  try {
    await bounded(ms + 500, client.connect());
  } catch (err) {
    return fail('PostgreSQL', `cannot connect to ${where}: ${messageOf(err)}`, 'Start PostgreSQL or fix DATABASE_URL / database.url.');
  }
  try {
    const { rows } = await client.query<{ events: string | null; migrations: string | null }>(
      `SELECT to_regclass('events')::text AS events, to_regclass('kai_migrations')::text AS migrations`,
    );
    if (!rows[0]?.events) return fail('PostgreSQL', `reachable at ${where}, but there is no events table`, 'Run `kai migrate`.');
    let version = 0;
    if (rows[0].migrations) {
      const v = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM kai_migrations');
      version = v.rows[0]?.v ?? 0;
    }
    if (version < latest) return fail('PostgreSQL', `reachable at ${where}; the events table is at schema version ${version}, kai needs ${latest}`, 'Run `kai migrate`.');
    return pass('PostgreSQL', `reachable at ${where}; events table migrated (schema version ${version})`);
  } catch (err) {
    return fail('PostgreSQL', `connected to ${where}, but reading the schema failed: ${messageOf(err)}`, 'Check that the database user may read the events table; run `kai migrate`.');
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------

/** A group of checks that cannot throw: an unexpected error is that group's failure. */
async function guarded(name: string, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await run();
  } catch (err) {
    return [fail(name, `the check itself failed: ${messageOf(err)}`, 'Run with KAI_LOG_LEVEL=debug and report it if it persists.')];
  }
}

/** Every check, in the order printed. `secrets` receives every secret the checks handle (from
 *  the configuration, the environment, a stored token) so the caller can keep them out of output. */
export async function runChecks(
  opts: Omit<DoctorOptions, 'print'>,
  onResults: (results: CheckResult[]) => void = () => undefined,
  secrets: Set<string> = new Set(),
): Promise<CheckResult[]> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (const s of secretValues(config)) secrets.add(s);
  for (const name of ['GITHUB_TOKEN', 'GH_TOKEN', 'LINEAR_OAUTH_TOKEN', 'LINEAR_WEBHOOK_SECRET', 'LINEAR_CLIENT_SECRET', 'TEMPORAL_API_KEY', 'DATABASE_URL']) {
    const v = env[name];
    if (v) secrets.add(v);
  }
  const git = gitChecks(config, env, ms);
  // Started together, printed in this order as each finishes.
  const groups: Array<Promise<CheckResult[]>> = [
    guarded('Temporal', () => temporalChecks(config, env, ms)),
    guarded('Linear token', () => linearChecks(config, env, ms, secrets)),
    guarded('Webhook secret', async () => [webhookSecretCheck(config, env)]),
    guarded('Engines', () => engineChecks(config, env, ms)),
    guarded('Git', async () => (await git).results),
    guarded('GitHub token', async () => [await githubCheck(config, env, ms, git.then((g) => g.slugs, () => []), secrets)]),
    guarded('PostgreSQL', async () => [await postgresCheck(config, ms, secrets)]),
  ];
  const results: CheckResult[] = [];
  for (const group of groups) {
    const r = await group;
    onResults(r);
    results.push(...r);
  }
  return results;
}

function scrubber(secrets: Set<string>): (line: string) => string {
  return (line) => {
    let out = line;
    for (const s of secrets) if (s.length >= 4) out = out.split(s).join(MASK);
    return out;
  };
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const secrets = new Set<string>();
  const scrub = scrubber(secrets);
  const width = 18;
  const results = await runChecks(
    opts,
    (group) => {
      for (const r of group) {
        opts.print(scrub(`${LABEL[r.status]} ${`${r.check}:`.padEnd(width)} ${r.detail}`));
        if (r.fix && r.status !== 'pass') opts.print(scrub(`${' '.repeat(LABEL[r.status].length)} ${'fix:'.padEnd(width)} ${r.fix}`));
      }
    },
    secrets,
  );
  const failed = results.filter((r) => r.status === 'fail');
  const warnings = results.filter((r) => r.status === 'warn').length;
  opts.print('');
  if (failed.length === 0) {
    opts.print(`kai doctor: all required checks passed${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`);
    return 0;
  }
  opts.print(`kai doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((r) => r.check).join(', ')}.`);
  return 1;
}
