// Worktrees, commits, pushes and pull requests with real git. Every step looks before it acts,
// so a retried activity finds its own earlier work instead of repeating it. Git (commit and push)
// and GitHub (the pull request) are separate activities with their own failure classes
// (errors.ts); long git commands heartbeat (heartbeat.ts); pushes and fetches carry the token
// for that one command only (credentials.ts), from a place no engine-planted config reaches.
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { KaiConfig } from '../../config/schema';
import * as logModule from '../../log';
import type { IssueContext } from '../../domain/issue';
import { parseTitle } from '../../domain/directives';
import { permanent } from '../errors';
import type {
  CommitPushInput,
  CommitPushResult,
  GitActivities,
  OpenPullRequestInput,
  PublishInput,
  PublishResult,
  PullRequestRef,
  Workspace,
  WorkspaceState,
} from '../types';
import { credentialPins } from './credentials';
import { gitFailure, githubFailure, gitPermanent, redact } from './errors';
import { git, gitOk, gitOut, type ConfigPins } from './git';
import { createGitHubClient, parseRepoSlug, upsertPullRequest, type GitHubClient } from './github';
import { withGitBeat, type GitBeat } from './heartbeat';
import { dataDirFrom, resolveAlias, resolveProject, type ResolvedProject } from './projects';
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
  /** Where `url` projects keep their mirrors and worktrees; KAI_DATA_DIR (or ~/.local/share/kai) by default. */
  dataDir?: string;
  /** How often a long git step heartbeats (default 5 s; the workflow's heartbeat timeout is ~60 s). */
  heartbeatEveryMs?: number;
}

/** Long network steps (clone of a large repository) get this long before git is killed. */
const NETWORK_TIMEOUT_MS = 30 * 60 * 1000;

/** `*` matches any run of characters; names compare case-insensitively. */
export function matchesBranchPattern(pattern: string, branch: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(branch);
}

/** Why kai must not commit to `branch`, or undefined when it may. */
export function protectedBranchReason(config: KaiConfig, branch: string, baseBranches: Array<string | undefined>): string | undefined {
  for (const base of baseBranches) if (base && base.toLowerCase() === branch.toLowerCase()) return 'it is the base branch';
  const hit = config.github.protected_branches.find((p) => matchesBranchPattern(p, branch));
  return hit ? `it matches "${hit}" in github.protected_branches` : undefined;
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
  const env = deps.env ?? process.env;
  const remote = config.github.remote;
  const strategy = config.plugins.linear.worktree_strategy;
  const dataDir = deps.dataDir ?? dataDirFrom(env);
  const beatEvery = deps.heartbeatEveryMs ?? 5_000;
  let github: GitHubClient | undefined = deps.github;
  /** Push URLs of `path` projects, read once per process (before any engine of it ran). */
  const pathRemoteUrls = new Map<string, string | undefined>();
  /** One prepare at a time per repository: fetches and worktree adds share its refs. */
  const repoLocks = new Map<string, Promise<unknown>>();

  function githubToken(): string | undefined {
    return config.github.token ?? env.GITHUB_TOKEN ?? env.GH_TOKEN;
  }
  const secrets = () => [githubToken()];

  function client(): GitHubClient | undefined {
    if (github) return github;
    const token = githubToken();
    if (!token) return undefined;
    github = createGitHubClient({ token, baseUrl: config.github.api_url });
    return github;
  }

  async function withRepoLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
    const before = repoLocks.get(repo) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    repoLocks.set(repo, tail);
    try {
      return await run;
    } finally {
      if (repoLocks.get(repo) === tail) repoLocks.delete(repo);
    }
  }

  /** The `url` project whose mirror is `repoPath`, from kai's config (never the mirror's own). */
  function urlProjectFor(repoPath: string): ResolvedProject | undefined {
    for (const [alias, p] of Object.entries(config.projects)) {
      if (!p.url) continue;
      const resolved = resolveAlias(config, alias, dataDir);
      if (resolved.repoPath && path.resolve(resolved.repoPath) === path.resolve(repoPath)) return resolved;
    }
    return undefined;
  }

  async function hasRemote(repo: string): Promise<boolean> {
    const remotes = (await gitOut(repo, ['remote'])).split('\n').map((s) => s.trim());
    return remotes.includes(remote);
  }

  /** Where the branch of `repoPath` is pushed, or undefined when it has no remote. */
  async function pushUrlOf(repoPath: string): Promise<string | undefined> {
    const project = urlProjectFor(repoPath);
    if (project?.url) return project.url;
    const key = path.resolve(repoPath);
    if (!pathRemoteUrls.has(key)) {
      const url = (await hasRemote(repoPath)) ? await gitOut(repoPath, ['remote', 'get-url', '--push', remote]).catch(() => '') : '';
      pathRemoteUrls.set(key, url || undefined);
    }
    return pathRemoteUrls.get(key);
  }

  async function refExists(cwd: string, ref: string): Promise<boolean> {
    return gitOk(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  }

  async function remoteDefaultBranch(repo: string): Promise<string | undefined> {
    const remoteHead = await gitOut(repo, ['symbolic-ref', '--quiet', '--short', `refs/remotes/${remote}/HEAD`]).catch(() => '');
    return remoteHead.startsWith(`${remote}/`) ? remoteHead.slice(remote.length + 1) : undefined;
  }

  async function baseBranchOf(repo: string, configured: string | undefined): Promise<string> {
    if (configured) return configured;
    if (config.github.base_branch) return config.github.base_branch;
    const fromRemote = await remoteDefaultBranch(repo);
    if (fromRemote) return fromRemote;
    const head = await gitOut(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
    return head || 'main';
  }

  function refuseProtected(branch: string, bases: Array<string | undefined>, fromTitle: boolean): void {
    const reason = protectedBranchReason(config, branch, bases);
    if (!reason) return;
    throw gitPermanent(
      'protectedBranch',
      `kai works on its own branches only, and "${branch}" is protected (${reason}): its changes must go through a pull request. ` +
        (fromTitle
          ? `Remove @${branch} from the start of the issue title (kai then uses ${config.plugins.linear.branch_prefix}<identifier>) or name a branch of its own.`
          : 'Change plugins.linear.branch_prefix or github.protected_branches.'),
    );
  }

  async function addExclude(repo: string, line: string): Promise<void> {
    const common = path.resolve(repo, await gitOut(repo, ['rev-parse', '--git-common-dir']));
    const file = path.join(common, 'info', 'exclude');
    const current = await fs.readFile(file, 'utf8').catch(() => '');
    if (current.split('\n').includes(line)) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${current && !current.endsWith('\n') ? '\n' : ''}${line}\n`);
  }

  /** Keeps kai's attachment folder out of commits. */
  async function excludeAttachments(cwd: string): Promise<void> {
    const dir = config.transports.linear.attachment_dir.replace(/^\/+|\/+$/g, '');
    if (dir) await addExclude(cwd, `/${dir}/`);
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

  // ------------------------------------------------------------------ the mirror of a url project

  /** The mirror's config, written by kai before every fetch: whatever an engine wrote there
   *  (remote URL, URL rewrites, helpers, proxies, includes) is gone before the token is used. */
  async function writeMirrorConfig(dir: string, url: string): Promise<void> {
    const file = path.join(dir, 'config.kai-new');
    await fs.rm(file, { force: true });
    const set = (key: string, value: string) => git(dir, ['config', '--file', file, key, value]);
    await set('core.repositoryformatversion', '0');
    await set('core.bare', 'true');
    await set(`remote.${remote}.url`, url);
    await set(`remote.${remote}.fetch`, `+refs/heads/*:refs/remotes/${remote}/*`);
    await fs.rename(file, path.join(dir, 'config'));
    await fs.rm(path.join(dir, 'config.worktree'), { force: true });
  }

  async function fetchMirror(dir: string, url: string, beat: GitBeat): Promise<void> {
    const what = `fetch ${redact(url)}`;
    beat.step(`git ${what}`);
    const pins = await credentialPins(url, githubToken());
    try {
      await git(dir, ['fetch', '--quiet', '--prune', '--no-tags', url, `+refs/heads/*:refs/remotes/${remote}/*`], {
        config: pins,
        signal: beat.signal,
        timeoutMs: NETWORK_TIMEOUT_MS,
      });
      if (!(await gitOk(dir, ['symbolic-ref', '--quiet', `refs/remotes/${remote}/HEAD`]))) {
        const out = await gitOut(dir, ['ls-remote', '--symref', url, 'HEAD'], { config: pins, signal: beat.signal, timeoutMs: NETWORK_TIMEOUT_MS });
        const head = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(out)?.[1];
        if (head && !branchNameProblem(head)) await git(dir, ['symbolic-ref', `refs/remotes/${remote}/HEAD`, `refs/remotes/${remote}/${head}`]);
      }
    } catch (err) {
      throw gitFailure(what, err, { url, secrets: secrets() });
    }
  }

  /** Makes (first time) and refreshes the bare mirror of a `url` project. */
  async function syncMirror(dir: string, url: string, beat: GitBeat): Promise<void> {
    if (existsSync(path.join(dir, 'HEAD'))) {
      await writeMirrorConfig(dir, url);
      await fetchMirror(dir, url, beat);
      return;
    }
    // Built aside and renamed into place, so a crash mid-clone leaves no half mirror behind.
    await fs.mkdir(path.dirname(dir), { recursive: true });
    const tmp = `${dir}.kai-partial`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp);
    try {
      await git(tmp, ['init', '--quiet', '--bare', '.']);
      await writeMirrorConfig(tmp, url);
      await fetchMirror(tmp, url, beat);
      await fs.rename(tmp, dir);
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      throw err;
    }
    log().info({ mirror: dir, url: redact(url) }, 'repository mirrored');
  }

  // ------------------------------------------------------------------ prepare

  async function gitPrepareWorktree(input: { issue: IssueContext; title: string; project?: string }): Promise<Workspace> {
    // `project`: the alias the user picked when asked; otherwise the issue's Linear project decides.
    const project = input.project ? resolveAlias(config, input.project, dataDir) : resolveProject(config, input.issue.projectId, dataDir);
    if (!project.repoPath) {
      // With projects configured but none known for the issue (or several that could serve),
      // the details offer them: the workflow asks the user which one (an elicitation).
      const choices = Object.keys(config.projects).filter((alias) => resolveAlias(config, alias, dataDir).repoPath);
      throw permanent(
        'notConfigured',
        `No repository is configured for ${input.issue.identifier}` +
          `${input.issue.projectId ? ` (Linear project ${input.issue.projectId})` : ''}: map the project in plugins.linear.project_map ` +
          `to an alias with [projects.<alias>] url = "<git URL>" (or path = "/local/checkout"), or add a "default" entry.`,
        choices.length && !input.project ? { projects: choices } : undefined,
      );
    }
    const repo = project.repoPath;
    const title = input.title || input.issue.title;
    const branch = branchFor(config, input.issue, title);
    return withGitBeat(beatEvery, (beat) =>
      withRepoLock(repo, async () => {
        if (project.url) await syncMirror(repo, project.url, beat);
        else {
          if (!(await gitOk(repo, ['rev-parse', '--git-dir'])))
            throw permanent('notConfigured', `${repo} (project ${project.alias}) is not a git repository.`);
          if (await hasRemote(repo)) {
            await pushUrlOf(repo);
            beat.step(`git fetch ${remote}`);
            const url = (await pushUrlOf(repo)) ?? remote;
            await git(repo, ['fetch', '--quiet', remote], { config: await credentialPins(url, undefined), signal: beat.signal, timeoutMs: NETWORK_TIMEOUT_MS }).catch((err: Error) => {
              if (beat.signal?.aborted) throw err;
              log().warn({ err: redact(err.message, secrets()), repo }, 'git fetch failed; using local refs');
            });
          }
        }
        const baseBranch = await baseBranchOf(repo, project.worktreeBase);
        refuseProtected(branch, [baseBranch, await remoteDefaultBranch(repo)], parseTitle(title).branch !== undefined);
        return placeWorktree(input.issue, project, repo, branch, baseBranch, beat);
      }),
    );
  }

  async function placeWorktree(issue: IssueContext, project: ResolvedProject, repo: string, branch: string, baseBranch: string, beat: GitBeat): Promise<Workspace> {
    const localRef = `refs/heads/${branch}`;
    const remoteRef = `refs/remotes/${remote}/${branch}`;
    const baseRef = (await refExists(repo, `refs/remotes/${remote}/${baseBranch}`))
      ? `refs/remotes/${remote}/${baseBranch}`
      : (await refExists(repo, `refs/heads/${baseBranch}`))
        ? `refs/heads/${baseBranch}`
        : 'HEAD';

    await excludeAttachments(repo);

    if (strategy === 'shared' && !project.url) {
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
    const worktrees = await registeredWorktrees(repo);
    const existing = worktrees.find((w) => w.path === worktreePath);
    if (existing) {
      if (existing.branch !== branch)
        throw permanent('invalidInput', `${worktreePath} already holds the branch ${existing.branch ?? '(detached)'}, not ${branch}.`);
      return { repoPath: repo, worktreePath, branch, baseBranch };
    }
    const elsewhere = worktrees.find((w) => w.branch === branch);
    if (elsewhere)
      throw permanent('invalidInput', `The branch ${branch} is already checked out at ${elsewhere.path}; remove that worktree or choose another branch.`);

    // The remote is where the branch lives between turns: a local copy that is behind it (another
    // worker pushed since) moves forward; one that has diverged stays, and its push says so.
    if ((await refExists(repo, localRef)) && (await refExists(repo, remoteRef)) && (await gitOk(repo, ['merge-base', '--is-ancestor', localRef, remoteRef])))
      await git(repo, ['update-ref', localRef, remoteRef]);

    await fs.mkdir(path.dirname(worktreePath), { recursive: true });
    beat.step(`git worktree add ${branch}`);
    const opts = { signal: beat.signal, timeoutMs: NETWORK_TIMEOUT_MS };
    if (await refExists(repo, localRef)) await git(repo, ['worktree', 'add', '--quiet', worktreePath, branch], opts);
    else if (await refExists(repo, remoteRef))
      await git(repo, ['worktree', 'add', '--quiet', '--track', '-b', branch, worktreePath, `${remote}/${branch}`], opts);
    else await git(repo, ['worktree', 'add', '--quiet', '--no-track', '-b', branch, worktreePath, baseRef], opts);
    log().info({ issueIdentifier: issue.identifier, branch, worktreePath }, 'worktree ready');
    return { repoPath: repo, worktreePath, branch, baseBranch };
  }

  // ------------------------------------------------------------------ commit and push

  async function baseRef(ws: Workspace): Promise<string | undefined> {
    const base = ws.baseBranch ?? 'main';
    for (const ref of [`refs/remotes/${remote}/${base}`, `refs/heads/${base}`]) if (await refExists(ws.worktreePath, ref)) return ref;
    return undefined;
  }

  /** The ref HEAD is compared with: the pushed branch when there is one, else the base. */
  async function upstreamOf(ws: Workspace): Promise<string | undefined> {
    const remoteRef = `refs/remotes/${remote}/${ws.branch}`;
    if (await refExists(ws.worktreePath, remoteRef)) return remoteRef;
    return baseRef(ws);
  }

  async function countAhead(cwd: string, ref: string | undefined): Promise<number> {
    if (!ref) return Number(await gitOut(cwd, ['rev-list', '--count', 'HEAD']).catch(() => '0')) || 0;
    return Number(await gitOut(cwd, ['rev-list', '--count', `${ref}..HEAD`])) || 0;
  }

  async function ensureOnBranch(ws: Workspace): Promise<void> {
    const current = await gitOut(ws.worktreePath, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
    if (current === ws.branch) return;
    await git(ws.worktreePath, ['checkout', '--quiet', ws.branch]);
  }

  async function identityPins(cwd: string): Promise<ConfigPins> {
    const email = await gitOut(cwd, ['config', 'user.email']).catch(() => '');
    const name = await gitOut(cwd, ['config', 'user.name']).catch(() => '');
    const a = deps.author ?? DEFAULT_AUTHOR;
    return [...(email ? [] : [['user.email', a.email] as [string, string]]), ...(name ? [] : [['user.name', a.name] as [string, string]])];
  }

  /** Pushes one commit to one branch from a private, empty repository that borrows the objects
   *  of `cwd`'s repository: no hook, config, helper or URL rewrite of that repository takes part. */
  async function pushBranch(cwd: string, url: string, branch: string, sha: string, beat: GitBeat): Promise<void> {
    const common = path.resolve(cwd, await gitOut(cwd, ['rev-parse', '--git-common-dir']));
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kai-push-'));
    const what = `push ${branch} to ${redact(url)}`;
    try {
      await git(tmp, ['init', '--quiet', '--bare', '.']);
      await fs.writeFile(path.join(tmp, 'objects', 'info', 'alternates'), `${path.join(common, 'objects')}\n`);
      await fs.copyFile(path.join(common, 'shallow'), path.join(tmp, 'shallow')).catch(() => undefined);
      await git(tmp, ['update-ref', `refs/heads/${branch}`, sha]);
      beat.step(`git ${what}`);
      await git(tmp, ['push', '--quiet', url, `refs/heads/${branch}:refs/heads/${branch}`], {
        config: await credentialPins(url, githubToken()),
        signal: beat.signal,
        timeoutMs: NETWORK_TIMEOUT_MS,
      });
    } catch (err) {
      throw gitFailure(what, err, { url, branch, secrets: secrets() });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  async function gitCommitAndPush(input: CommitPushInput): Promise<CommitPushResult> {
    const ws = input.workspace;
    const cwd = ws.worktreePath;
    const branch = ws.branch;
    const problem = branchNameProblem(branch);
    if (problem) throw permanent('invalidInput', `The branch name "${branch}" is not valid: ${problem}.`);
    refuseProtected(branch, [ws.baseBranch], false);
    return withGitBeat(beatEvery, async (beat) => {
      await ensureOnBranch(ws);
      await excludeAttachments(cwd);
      beat.step('git add');
      await git(cwd, ['add', '--all'], { signal: beat.signal });
      const staged = (await git(cwd, ['diff', '--cached', '--quiet'], { okCodes: [1] })).code === 1;
      if (staged) {
        beat.step('git commit');
        await git(cwd, ['commit', '--quiet', '--no-verify', '-m', commitMessage(input.issue, input.summary)], { config: await identityPins(cwd), signal: beat.signal });
      }
      const sha = await gitOut(cwd, ['rev-parse', 'HEAD']);
      const url = await pushUrlOf(ws.repoPath);
      if (!url) {
        if (staged) log().warn({ repo: ws.repoPath, remote }, 'no such remote: committed locally, nothing pushed');
        return { changed: staged, commitSha: staged ? sha : undefined, pushed: false, branch };
      }
      const remoteRef = `refs/remotes/${remote}/${branch}`;
      const onRemote = await refExists(cwd, remoteRef);
      const unpushed = await countAhead(cwd, onRemote ? remoteRef : await baseRef(ws));
      if (!staged && unpushed === 0) {
        // An earlier attempt of this activity pushed this turn's work and was lost before it
        // reported: the branch on the remote is HEAD, ahead of the base. That is still a change.
        if (beat.attempt > 1 && onRemote && (await countAhead(cwd, await baseRef(ws))) > 0)
          return { changed: true, commitSha: sha, pushed: true, branch };
        log().info({ issueIdentifier: input.issue.identifier, branch }, 'no changes to publish');
        return { changed: false, pushed: false, branch };
      }
      await pushBranch(cwd, url, branch, sha, beat);
      await git(cwd, ['update-ref', remoteRef, sha]);
      log().info({ issueIdentifier: input.issue.identifier, branch, commitSha: sha }, 'pushed');
      return { changed: true, commitSha: sha, pushed: true, branch };
    });
  }

  // ------------------------------------------------------------------ the pull request

  async function repoSlug(repoPath: string): Promise<{ owner: string; repo: string } | undefined> {
    if (config.github.repository) {
      const [owner, name] = config.github.repository.split('/');
      if (owner && name) return { owner, repo: name };
    }
    const url = await pushUrlOf(repoPath).catch(() => undefined);
    return url ? parseRepoSlug(url) : undefined;
  }

  function pullRequestTitle(issue: IssueContext): string {
    return `${issue.identifier}: ${parseTitle(issue.title).text || issue.title}`.slice(0, 250);
  }

  async function githubOpenPullRequest(input: OpenPullRequestInput): Promise<PullRequestRef | undefined> {
    const ws = input.workspace;
    const gh = client();
    const slug = await repoSlug(ws.repoPath);
    if (!gh || !slug) {
      log().warn(
        { issueIdentifier: input.issue.identifier, hasToken: Boolean(gh), repository: slug ? `${slug.owner}/${slug.repo}` : undefined },
        'no pull request: set [github] token (or GITHUB_TOKEN) and repository',
      );
      return undefined;
    }
    try {
      const pullRequest = await upsertPullRequest(gh, {
        owner: slug.owner,
        repo: slug.repo,
        branch: ws.branch,
        base: ws.baseBranch,
        title: pullRequestTitle(input.issue),
        body: pullRequestBody(input.issue, input.summary),
        draft: config.github.draft,
      });
      log().info({ issueIdentifier: input.issue.identifier, pr: pullRequest.url, created: pullRequest.created, commitSha: input.commitSha }, 'pull request ready');
      return pullRequest;
    } catch (err) {
      throw githubFailure(`open the pull request for ${ws.branch}`, err, { repository: `${slug.owner}/${slug.repo}`, secrets: secrets() });
    }
  }

  /** Histories in flight call the two steps as one. */
  async function gitPublish(input: PublishInput): Promise<PublishResult> {
    const ws = input.workspace;
    const pushed = await gitCommitAndPush(input);
    if (pushed.changed && !pushed.pushed) return { changed: true, commitSha: pushed.commitSha };
    if (pushed.changed) {
      const pullRequest = await githubOpenPullRequest({ ...input, commitSha: pushed.commitSha });
      return { changed: true, commitSha: pushed.commitSha, ...(pullRequest ? { pullRequest } : {}) };
    }
    // Nothing new. A branch pushed by an earlier attempt whose PR was never opened still gets one.
    const gh = client();
    const slug = await repoSlug(ws.repoPath);
    const cwd = ws.worktreePath;
    if (gh && slug && (await refExists(cwd, `refs/remotes/${remote}/${ws.branch}`)) && (await countAhead(cwd, await baseRef(ws))) > 0) {
      const open = await gh.rest.pulls
        .list({ owner: slug.owner, repo: slug.repo, state: 'open', head: `${slug.owner}:${ws.branch}`, per_page: 10 })
        .catch((err: unknown) => {
          throw githubFailure(`look for the pull request of ${ws.branch}`, err, { repository: `${slug.owner}/${slug.repo}`, secrets: secrets() });
        });
      if (!open.data.some((p) => p.head.ref === ws.branch)) {
        const commitSha = await gitOut(cwd, ['rev-parse', 'HEAD']);
        const pullRequest = await githubOpenPullRequest({ ...input, commitSha });
        if (pullRequest) return { changed: true, commitSha, pullRequest };
      }
    }
    return { changed: false };
  }

  // ------------------------------------------------------------------ describe and cleanup

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

  return { gitPrepareWorktree, gitPublish, gitCommitAndPush, githubOpenPullRequest, gitDescribe, gitCleanup };
}
