// Commit-and-push and the pull request as two activities, each failing the way its outside
// system did: permanent with what to fix, or after GitHub's own rate-limit reset.
import { MockActivityEnvironment } from '@temporalio/testing';
import { rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createGitActivities } from '../../../src/activities/git/activities';
import type { GitHeartbeatDetails } from '../../../src/activities/git/heartbeat';
import type { CommitPushResult, Workspace } from '../../../src/domain/workspace';
import { configSchema, type KaiConfig } from '../../../src/config/schema';
import { startGitHubEmulator, type GitHubEmulator } from '../../../src/emulator/github';
import { failureOf, issue, makeCheckout, makeOrigin, sh, tempRoot } from './fixtures';

let root: string;
let origin: string;
let repo: string;
let gh: GitHubEmulator;

function config(github: Record<string, unknown> = {}): KaiConfig {
  return configSchema.parse({
    projects: { app: { path: repo } },
    plugins: { linear: { project_map: { 'proj-1': 'app' } } },
    github: { api_url: gh.url, token: 'test-token', repository: 'acme/app', ...github },
  });
}

beforeEach(async () => {
  root = tempRoot();
  origin = makeOrigin(root);
  repo = makeCheckout(root, origin);
  gh = await startGitHubEmulator({ repos: ['acme/app'], token: 'test-token', readOnlyTokens: ['read-only'], gitDir: origin });
});
afterEach(async () => {
  await gh.stop();
  rmSync(root, { recursive: true, force: true });
});

async function prepared(cfg = config()) {
  const acts = createGitActivities({ config: cfg, env: {} });
  const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
  return { acts, ws };
}

describe('two activities: commit-and-push, then the pull request', () => {
  it('gitCommitAndPush pushes and talks to no GitHub API; githubOpenPullRequest opens the PR once and updates it after', async () => {
    const { acts, ws } = await prepared();
    writeFileSync(path.join(ws.worktreePath, 'auth.ts'), 'export const jwt = 1;\n');
    const pushed = await acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 'Added the middleware.' });
    expect(pushed).toEqual({ changed: true, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/), pushed: true, branch: 'kai/AV-1' });
    expect(sh(origin, 'rev-parse', 'refs/heads/kai/AV-1')).toBe(pushed.commitSha);
    expect(gh.requests).toHaveLength(0);

    const pr = await acts.githubOpenPullRequest({ issue: issue(), workspace: ws, summary: 'Added the middleware.', commitSha: pushed.commitSha });
    expect(pr).toMatchObject({ number: 1, created: true, title: 'AV-1: Add JWT authentication' });
    const again = await acts.githubOpenPullRequest({ issue: issue(), workspace: ws, summary: 'And tests.', commitSha: pushed.commitSha });
    expect(again).toMatchObject({ number: 1, created: false });
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(1);
    expect(gh.state.repos['acme/app']!.pulls[0]!.body).toContain('And tests.');

    expect(await acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 'Nothing.' })).toEqual({ changed: false, pushed: false, branch: 'kai/AV-1' });
  });

  it('a retried gitCommitAndPush whose earlier attempt pushed before it was lost still reports the change', async () => {
    const { acts, ws } = await prepared();
    writeFileSync(path.join(ws.worktreePath, 'a.txt'), 'a\n');
    const first = await acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' });
    const retry = new MockActivityEnvironment({ attempt: 2 });
    const second = (await retry.run(acts.gitCommitAndPush, { issue: issue(), workspace: ws, summary: 's' })) as CommitPushResult;
    expect(second).toEqual({ changed: true, commitSha: first.commitSha, pushed: true, branch: 'kai/AV-1' });
    expect(sh(origin, 'rev-list', '--count', 'kai/AV-1')).toBe('2'); // nothing committed twice
  });

  it('heartbeats with the git step while it runs', async () => {
    const env = new MockActivityEnvironment();
    const beats: GitHeartbeatDetails[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d as GitHeartbeatDetails));
    const acts = createGitActivities({ config: config(), env: {} });
    const ws = (await env.run(acts.gitPrepareWorktree, { issue: issue(), title: issue().title })) as Workspace;
    writeFileSync(path.join(ws.worktreePath, 'b.txt'), 'b\n');
    await env.run(acts.gitCommitAndPush, { issue: issue(), workspace: ws, summary: 's' });
    const steps = beats.map((b) => b.step);
    expect(steps).toEqual(expect.arrayContaining(['git fetch origin', 'git worktree add kai/AV-1', 'git add', 'git commit', expect.stringMatching(/^git push kai\/AV-1 to /)]));
  });

  it('a cancelled push stops git at once instead of waiting for the remote', async () => {
    const { ws } = await prepared();
    let seen!: () => void;
    const reached = new Promise<void>((r) => (seen = r));
    const hung = http.createServer(() => seen()); // takes the request and never answers
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    try {
      sh(repo, 'remote', 'set-url', 'origin', `http://127.0.0.1:${(hung.address() as AddressInfo).port}/app.git`);
      const acts = createGitActivities({ config: config(), env: {} });
      writeFileSync(path.join(ws.worktreePath, 'c.txt'), 'c\n');
      const env = new MockActivityEnvironment();
      const pushing = env.run(acts.gitCommitAndPush, { issue: issue(), workspace: ws, summary: 's' });
      const outcome = pushing.then(
        () => 'finished',
        (err: Error) => err.name,
      );
      await reached;
      env.cancel();
      expect(await outcome).toBe('CancelledFailure');
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });
});

describe('git failures are permanent with what to fix', () => {
  it('refuses a non-fast-forward push and says kai never force-pushes', async () => {
    const { acts, ws } = await prepared();
    writeFileSync(path.join(ws.worktreePath, 'mine.txt'), 'mine\n');
    await acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' });
    // Someone else pushes to the branch in between.
    const other = path.join(root, 'other');
    sh(root, 'clone', '--quiet', '--branch', 'kai/AV-1', origin, other);
    writeFileSync(path.join(other, 'theirs.txt'), 'theirs\n');
    sh(other, 'add', '.');
    sh(other, 'commit', '--quiet', '-m', 'theirs');
    sh(other, 'push', '--quiet', 'origin', 'kai/AV-1');
    const theirs = sh(origin, 'rev-parse', 'refs/heads/kai/AV-1');

    writeFileSync(path.join(ws.worktreePath, 'mine2.txt'), 'mine too\n');
    const err = await failureOf(acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' }));
    expect(err).toMatchObject({ type: 'GitPushRejected', nonRetryable: true });
    expect(err.message).toMatch(/never force-pushes/);
    expect(sh(origin, 'rev-parse', 'refs/heads/kai/AV-1')).toBe(theirs);
  });

  it('says the repository is missing when the remote is gone', async () => {
    const { acts, ws } = await prepared();
    rmSync(origin, { recursive: true, force: true });
    writeFileSync(path.join(ws.worktreePath, 'x.txt'), 'x\n');
    const err = await failureOf(acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' }));
    expect(err).toMatchObject({ type: 'GitRepositoryNotFound', nonRetryable: true });
    expect(err.message).toContain(origin);
  });
});

describe('GitHub failures: permanent with what to fix, rate limits wait for the reset', () => {
  async function pushedWorkspace(cfg = config()) {
    const { acts, ws } = await prepared(cfg);
    writeFileSync(path.join(ws.worktreePath, 'y.txt'), 'y\n');
    await acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' });
    return { acts, ws };
  }
  const open = (acts: ReturnType<typeof createGitActivities>, ws: Workspace) => failureOf(acts.githubOpenPullRequest({ issue: issue(), workspace: ws, summary: 's' }));

  it('401: the token is wrong, and the message never shows it', async () => {
    const { acts, ws } = await pushedWorkspace(config({ token: 'wrong-token-123' }));
    const err = await open(acts, ws);
    expect(err).toMatchObject({ type: 'GitHubAuthFailed', nonRetryable: true });
    expect(err.message).toMatch(/GITHUB_TOKEN/);
    expect(err.message).not.toContain('wrong-token-123');
  });

  it('404: no such repository for this token names [github] repository', async () => {
    const { acts, ws } = await pushedWorkspace(config({ repository: 'acme/missing' }));
    const err = await open(acts, ws);
    expect(err).toMatchObject({ type: 'GitHubNotFound', nonRetryable: true });
    expect(err.message).toMatch(/acme\/missing.*\[github\] repository/);
  });

  it('403 without a rate limit: the token may not write pull requests', async () => {
    const { acts, ws } = await pushedWorkspace(config({ token: 'read-only' }));
    const err = await open(acts, ws);
    expect(err).toMatchObject({ type: 'GitHubForbidden', nonRetryable: true });
    expect(err.message).toMatch(/write access to pull requests/);
  });

  it('422: a branch GitHub does not have is a validation failure that says the push did not reach it', async () => {
    const { acts, ws } = await prepared();
    const err = await open(acts, ws); // nothing pushed
    expect(err).toMatchObject({ type: 'GitHubValidationFailed', nonRetryable: true });
    expect(err.message).toMatch(/HTTP 422/);
    expect(err.message).toMatch(/push did not reach/);
  });

  it('403 with x-ratelimit-remaining 0 waits until x-ratelimit-reset', async () => {
    const { acts, ws } = await pushedWorkspace();
    const resetAt = Math.floor(Date.now() / 1000) + 900;
    gh.exhaustRateLimit(resetAt);
    const err = await open(acts, ws);
    expect(err).toMatchObject({ type: 'GitHubRateLimited' });
    expect(err.nonRetryable).toBeFalsy();
    // The delay is the reset the emulator gave, less the moments the call itself took.
    expect(Number(err.nextRetryDelay)).toBeGreaterThan(800_000);
    expect(Number(err.nextRetryDelay)).toBeLessThanOrEqual(900_000);
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(0);
  });

  it('a secondary limit (429 with retry-after) waits exactly retry-after', async () => {
    const { acts, ws } = await pushedWorkspace();
    gh.secondaryLimit({ retryAfterS: 42, status: 429 });
    const err = await open(acts, ws);
    expect(err).toMatchObject({ type: 'GitHubRateLimited', nextRetryDelay: 42_000 });
    expect(err.nonRetryable).toBeFalsy();
    // and once the limit has passed, the same call succeeds
    expect(await acts.githubOpenPullRequest({ issue: issue(), workspace: ws, summary: 's' })).toMatchObject({ created: true });
  });
});
