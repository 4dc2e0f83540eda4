// Which repository an issue works in: project_map maps Linear project ids to project aliases
// ([projects.<alias>] with a `url` or a `path`); "default" or "*" in project_map, or a lone
// project, is the fallback. A `url` project lives in a bare mirror under the worker's data
// directory, with its worktrees beside it.
import * as os from 'node:os';
import * as path from 'node:path';
import type { KaiConfig } from '../../config/schema';

export interface ResolvedProject {
  alias?: string;
  /** Absolute path of the repository (for a `url` project, its bare mirror), when one is configured. */
  repoPath?: string;
  /** The remote a `url` project mirrors. */
  url?: string;
  worktreesDir?: string;
  worktreeBase?: string;
  defaultEngine?: string;
}

export function expandPath(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(p);
}

/** The worker's data directory: KAI_DATA_DIR, else $XDG_DATA_HOME/kai, else ~/.local/share/kai. */
export function dataDirFrom(env: NodeJS.ProcessEnv): string {
  if (env.KAI_DATA_DIR) return expandPath(env.KAI_DATA_DIR);
  const base = env.XDG_DATA_HOME ? expandPath(env.XDG_DATA_HOME) : path.join(env.HOME ?? os.homedir(), '.local', 'share');
  return path.join(base, 'kai');
}

/** A directory name for an alias that cannot climb out of its parent. */
function safeName(alias: string): string {
  return alias.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

export function projectAlias(config: KaiConfig, projectId: string | undefined): string | undefined {
  const map = config.plugins.linear.project_map;
  const mapped = (projectId && map[projectId]) || map['default'] || map['*'];
  if (mapped) return mapped;
  const names = Object.keys(config.projects);
  if (names.length === 1) return names[0];
  if (config.projects['default']) return 'default';
  return undefined;
}

export function resolveProject(config: KaiConfig, projectId: string | undefined, dataDir?: string): ResolvedProject {
  const alias = projectAlias(config, projectId);
  return alias ? resolveAlias(config, alias, dataDir) : {};
}

/** The project `[projects.<alias>]` (or a project_map value that is a path). */
export function resolveAlias(config: KaiConfig, alias: string, dataDir?: string): ResolvedProject {
  const project = config.projects[alias];
  if (!project) {
    // A project_map value that is a path rather than an alias still names a repository.
    if (alias.startsWith('/') || alias.startsWith('~')) return { alias, repoPath: expandPath(alias) };
    return { alias };
  }
  const common = {
    alias,
    worktreeBase: project.worktree_base,
    defaultEngine: project.default_engine,
  };
  if (project.url) {
    const root = dataDir ?? dataDirFrom(process.env);
    return {
      ...common,
      url: project.url,
      repoPath: path.join(root, 'repos', `${safeName(alias)}.git`),
      worktreesDir: project.worktrees_dir ? expandPath(project.worktrees_dir) : path.join(root, 'worktrees', safeName(alias)),
    };
  }
  return {
    ...common,
    repoPath: project.path ? expandPath(project.path) : undefined,
    worktreesDir: project.worktrees_dir ? expandPath(project.worktrees_dir) : undefined,
  };
}
