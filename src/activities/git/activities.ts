// Worktrees, commits, pushes and pull requests with real git. Every step looks before it acts,
// so a retried activity finds its own earlier work instead of repeating it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { KaiConfig } from '../../config/schema';
import * as logModule from '../../log';
import type { IssueContext } from '../../domain/issue';
import { parseTitle } from '../../domain/directives';
import { permanent } from '../errors';
import type { GitActivities, PublishInput, PublishResult, Workspace, WorkspaceState } from '../types';
import { git, gitOk, gitOut } from './git';
import { createGitHubClient, parseRepoSlug, upsertPullRequest, type GitHubClient } from './github';
import { resolveProject } from './projects';
import { branchNameProblem } from './refname';

export interface GitActivitiesDeps {
  config: KaiConfig;
  logger?: Logger;
  /** Where GITHUB_TOKEN / GH_TOKEN are read when github.token is not set; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** The GitHub client; built from [github] (api_url, token) by default. */
  github?: GitHubClient;
  /** Commit identity when the repository has none configured. */
  author?: { name: string; email: string };
}

const DEFAULT_AUTHOR = { name: 'kai', email: 'kai@users.noreply.github.com' };

/** The branch for an issue: the title's `@branch/name`, else branch_prefix + identifier. */
export function branchFor(config: KaiConfig, issue: Pick<IssueContext, 'identifier'>, title: string): string {
  const fromTitle = parseTitle(title).branch;
  const branch = fromTitle ?? `${config.plugins.linear.branch_prefix}${issue.identifier}`;
  const problem = branchNameProblem(branch);
  if (problem)
    throw permanent(
      'invalidInput',
      `The branch name "${branch.slice(0, 100)}" is not valid: ${problem}. ` +
        (fromTitle ? 'Fix the @branch/name at the start of the issue title.' : 'Check plugins.linear.branch_prefix.'),
      { branch },
    );
  return branch;
}

export function commitMessage(issue: IssueContext, summary: string): string {
  const title = parseTitle(issue.title).text || issue.title;
  const subject = `${issue.identifier}: ${title}`.replace(/\s+/g, ' ').slice(0, 72);
  const body = summary.trim().slice(0, 4000);
  return `${subject}\n\n${body ? `${body}\n\n` : ''}Linear: ${issue.url}\n`;
}

export function pullRequestBody(issue: IssueContext, summary: string): string {
  const text = summary.trim().slice(0, 20000) || '_No summary was given._';
  return `${text}\n\n---\nLinear issue: [${issue.identifier}](${issue.url})\n\n<sub>Opened by kai.</sub>\n`;
}

export function createGitActivities(deps: GitActivitiesDeps): GitActivities {
  const { config } = deps;
  const log = () => deps.logger ?? logModule.logger;
  const remote = config.github.remote;
  const strategy = config.plugins.linear.worktree_strategy;
  let github: GitHubClient | undefined = deps.github;

  function githubToken(): string | undefined {
    const env = deps.env ?? process.env;
    return config.github.token ?? env.GITHUB_TOKEN ?? env.GH_TOKEN;
  }

  function client(): GitHubClient | undefined {
    if (github) return github;
    const token = githubToken();
    if (!token) return undefined;
    github = createGitHubClient({ token, baseUrl: config.github.api_url });
    return github;
  }

  async function hasRemote(repo: string): Promise<boolean> {
    const remotes = (await gitOut(repo, ['remote'])).split('\n').map((s) => s.trim());
    return remotes.includes(remote);
  }

  async function refExists(cwd: string, ref: string): Promise<boolean> {
    return gitOk(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  }

  async function baseBranchOf(repo: string, configured: string | undefined): Promise<string> {
    if (configured) return configured;
    if (config.github.base_branch) return config.github.base_branch;
    const remoteHead = await gitOut(repo, ['symbolic-ref', '--quiet', '--short', `refs/remotes/${remote}/HEAD`]).catch(() => '');
    if (remoteHead.startsWith(`${remote}/`)) return remoteHead.slice(remote.length + 1);
    const head = await gitOut(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
    return head || 'main';
  }

  /** Keeps kai's attachment folder out of commits. */
  async function excludeAttachments(cwd: string): Promise<void> {
    const dir = config.transports.linear.attachment_dir.replace(/^\/+|\/+$/g, '');
    if (!dir) return;
    const common = path.resolve(cwd, await gitOut(cwd, ['rev-parse', '--git-common-dir']));
    const file = path.join(common, 'info', 'exclude');
    const line = `/${dir}/`;
    const current = await fs.readFile(file, 'utf8').catch(() => '');
    if (current.split('\n').includes(line)) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${current && !current.endsWith('\n') ? '\n' : ''}${line}\n`);
  }

  async function registeredWorktrees(repo: string): Promise<Array<{ path: string; branch?: string }>> {
    const out = await gitOut(repo, ['worktree', 'list', '--porcelain']);
    const list: Array<{ path: string; branch?: string }> = [];
    for (const block of out.split('\n\n')) {
      const wt = /^worktree (.+)$/m.exec(block)?.[1];
      if (!wt) continue;
      const br = /^branch refs\/heads\/(.+)$/m.exec(block)?.[1];
      list.push({ path: path.resolve(wt), branch: br });
    }
    return list;
  }

  async function gitPrepareWorktree(input: { issue: IssueContext; title: string }): Promise<Workspace> {
    const project = resolveProject(config, input.issue.projectId);
    if (!project.repoPath)
      throw permanent(
        'notConfigured',
        `No repository is configured for ${input.issue.identifier}` +
          `${input.issue.projectId ? ` (Linear project ${input.issue.projectId})` : ''}: map the project in plugins.linear.project_map ` +
          `to an alias with [projects.<alias>] path = "...", or add a "default" entry.`,
      );
    const repo = project.repoPath;
    if (!(await gitOk(repo, ['rev-parse', '--git-dir'])))
      throw permanent('notConfigured', `${repo} (project ${project.alias}) is not a git repository.`);
    const branch = branchFor(config, input.issue, input.title || input.issue.title);
    const baseBranch = await baseBranchOf(repo, project.worktreeBase);

    if (await hasRemote(repo)) {
      await git(repo, ['fetch', '--quiet', remote]).catch((err: Error) => log().warn({ err: err.message, repo }, 'git fetch failed; using local refs'));
    }
    const localRef = `refs/heads/${branch}`;
    const remoteRef = `refs/remotes/${remote}/${branch}`;
    const baseRef = (await refExists(repo, `refs/remotes/${remote}/${baseBranch}`))
      ? `refs/remotes/${remote}/${baseBranch}`
      : (await refExists(repo, `refs/heads/${baseBranch}`))
        ? `refs/heads/${baseBranch}`
        : 'HEAD';

    await excludeAttachments(repo);

    if (strategy === 'shared') {
      const current = await gitOut(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
      if (current !== branch) {
        if (await refExists(repo, localRef)) await git(repo, ['checkout', '--quiet', branch]);
        else if (await refExists(repo, remoteRef)) await git(repo, ['checkout', '--quiet', '-b', branch, '--track', `${remote}/${branch}`]);
        else await git(repo, ['checkout', '--quiet', '-b', branch, baseRef]);
      }
      return { repoPath: repo, worktreePath: repo, branch, baseBranch };
    }

    const dir = project.worktreesDir ?? path.join(repo, '.worktrees');
    const worktreePath = path.resolve(dir, branch);
    if (!worktreePath.startsWith(path.resolve(dir) + path.sep))
      throw permanent('invalidInput', `The branch "${branch}" would place its worktree outside ${dir}.`);
    if (!project.worktreesDir) await addExclude(repo, '/.worktrees/');

    await git(repo, ['worktree', 'prune']);
    const existing = (await registeredWorktrees(repo)).find((w) => w.path === worktreePath);
    if (existing) {
      if (existing.branch !== branch)
        throw permanent('invalidInput', `${worktreePath} already holds the branch ${existing.branch ?? '(detached)'}, not ${branch}.`);
      return { repoPath: repo, worktreePath, branch, baseBranch };
    }
    const elsewhere = (await registeredWorktrees(repo)).find((w) => w.branch === branch);
    if (elsewhere)
      throw permanent('invalidInput', `The branch ${branch} is already checked out at ${elsewhere.path}; remove that worktree or choose another branch.`);

    await fs.mkdir(path.dirname(worktreePath), { recursive: true });
    if (await refExists(repo, localRef)) await git(repo, ['worktree', 'add', '--quiet', worktreePath, branch]);
    else if (await refExists(repo, remoteRef))
      await git(repo, ['worktree', 'add', '--quiet', '--track', '-b', branch, worktreePath, `${remote}/${branch}`]);
    else await git(repo, ['worktree', 'add', '--quiet', '--no-track', '-b', branch, worktreePath, baseRef]);
    log().info({ issueIdentifier: input.issue.identifier, branch, worktreePath }, 'worktree ready');
    return { repoPath: repo, worktreePath, branch, baseBranch };
  }

  async function addExclude(repo: string, line: string): Promise<void> {
    const common = path.resolve(repo, await gitOut(repo, ['rev-parse', '--git-common-dir']));
    const file = path.join(common, 'info', 'exclude');
    const current = await fs.readFile(file, 'utf8').catch(() => '');
    if (current.split('\n').includes(line)) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${current && !current.endsWith('\n') ? '\n' : ''}${line}\n`);
  }

  /** The ref HEAD is compared with: the pushed branch when there is one, else the base. */
  async function upstreamOf(ws: Workspace): Promise<string | undefined> {
    const remoteRef = `refs/remotes/${remote}/${ws.branch}`;
    if (await refExists(ws.worktreePath, remoteRef)) return remoteRef;
    const base = ws.baseBranch ?? 'main';
    for (const ref of [`refs/remotes/${remote}/${base}`, `refs/heads/${base}`]) if (await refExists(ws.worktreePath, ref)) return ref;
    return undefined;
  }

  async function countAhead(cwd: string, ref: string | undefined): Promise<number> {
    if (!ref) return Number(await gitOut(cwd, ['rev-list', '--count', 'HEAD']).catch(() => '0')) || 0;
    return Number(await gitOut(cwd, ['rev-list', '--count', `${ref}..HEAD`])) || 0;
  }

  async function ensureOnBranch(ws: Workspace): Promise<void> {
    const current = await gitOut(ws.worktreePath, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
    if (current === ws.branch) return;
    const problem = branchNameProblem(ws.branch);
    if (problem) throw permanent('invalidInput', `The branch name "${ws.branch}" is not valid: ${problem}.`);
    await git(ws.worktreePath, ['checkout', '--quiet', ws.branch]);
  }

  async function identityArgs(cwd: string): Promise<string[]> {
    const email = await gitOut(cwd, ['config', 'user.email']).catch(() => '');
    const name = await gitOut(cwd, ['config', 'user.name']).catch(() => '');
    const a = deps.author ?? DEFAULT_AUTHOR;
    return [...(email ? [] : ['-c', `user.email=${a.email}`]), ...(name ? [] : ['-c', `user.name=${a.name}`])];
  }

  async function gitPublish(input: PublishInput): Promise<PublishResult> {
    const ws = input.workspace;
    const cwd = ws.worktreePath;
    const problem = branchNameProblem(ws.branch);
    if (problem) throw permanent('invalidInput', `The branch name "${ws.branch}" is not valid: ${problem}.`);
    await ensureOnBranch(ws);
    await excludeAttachments(cwd);

    await git(cwd, ['add', '--all']);
    const staged = (await git(cwd, ['diff', '--cached', '--quiet'], { okCodes: [1] })).code === 1;
    let committed = false;
    if (staged) {
      await git(cwd, [...(await identityArgs(cwd)), 'commit', '--quiet', '--no-verify', '-m', commitMessage(input.issue, input.summary)]);
      committed = true;
    }
    const commitSha = await gitOut(cwd, ['rev-parse', 'HEAD']);
    const canPush = await hasRemote(ws.repoPath);
    const remoteRef = `refs/remotes/${remote}/${ws.branch}`;
    const unpushed = canPush
      ? (await refExists(cwd, remoteRef))
        ? await countAhead(cwd, remoteRef)
        : await countAhead(cwd, await upstreamOf(ws))
      : 0;

    const gh = client();
    const slug = await repoSlug(ws.repoPath);

    if (!committed && unpushed === 0) {
      // Nothing new. A branch pushed by an earlier attempt whose PR was never opened still gets one.
      const aheadOfBase = await countAhead(cwd, await baseRef(ws));
      if (aheadOfBase > 0 && gh && slug && canPush && (await refExists(cwd, remoteRef))) {
        const existing = await gh.rest.pulls.list({ owner: slug.owner, repo: slug.repo, state: 'open', head: `${slug.owner}:${ws.branch}`, per_page: 10 });
        if (!existing.data.some((p) => p.head.ref === ws.branch)) {
          const pullRequest = await openPr(gh, slug, input);
          return { changed: true, commitSha, pullRequest };
        }
      }
      log().info({ issueIdentifier: input.issue.identifier, branch: ws.branch }, 'no changes to publish');
      return { changed: false };
    }

    if (!canPush) {
      log().warn({ repo: ws.repoPath, remote }, 'no such remote: committed locally, nothing pushed');
      return { changed: true, commitSha };
    }
    await git(cwd, ['push', '--quiet', '--set-upstream', remote, `refs/heads/${ws.branch}:refs/heads/${ws.branch}`]);

    if (!gh || !slug) {
      log().warn(
        { issueIdentifier: input.issue.identifier, hasToken: Boolean(gh), repository: slug ? `${slug.owner}/${slug.repo}` : undefined },
        'pushed; no pull request: set [github] token (or GITHUB_TOKEN) and repository',
      );
      return { changed: true, commitSha };
    }
    const pullRequest = await openPr(gh, slug, input);
    log().info({ issueIdentifier: input.issue.identifier, pr: pullRequest.url, created: pullRequest.created }, 'pull request ready');
    return { changed: true, commitSha, pullRequest };
  }

  async function baseRef(ws: Workspace): Promise<string | undefined> {
    const base = ws.baseBranch ?? 'main';
    for (const ref of [`refs/remotes/${remote}/${base}`, `refs/heads/${base}`]) if (await refExists(ws.worktreePath, ref)) return ref;
    return undefined;
  }

  async function repoSlug(repo: string): Promise<{ owner: string; repo: string } | undefined> {
    if (config.github.repository) {
      const [owner, name] = config.github.repository.split('/');
      if (owner && name) return { owner, repo: name };
    }
    const url = await gitOut(repo, ['remote', 'get-url', remote]).catch(() => '');
    return url ? parseRepoSlug(url) : undefined;
  }

  async function openPr(gh: GitHubClient, slug: { owner: string; repo: string }, input: PublishInput) {
    const title = `${input.issue.identifier}: ${parseTitle(input.issue.title).text || input.issue.title}`.slice(0, 250);
    return upsertPullRequest(gh, {
      owner: slug.owner,
      repo: slug.repo,
      branch: input.workspace.branch,
      base: input.workspace.baseBranch,
      title,
      body: pullRequestBody(input.issue, input.summary),
      draft: config.github.draft,
    });
  }

  async function gitDescribe(input: { workspace: Workspace }): Promise<WorkspaceState> {
    const ws = input.workspace;
    if (!(await gitOk(ws.worktreePath, ['rev-parse', '--git-dir']))) return { uncommittedFiles: 0, unpushedCommits: 0 };
    const status = await gitOut(ws.worktreePath, ['status', '--porcelain']);
    const uncommittedFiles = status ? status.split('\n').filter(Boolean).length : 0;
    const unpushedCommits = await countAhead(ws.worktreePath, await upstreamOf(ws));
    return { uncommittedFiles, unpushedCommits };
  }

  async function gitCleanup(input: { workspace: Workspace }): Promise<void> {
    const ws = input.workspace;
    if (path.resolve(ws.worktreePath) === path.resolve(ws.repoPath)) return; // shared: the repository itself stays
    const listed = (await registeredWorktrees(ws.repoPath).catch(() => [])).some((w) => w.path === path.resolve(ws.worktreePath));
    if (listed) await git(ws.repoPath, ['worktree', 'remove', '--force', ws.worktreePath]);
    await git(ws.repoPath, ['worktree', 'prune']).catch(() => undefined);
    log().info({ worktreePath: ws.worktreePath, branch: ws.branch }, 'worktree removed (the branch stays)');
  }

  return { gitPrepareWorktree, gitPublish, gitDescribe, gitCleanup };
}
