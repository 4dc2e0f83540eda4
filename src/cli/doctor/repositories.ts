// git and the repositories: git runs, and every configured project path is a git repository
// (with its remote noted: the GitHub check reads the remotes' owner/name from here).
import { existsSync, statSync } from 'node:fs';
import { parseRepoSlug } from '../../activities/git/github';
import { expandPath } from '../../activities/git/projects';
import type { KaiConfig } from '../../config/schema';
import { runCommand } from '../../util';
import { fail, firstLine, pass, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const repositoriesCheck: DoctorCheck = { name: 'Git', run: async (ctx) => (await repositories(ctx)).results };

/** The repositories' inspection, done once per doctor run whichever check asks first. */
export function repositories(ctx: DoctorContext): Promise<GitOutcome> {
  return ctx.shared('repositories', () => inspectRepositories(ctx.config, ctx.env, ctx.timeoutMs));
}

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
      const shown = project.url.replace(/\/\/[^/@]*@/, '//');
      targets.push({
        label: `Repository ${alias}`,
        key: `projects.${alias}.url`,
        problem: pass(`Repository ${alias}`, `mirrored from ${shown}${slug ? ` (${slug.owner}/${slug.repo})` : ''}`),
      });
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

export interface GitOutcome {
  results: CheckResult[];
  /** owner/name of the repositories' remotes, for the GitHub check. */
  slugs: string[];
}

async function inspectRepositories(config: KaiConfig, env: NodeJS.ProcessEnv, ms: number): Promise<GitOutcome> {
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
