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

/** The repository of an issue, or why there is none. `picked` is the alias the user chose when
 *  asked; `offer` lists the configured aliases to ask with when nothing (or an unknown pick)
 *  names a repository, and is absent when asking cannot help (a broken mapping, no projects). */
export type ProjectChoice = { project: ResolvedProject & { repoPath: string } } | { problem: string; offer?: string[] };

export function chooseProject(
  config: KaiConfig,
  issue: { identifier: string; projectId?: string },
  picked: string | undefined,
  dataDir?: string,
): ProjectChoice {
  const configured = Object.keys(config.projects);
  const offer = configured.length ? configured : undefined;
  const listed = configured.length ? `the configured projects are ${configured.join(', ')}` : 'no [projects.<alias>] is configured';
  if (picked !== undefined) {
    // Only a configured alias: the pick comes from a Linear user, never a path of their choosing.
    const project = Object.hasOwn(config.projects, picked) ? resolveAlias(config, picked, dataDir) : {};
    if (project.repoPath) return { project: { ...project, repoPath: project.repoPath } };
    return { problem: `The repository "${picked}" chosen for ${issue.identifier} is not configured (${listed}).`, offer };
  }
  const alias = projectAlias(config, issue.projectId);
  const project = alias ? resolveAlias(config, alias, dataDir) : {};
  if (project.repoPath) return { project: { ...project, repoPath: project.repoPath } };
  const where = issue.projectId ? ` (Linear project ${issue.projectId})` : '';
  if (alias)
    return {
      problem:
        `plugins.linear.project_map sends ${issue.identifier}${where} to "${alias}", which is not configured: ` +
        `add [projects.${alias}] with url = "<git URL>" or path = "/local/checkout" (${listed}).`,
    };
  return {
    problem:
      `No repository is mapped for ${issue.identifier}${where} and ${configured.length > 1 ? 'several could serve' : listed}: ` +
      'map the project in plugins.linear.project_map to an alias with [projects.<alias>] url = "<git URL>" ' +
      '(or path = "/local/checkout"), or add a "default" entry.',
    offer,
  };
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
