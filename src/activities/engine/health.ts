// Whether each installed engine can actually work on this worker, for `kai doctor`: it is
// logged in or has a key, the sandbox (kai's process containment, and the engine's own where it
// has one) can start, and a model is configured where the engine needs one. Every result that
// is not ok carries a fix. Checks run the engine's own status commands with the same
// allowlisted environment a run gets, bounded in time; no secret is printed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KaiConfig } from '../../config/schema';
import { runCommand, type CommandResult } from '../../util';
import { findExecutable } from './binary';
import { ENGINE_KEY_VARS, buildEngineEnv } from './env';
import { ScriptStreamParser } from './script';
import { runEngineStream } from './run-stream';
import { DEFAULT_BINARIES, type EngineName } from './registry';

export type HealthLevel = 'ok' | 'warn' | 'fail';

export interface EngineHealthCheck {
  engine: string;
  check: 'installed' | 'credentials' | 'sandbox' | 'model';
  level: HealthLevel;
  detail: string;
  /** What to do when the level is not ok. */
  fix?: string;
}

export interface EngineHealthOptions {
  config: KaiConfig;
  /** The worker's environment (PATH, HOME, keys); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Per status command; 15 s by default. */
  timeoutMs?: number;
}

/** What a status command printed, both streams, without terminal colours. */
const outputOf = (r: CommandResult) => `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();

/** Why a status command failed: what kept it from finishing, else the first line it printed. */
const failureOf = (r: CommandResult, said: string) => (r.code === null ? r.problem : undefined) ?? (said || `exit code ${r.code}`);

const firstLine = (text: string) => text.split('\n').find((l) => l.trim())?.trim().slice(0, 200) ?? '';

/** Status commands that say whether a CLI is logged in (exit 0 and no "not logged in"). */
const LOGIN_STATUS: Partial<Record<EngineName, { args: string[]; login: string }>> = {
  claude: { args: ['auth', 'status'], login: 'run `claude auth login` as the worker user (or set ANTHROPIC_API_KEY in [engines.claude] env)' },
  codex: { args: ['login', 'status'], login: 'run `codex login` as the worker user (or set OPENAI_API_KEY in [engines.codex] env)' },
  opencode: { args: ['providers', 'list'], login: 'run `opencode providers login` as the worker user (or set the provider key in [engines.opencode] env)' },
};

/** Files where a CLI keeps a login, relative to HOME (pi and Gemini have no status command). */
function loginFiles(engine: EngineName, env: Record<string, string>): string[] {
  const home = env.HOME ?? os.homedir();
  if (engine === 'pi') return [path.join(env.PI_CODING_AGENT_DIR ?? path.join(home, '.pi', 'agent'), 'auth.json')];
  if (engine === 'gemini') return [path.join(home, '.gemini', 'oauth_creds.json')];
  return [];
}

/** Engines that pick a provider's default model kai cannot see: a model must be set. */
const MODEL_REQUIRED: ReadonlySet<string> = new Set(['opencode', 'pi']);

async function credentials(engine: EngineName, binary: string, env: Record<string, string>, cwd: string, timeoutMs: number): Promise<EngineHealthCheck> {
  const keys = (ENGINE_KEY_VARS[engine] ?? []).filter((k) => /KEY|TOKEN|CREDENTIALS|VERTEXAI/.test(k) && env[k]);
  if (keys.length) return { engine, check: 'credentials', level: 'ok', detail: `key present: ${keys.join(', ')}` };
  const status = LOGIN_STATUS[engine];
  if (status) {
    const r = await runCommand(binary, status.args, { ms: timeoutMs, env, cwd });
    const output = outputOf(r);
    const said = firstLine(output);
    const notLoggedIn = /not logged in|not authenticated|no credentials|"loggedIn"\s*:\s*false|0 credentials/i.test(output);
    if (r.code === 0 && !notLoggedIn) return { engine, check: 'credentials', level: 'ok', detail: `logged in (${engine} ${status.args.join(' ')}${said ? `: ${said}` : ''})` };
    const why = failureOf(r, said);
    return { engine, check: 'credentials', level: 'fail', detail: `not logged in and no key: \`${engine} ${status.args.join(' ')}\` says ${why}`, fix: status.login };
  }
  const files = loginFiles(engine, env).filter((f) => existsSync(f));
  if (files.length) return { engine, check: 'credentials', level: 'ok', detail: `login stored in ${files.join(', ')}` };
  const wanted = (ENGINE_KEY_VARS[engine] ?? []).filter((k) => /KEY|TOKEN/.test(k));
  return {
    engine,
    check: 'credentials',
    level: 'fail',
    detail: 'no login stored and no API key in its environment',
    fix: `set one of ${wanted.join(', ')} in [engines.${engine}] env (or log in with \`${engine}\` interactively as the worker user)`,
  };
}

/** kai's own containment can start a supervised process here (every engine runs under it). */
async function containment(engine: string, env: Record<string, string>): Promise<EngineHealthCheck> {
  let how = 'proc';
  // A directory of its own: a run ends any earlier run recorded for its directory, and checks
  // for several engines may run at once.
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'kai-doctor-'));
  try {
    const outcome = await runEngineStream({
      spec: { command: '/bin/sh', args: ['-c', 'echo ok'], cwd, env },
      parser: new ScriptStreamParser('echo ok', undefined),
      emit: () => undefined,
      onRun: (run) => (how = run.cgroup ? 'cgroup' : 'proc'),
      timeoutMs: 20_000,
    });
    if (!outcome.completion.ok) throw new Error(outcome.completion.error ?? 'the test process failed');
  } catch (err) {
    return { engine, check: 'sandbox', level: 'fail', detail: `kai could not start a supervised process: ${(err as Error).message}`, fix: 'check that node and /bin/sh can run in the worker\'s work directory' };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  return how === 'cgroup'
    ? { engine, check: 'sandbox', level: 'ok', detail: 'engine runs are contained in a cgroup v2 each' }
    : {
        engine,
        check: 'sandbox',
        level: 'warn',
        detail: 'engine runs are contained by process tree (no writable cgroup v2): a descendant that clears its environment and is orphaned can escape',
        fix: 'give the worker a writable cgroup v2 subtree (e.g. a delegated cgroup in the container) for full containment',
      };
}

async function engineSandbox(engine: EngineName, binary: string, env: Record<string, string>, cwd: string, timeoutMs: number, config: KaiConfig): Promise<EngineHealthCheck | undefined> {
  if (engine === 'codex') {
    const r = await runCommand(binary, ['sandbox', 'linux', '--', '/bin/true'], { ms: timeoutMs, env, cwd });
    const output = outputOf(r);
    if (r.code === 0) return { engine, check: 'sandbox', level: 'ok', detail: 'codex\'s own sandbox (Landlock/seccomp) starts' };
    if (/unrecognized subcommand|unexpected argument|unknown command/i.test(output))
      return { engine, check: 'sandbox', level: 'warn', detail: 'this codex has no `codex sandbox linux` to test its sandbox with', fix: 'run one engine turn and check that codex could edit a file' };
    return {
      engine,
      check: 'sandbox',
      level: 'fail',
      detail: `codex's sandbox cannot start here: ${failureOf(r, firstLine(output))}`,
      fix: 'run the worker where Landlock and seccomp are available, or set [engines.codex] args = ["--sandbox", "danger-full-access"] and rely on kai\'s containment',
    };
  }
  if (engine === 'claude' && (config.engines.claude?.permission_mode ?? '') === 'bypassPermissions' && process.getuid?.() === 0)
    return { engine, check: 'sandbox', level: 'fail', detail: 'claude refuses --permission-mode bypassPermissions as root', fix: 'run the worker as a non-root user or choose another [engines.claude] permission_mode' };
  return undefined;
}

/** Every check for one engine; an engine that is not installed gets that one result only. */
export async function checkEngineHealth(engine: EngineName, opts: EngineHealthOptions): Promise<EngineHealthCheck[]> {
  const base = opts.env ?? process.env;
  const cfg = opts.config.engines[engine];
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const env = buildEngineEnv({ engine, base, configured: cfg?.env });
  const cwd = os.tmpdir();
  const results: EngineHealthCheck[] = [];
  if (engine !== 'script') {
    const name = cfg?.binary ?? DEFAULT_BINARIES[engine];
    const binary = findExecutable(name, base.PATH);
    if (!binary)
      return [{ engine, check: 'installed', level: 'fail', detail: `no executable "${name}" on PATH`, fix: `install ${engine} or set [engines.${engine}] binary` }];
    results.push({ engine, check: 'installed', level: 'ok', detail: binary });
    results.push(await credentials(engine, binary, env, cwd, timeoutMs));
    const own = await engineSandbox(engine, binary, env, cwd, timeoutMs, opts.config);
    if (own) results.push(own);
  }
  results.push(await containment(engine, { PATH: base.PATH ?? '/usr/bin:/bin' }));
  if (engine !== 'script') {
    const model = cfg?.model;
    if (model) results.push({ engine, check: 'model', level: 'ok', detail: `model ${model}` });
    else if (MODEL_REQUIRED.has(engine))
      results.push({ engine, check: 'model', level: 'fail', detail: 'no model configured: the CLI would pick a provider default kai cannot see', fix: `set [engines.${engine}] model = "<provider>/<model>"` });
    else results.push({ engine, check: 'model', level: 'warn', detail: 'no model configured: the CLI\'s own default is used', fix: `set [engines.${engine}] model to pin one` });
  }
  return results;
}
