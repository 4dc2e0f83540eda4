// Each issue's engine home: the directory an engine CLI keeps its sessions and settings in,
// one per issue and engine, under the worker's data directory beside the worktrees. Pointed at
// through each CLI's documented variable, so the conversation a resume token names lives with
// the workspace: whoever holds the workspace (a StatefulSet pod with its volume) holds the
// conversation. The worker's own login for the engine is brought in at first use (credential
// files linked, so a refreshed token is seen by every issue; settings copied).
import { copyFileSync, existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineName } from './registry';

interface HomeLayout {
  /** The variable the CLI reads its home from. */
  variable: string;
  /** Where, inside the issue's home, the CLI keeps what the seeds below go into. */
  stateDir(home: string): string;
  /** The worker's own state directory for the CLI (where its login lives). */
  workerStateDir(env: NodeJS.ProcessEnv, home: string): string;
  /** Credential files, linked. */
  link: string[];
  /** Settings, copied once (the CLI rewrites them). */
  copy: string[];
  /** Files from outside the worker's state directory: [source, name in the issue's state dir]. */
  extra?(env: NodeJS.ProcessEnv, home: string): Array<[string, string]>;
}

const LAYOUTS: Partial<Record<EngineName, HomeLayout>> = {
  // Claude Code: CLAUDE_CONFIG_DIR holds .credentials.json, settings.json and the sessions; with
  // it set, the state file ~/.claude.json moves inside it too.
  claude: {
    variable: 'CLAUDE_CONFIG_DIR',
    stateDir: (home) => home,
    workerStateDir: (env, home) => env.CLAUDE_CONFIG_DIR ?? path.join(home, '.claude'),
    link: ['.credentials.json'],
    copy: ['settings.json', '.claude.json'],
    extra: (env, home) => (env.CLAUDE_CONFIG_DIR ? [] : [[path.join(home, '.claude.json'), '.claude.json']]),
  },
  // Codex: CODEX_HOME holds auth.json, config.toml and sessions/.
  codex: {
    variable: 'CODEX_HOME',
    stateDir: (home) => home,
    workerStateDir: (env, home) => env.CODEX_HOME ?? path.join(home, '.codex'),
    link: ['auth.json'],
    copy: ['config.toml'],
  },
  // OpenCode: its data directory $XDG_DATA_HOME/opencode holds auth.json and the sessions
  // (its config stays in $XDG_CONFIG_HOME/opencode, shared).
  opencode: {
    variable: 'XDG_DATA_HOME',
    stateDir: (home) => path.join(home, 'opencode'),
    workerStateDir: (env, home) => path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'opencode'),
    link: ['auth.json'],
    copy: [],
  },
  // pi: PI_CODING_AGENT_DIR (default ~/.pi/agent) holds auth.json, settings and sessions/.
  pi: {
    variable: 'PI_CODING_AGENT_DIR',
    stateDir: (home) => home,
    workerStateDir: (env, home) => env.PI_CODING_AGENT_DIR ?? path.join(home, '.pi', 'agent'),
    link: ['auth.json'],
    copy: ['settings.json', 'models.json'],
  },
  // Gemini CLI: GEMINI_CLI_HOME replaces the home its .gemini directory (credentials, settings,
  // chats) lives in.
  gemini: {
    variable: 'GEMINI_CLI_HOME',
    stateDir: (home) => path.join(home, '.gemini'),
    workerStateDir: (env, home) => path.join(env.GEMINI_CLI_HOME ?? home, '.gemini'),
    link: ['oauth_creds.json', 'google_accounts.json'],
    copy: ['settings.json'],
  },
};

/** A directory name for an id that cannot climb out of its parent. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

/** Where the issue's home for `engine` lives under the worker's data directory. */
export function engineHomePath(dataDir: string, issueId: string, engine: string): string {
  return path.join(dataDir, 'engine-homes', safeName(issueId), safeName(engine));
}

export interface EngineHomeInput {
  engine: EngineName;
  issueId: string;
  dataDir: string;
  /** The worker's environment, with `[engines.<name>] env` over it: where the worker's own
   *  login for the engine is found. */
  env: NodeJS.ProcessEnv;
}

/**
 * Makes (first time) the issue's home for the engine, brings in the worker's login, and returns
 * the variable that points the CLI at it; nothing for an engine without a home (script).
 */
export function prepareEngineHome(input: EngineHomeInput): Record<string, string> {
  const layout = LAYOUTS[input.engine];
  if (!layout) return {};
  const home = engineHomePath(input.dataDir, input.issueId, input.engine);
  const target = layout.stateDir(home);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  const userHome = input.env.HOME ?? os.homedir();
  const source = layout.workerStateDir(input.env, userHome);
  if (path.resolve(source) !== path.resolve(target)) {
    for (const name of layout.link) seed(path.join(source, name), path.join(target, name), 'link');
    for (const name of layout.copy) seed(path.join(source, name), path.join(target, name), 'copy');
    for (const [from, name] of layout.extra?.(input.env, userHome) ?? []) seed(from, path.join(target, name), 'copy');
  }
  return { [layout.variable]: home };
}

/** Removes every engine home of the issue (links to the worker's login are removed, not followed). */
export async function removeEngineHomes(dataDir: string, issueId: string): Promise<void> {
  await rm(path.dirname(engineHomePath(dataDir, issueId, 'any')), { recursive: true, force: true });
}

/** Brings one file of the worker's login in, unless the issue's home has it already. */
function seed(from: string, to: string, how: 'link' | 'copy'): void {
  if (present(to) || !existsSync(from)) return;
  if (how === 'link') symlinkSync(path.resolve(from), to);
  else copyFileSync(from, to);
}

function present(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
