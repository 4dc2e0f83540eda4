import { ApplicationFailure } from '@temporalio/common';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createGitActivities } from '../../../src/activities/git/activities';
import { branchNameProblem } from '../../../src/activities/git/refname';
import { parseRepoSlug } from '../../../src/activities/git/github';
import { configSchema, type KaiConfig } from '../../../src/config/schema';
import { startGitHubEmulator, type GitHubEmulator } from '../../../src/emulator/github';
import { failureOf, issue } from './fixtures';

const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();

let root: string;
let origin: string;
let repo: string;
let gh: GitHubEmulator;


function config(over: Record<string, unknown> = {}, linear: Record<string, unknown> = {}): KaiConfig {
  return configSchema.parse({
    projects: { app: { path: repo } },
    plugins: { linear: { project_map: { 'proj-1': 'app' }, ...linear } },
    github: { api_url: gh.url, token: 'test-token', repository: 'acme/app' },
    ...over,
  });
}

beforeAll(async () => {
  gh = await startGitHubEmulator({ repos: ['acme/app'], token: 'test-token' });
});
afterAll(async () => {
  await gh.stop();
});

beforeEach(() => {
  root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'kai-git-')));
  origin = path.join(root, 'origin.git');
  repo = path.join(root, 'app');
  execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', origin]);
  execFileSync('git', ['init', '--quiet', '-b', 'main', repo]);
  writeFileSync(path.join(repo, 'README.md'), '# app\n');
  sh(repo, 'add', '.');
  sh(repo, 'commit', '--quiet', '-m', 'initial');
  sh(repo, 'remote', 'add', 'origin', origin);
  sh(repo, 'push', '--quiet', '-u', 'origin', 'main');
  for (const r of Object.values(gh.state.repos)) r.pulls = [];
  gh.requests.length = 0;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('worktrees', () => {
  it('gives each issue its own worktree under <repo>/.worktrees on branch_prefix + identifier, idempotently', async () => {
    const acts = createGitActivities({ config: config() });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(ws).toEqual({ repoPath: repo, worktreePath: path.join(repo, '.worktrees', 'kai', 'AV-1'), branch: 'kai/AV-1', baseBranch: 'main' });
    expect(sh(ws.worktreePath, 'symbolic-ref', '--short', 'HEAD')).toBe('kai/AV-1');
    expect(sh(repo, 'status', '--porcelain')).toBe(''); // .worktrees is ignored by the main checkout
    const again = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(again).toEqual(ws);
    const other = await acts.gitPrepareWorktree({ issue: issue({ identifier: 'AV-2' }), title: 'Other' });
    expect(other.worktreePath).toBe(path.join(repo, '.worktrees', 'kai', 'AV-2'));
  });

  it('uses the title @branch prefix and projects.<alias>.worktrees_dir', async () => {
    const dir = path.join(root, 'trees');
    const acts = createGitActivities({ config: config({ projects: { app: { path: repo, worktrees_dir: dir } } }) });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: '@feat/login [model:opus] Fix login' });
    expect(ws.branch).toBe('feat/login');
    expect(ws.worktreePath).toBe(path.join(dir, 'feat', 'login'));
    expect(existsSync(path.join(ws.worktreePath, 'README.md'))).toBe(true);
  });

  it('shares the repository checkout with worktree_strategy shared', async () => {
    const acts = createGitActivities({ config: config({}, { worktree_strategy: 'shared' }) });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(ws.worktreePath).toBe(repo);
    expect(sh(repo, 'symbolic-ref', '--short', 'HEAD')).toBe('kai/AV-1');
    await acts.gitCleanup({ workspace: ws });
    expect(existsSync(path.join(repo, 'README.md'))).toBe(true); // never removes the repository
  });

  it.each([
    ['@--upload-pack=touch%20/tmp/x Title', 'starts with "-"'],
    ['@../../etc/passwd Title', 'contains ".."'],
    ['@feat/x.lock Title', 'ends with ".lock"'],
    ['@feat/.hidden Title', 'starts with "."'],
    ['@a:b Title', 'contains a space'],
    ['@ref@{1} Title', 'contains "@{"'],
  ])('refuses the branch in the title %s with a clear permanent error', async (title, why) => {
    const acts = createGitActivities({ config: config() });
    const err = await acts.gitPrepareWorktree({ issue: issue(), title }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidInput');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as Error).message).toContain(why);
    expect(sh(repo, 'branch', '--list').split('\n')).toEqual(['* main']);
  });

  it('refuses a branch_prefix that makes an invalid name', async () => {
    const acts = createGitActivities({ config: config({}, { branch_prefix: '-x/' }) });
    await expect(acts.gitPrepareWorktree({ issue: issue(), title: 'T' })).rejects.toThrow(/branch_prefix/);
  });

  it('says which setting is missing when no repository is mapped', async () => {
    const acts = createGitActivities({ config: configSchema.parse({}) });
    await expect(acts.gitPrepareWorktree({ issue: issue(), title: 'T' })).rejects.toThrow(/project_map/);
  });

  it('offers the configured projects when several could serve the issue, and works in the one picked', async () => {
    const other = path.join(root, 'other');
    sh(root, 'clone', '--quiet', origin, other);
    const acts = createGitActivities({ config: config({ projects: { app: { path: repo }, web: { path: other } } }) });
    const unmapped = issue({ projectId: undefined });
    const failure = (await failureOf(acts.gitPrepareWorktree({ issue: unmapped, title: 'T' }))) as { type?: string; details?: unknown[] };
    expect(failure.type).toBe('NotConfigured');
    expect(failure.details).toEqual([{ projects: ['app', 'web'] }]);
    const ws = await acts.gitPrepareWorktree({ issue: unmapped, title: 'T', project: 'web' });
    expect(ws.repoPath).toBe(other);
    expect(realpathSync(sh(ws.worktreePath, 'rev-parse', '--path-format=absolute', '--git-common-dir'))).toBe(realpathSync(path.join(other, '.git')));
  });
});

describe('publishing', () => {
  it('commits, pushes and opens one PR, then updates the same PR on the next change', async () => {
    const acts = createGitActivities({ config: config() });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    writeFileSync(path.join(ws.worktreePath, 'auth.ts'), 'export const jwt = 1;\n');
    const first = await acts.gitPublish({ issue: issue(), workspace: ws, summary: 'Added the JWT middleware.' });
    expect(first.changed).toBe(true);
    expect(first.pullRequest).toMatchObject({ number: 1, created: true, title: 'AV-1: Add JWT authentication' });
    expect(first.pullRequest!.url).toBe(`${gh.url}/acme/app/pull/1`);
    // pushed to the bare origin, with a message that names the issue
    expect(sh(origin, 'rev-parse', 'refs/heads/kai/AV-1')).toBe(first.commitSha);
    const message = sh(origin, 'log', '-1', '--format=%B', 'kai/AV-1');
    expect(message).toMatch(/^AV-1: Add JWT authentication/);
    expect(message).toContain('Added the JWT middleware.');
    expect(message).toContain('https://linear.app/acme/issue/AV-1');
    const pr = gh.state.repos['acme/app']!.pulls[0]!;
    expect(pr).toMatchObject({ state: 'open', head: { ref: 'kai/AV-1' }, base: { ref: 'main' } });
    expect(pr.body).toContain('[AV-1](https://linear.app/acme/issue/AV-1/add-jwt-authentication)');

    writeFileSync(path.join(ws.worktreePath, 'auth.test.ts'), 'test;\n');
    const second = await acts.gitPublish({ issue: issue(), workspace: ws, summary: 'Added tests too.' });
    expect(second.pullRequest).toMatchObject({ number: 1, created: false });
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(1);
    expect(gh.state.repos['acme/app']!.pulls[0]!.body).toContain('Added tests too.');
    expect(sh(origin, 'rev-list', '--count', 'kai/AV-1')).toBe('3');
    expect(gh.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/app/pulls')).toHaveLength(1);
  });

  it('opens no PR and pushes nothing when the run changed nothing', async () => {
    const acts = createGitActivities({ config: config() });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    const result = await acts.gitPublish({ issue: issue(), workspace: ws, summary: 'Nothing to do.' });
    expect(result).toEqual({ changed: false });
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(0);
    expect(() => sh(origin, 'rev-parse', '--verify', '--quiet', 'refs/heads/kai/AV-1')).toThrow();
  });

  it('a retry finds the pushed branch and opens the PR that an earlier attempt did not', async () => {
    const noToken = createGitActivities({ config: config({ github: { api_url: gh.url, repository: 'acme/app' } }), env: {} });
    const ws = await noToken.gitPrepareWorktree({ issue: issue(), title: issue().title });
    writeFileSync(path.join(ws.worktreePath, 'a.txt'), 'a\n');
    const pushedOnly = await noToken.gitPublish({ issue: issue(), workspace: ws, summary: 's' });
    expect(pushedOnly.changed).toBe(true);
    expect(pushedOnly.pullRequest).toBeUndefined();
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(0);

    const acts = createGitActivities({ config: config() });
    const retried = await acts.gitPublish({ issue: issue(), workspace: ws, summary: 's' });
    expect(retried.pullRequest).toMatchObject({ created: true, number: 1 });
    const again = await acts.gitPublish({ issue: issue(), workspace: ws, summary: 's' });
    expect(again).toEqual({ changed: false });
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(1);
  });

  it('keeps kai attachments out of the commit', async () => {
    const acts = createGitActivities({ config: config() });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    mkdirSync(path.join(ws.worktreePath, '.takopi-linear', 'attachments'), { recursive: true });
    writeFileSync(path.join(ws.worktreePath, '.takopi-linear', 'attachments', 'spec.pdf'), 'pdf');
    writeFileSync(path.join(ws.worktreePath, 'code.ts'), 'x\n');
    const result = await acts.gitPublish({ issue: issue(), workspace: ws, summary: 's' });
    expect(sh(origin, 'show', '--name-only', '--format=', result.commitSha!)).toBe('code.ts');
  });
});

describe('describe and cleanup', () => {
  it('counts uncommitted files and unpushed commits, and removes the worktree but keeps the branch', async () => {
    const acts = createGitActivities({ config: config() });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(await acts.gitDescribe({ workspace: ws })).toEqual({ uncommittedFiles: 0, unpushedCommits: 0 });
    writeFileSync(path.join(ws.worktreePath, 'one.txt'), '1');
    writeFileSync(path.join(ws.worktreePath, 'two.txt'), '2');
    expect(await acts.gitDescribe({ workspace: ws })).toEqual({ uncommittedFiles: 2, unpushedCommits: 0 });
    sh(ws.worktreePath, 'add', 'one.txt');
    sh(ws.worktreePath, 'commit', '--quiet', '-m', 'one');
    expect(await acts.gitDescribe({ workspace: ws })).toEqual({ uncommittedFiles: 1, unpushedCommits: 1 });

    await acts.gitCleanup({ workspace: ws });
    expect(existsSync(ws.worktreePath)).toBe(false);
    expect(sh(repo, 'branch', '--list', 'kai/AV-1')).toContain('kai/AV-1');
    await acts.gitCleanup({ workspace: ws }); // idempotent
    // the issue can come back: its branch is checked out again with its commits
    const back = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(existsSync(path.join(back.worktreePath, 'one.txt'))).toBe(true);
  });
});

describe('branch name rules', () => {
  it('accepts what git accepts and refuses the rest', () => {
    for (const ok of ['kai/AV-123', 'feat/login', 'fix-1.2', 'user/ünïcode']) expect(branchNameProblem(ok)).toBeUndefined();
    for (const bad of ['', '-x', 'a..b', 'a/', '/a', 'a//b', 'a.', 'a.lock', '.a', 'a b', 'a~1', 'a^', 'a?', 'a*', 'a[', 'a\\b', '@', 'HEAD', 'a@{b', 'a\u0001'])
      expect(branchNameProblem(bad)).toBeDefined();
  });

  it('reads owner/name from remote URLs', () => {
    expect(parseRepoSlug('git@github.com:acme/app.git')).toEqual({ owner: 'acme', repo: 'app' });
    expect(parseRepoSlug('https://github.com/acme/app')).toEqual({ owner: 'acme', repo: 'app' });
    expect(parseRepoSlug('ssh://git@ghe.example.com/acme/app.git')).toEqual({ owner: 'acme', repo: 'app' });
    expect(parseRepoSlug('/srv/git/app.git')).toBeUndefined();
  });
});
