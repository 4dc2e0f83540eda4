// Which repository an issue works in: project_map maps Linear project ids to project aliases
// ([projects.<alias>] with a `path`); "default" or "*" in project_map, or a lone project, is the
// fallback.
import * as os from 'node:os';
import * as path from 'node:path';
import type { KaiConfig } from '../../config/schema';

export interface ResolvedProject {
  alias?: string;
  /** Absolute path of the repository, when one is configured. */
  repoPath?: string;
  worktreesDir?: string;
  worktreeBase?: string;
  defaultEngine?: string;
}

export function expandPath(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(p);
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

export function resolveProject(config: KaiConfig, projectId: string | undefined): ResolvedProject {
  const alias = projectAlias(config, projectId);
  if (!alias) return {};
  const project = config.projects[alias];
  if (!project) {
    // A project_map value that is a path rather than an alias still names a repository.
    if (alias.startsWith('/') || alias.startsWith('~')) return { alias, repoPath: expandPath(alias) };
    return { alias };
  }
  return {
    alias,
    repoPath: expandPath(project.path),
    worktreesDir: project.worktrees_dir ? expandPath(project.worktrees_dir) : undefined,
    worktreeBase: project.worktree_base,
    defaultEngine: project.default_engine,
  };
}
