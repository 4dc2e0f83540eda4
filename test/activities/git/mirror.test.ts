// `[projects.<alias>] url`: each worker mirrors the remote under its own data directory and
// makes worktrees from the mirror; the remote is where branches live between turns.
import { MockActivityEnvironment } from '@temporalio/testing';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createGitActivities } from '../../../src/activities/git/activities';
import type { GitHeartbeatDetails } from '../../../src/activities/git/heartbeat';
import { configSchema, type KaiConfig } from '../../../src/config/schema';
import { failureOf, issue, makeOrigin, sh, tempRoot } from './fixtures';
import { startHttpGitServer } from './http-git';

let root: string;
let origin: string;
let remoteUrl: string;

function config(url = remoteUrl, github: Record<string, unknown> = {}): KaiConfig {
  return configSchema.parse({
    projects: { app: { url } },
    plugins: { linear: { project_map: { 'proj-1': 'app' } } },
    github: { repository: 'acme/app', ...github },
  });
}

function worker(name: string, cfg = config()) {
  const dataDir = path.join(root, name);
  return { dataDir, acts: createGitActivities({ config: cfg, env: {}, dataDir }) };
}

beforeEach(() => {
  root = tempRoot('kai-mirror-');
  origin = makeOrigin(root);
  remoteUrl = `file://${origin}`;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('url projects', () => {
  it('keeps a bare mirror under the data directory and the worktree beside it; the push lands on the remote', async () => {
    const a = worker('worker-a');
    const ws = await a.acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(ws).toEqual({
      repoPath: path.join(a.dataDir, 'repos', 'app.git'),
      worktreePath: path.join(a.dataDir, 'worktrees', 'app', 'kai', 'AV-1'),
      branch: 'kai/AV-1',
      baseBranch: 'main',
    });
    expect(sh(ws.repoPath, 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(readFileSync(path.join(ws.worktreePath, 'README.md'), 'utf8')).toBe('# app\n');
    writeFileSync(path.join(ws.worktreePath, 'a.txt'), 'from A\n');
    const pushed = await a.acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 'A' });
    expect(pushed).toMatchObject({ changed: true, pushed: true });
    expect(sh(origin, 'rev-parse', 'refs/heads/kai/AV-1')).toBe(pushed.commitSha);
    expect(await a.acts.gitDescribe({ workspace: ws })).toEqual({ uncommittedFiles: 0, unpushedCommits: 0 });
  });

  it('a second worker with an empty data dir prepares the same branch from the remote, and the first catches up after', async () => {
    const a = worker('worker-a');
    const wsA = await a.acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    writeFileSync(path.join(wsA.worktreePath, 'a.txt'), 'from A\n');
    await a.acts.gitCommitAndPush({ issue: issue(), workspace: wsA, summary: 'A' });
    await a.acts.gitCleanup({ workspace: wsA });

    const b = worker('worker-b');
    expect(existsSync(b.dataDir)).toBe(false);
    const wsB = await b.acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(wsB.branch).toBe('kai/AV-1');
    expect(readFileSync(path.join(wsB.worktreePath, 'a.txt'), 'utf8')).toBe('from A\n');
    writeFileSync(path.join(wsB.worktreePath, 'b.txt'), 'from B\n');
    const fromB = await b.acts.gitCommitAndPush({ issue: issue(), workspace: wsB, summary: 'B' });
    expect(fromB).toMatchObject({ pushed: true });

    // Worker A still has its own (older) kai/AV-1 in its mirror: it moves forward to the remote's.
    const again = await a.acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    expect(sh(again.worktreePath, 'rev-parse', 'HEAD')).toBe(fromB.commitSha);
    expect(readFileSync(path.join(again.worktreePath, 'b.txt'), 'utf8')).toBe('from B\n');
  });

  it('rewrites the mirror config before each fetch, so a planted remote URL or URL rewrite is not followed', async () => {
    const a = worker('worker-a');
    const ws = await a.acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    await a.acts.gitCleanup({ workspace: ws });
    const evil = makeOrigin(path.join(root), 'evil');
    const realMain = sh(origin, 'rev-parse', 'main');
    expect(sh(evil, 'rev-parse', 'main')).not.toBe(realMain);
    sh(ws.repoPath, 'config', 'remote.origin.url', `file://${evil}`);
    sh(ws.repoPath, 'config', `url.file://${evil}.insteadOf`, remoteUrl);
    await a.acts.gitPrepareWorktree({ issue: issue({ identifier: 'AV-2' }), title: 'Other' });
    expect(sh(ws.repoPath, 'rev-parse', 'refs/remotes/origin/main')).toBe(realMain);
    expect(sh(ws.repoPath, 'config', '--get', 'remote.origin.url')).toBe(remoteUrl);
    expect(() => sh(ws.repoPath, 'config', '--get-regexp', '^url\\.')).toThrow();
  });

  it('two issues prepared at once on a fresh worker share one mirror without tripping over its locks', async () => {
    const a = worker('worker-a');
    const [one, two] = await Promise.all([
      a.acts.gitPrepareWorktree({ issue: issue(), title: issue().title }),
      a.acts.gitPrepareWorktree({ issue: issue({ identifier: 'AV-2' }), title: 'Other' }),
    ]);
    expect(one.repoPath).toBe(two.repoPath);
    expect([one.branch, two.branch]).toEqual(['kai/AV-1', 'kai/AV-2']);
    expect(existsSync(path.join(two.worktreePath, 'README.md'))).toBe(true);
  });

  it('heartbeats through the fetch and the worktree add', async () => {
    const env = new MockActivityEnvironment();
    const steps: string[] = [];
    env.on('heartbeat', (d: unknown) => steps.push((d as GitHeartbeatDetails).step));
    const a = worker('worker-a');
    await env.run(a.acts.gitPrepareWorktree, { issue: issue(), title: issue().title });
    expect(steps).toEqual([`git fetch ${remoteUrl}`, 'git worktree add kai/AV-1']);
  });

  it('fetches and pushes an https remote with the token, and fails permanently without it', async () => {
    const token = 'ghp_mirrorToken0123456789';
    const server = await startHttpGitServer(root, token);
    try {
      const url = server.urlOf('app');
      const denied = worker('worker-none', config(url));
      const err = await failureOf(denied.acts.gitPrepareWorktree({ issue: issue(), title: issue().title }));
      expect(err).toMatchObject({ type: 'GitAuthFailed', nonRetryable: true });
      expect(existsSync(path.join(denied.dataDir, 'repos', 'app.git'))).toBe(false); // no half mirror left
      expect(existsSync(path.join(denied.dataDir, 'repos', 'app.git.kai-partial'))).toBe(false);

      const ok = worker('worker-token', config(url, { token }));
      const ws = await ok.acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
      writeFileSync(path.join(ws.worktreePath, 'c.txt'), 'c\n');
      const pushed = await ok.acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 'C' });
      expect(sh(origin, 'rev-parse', 'refs/heads/kai/AV-1')).toBe(pushed.commitSha);
      expect(readFileSync(path.join(ws.repoPath, 'config'), 'utf8')).not.toContain(token);
    } finally {
      await server.stop();
    }
  });
});

describe('project config', () => {
  it('takes url or path, exactly one, and no token inside the URL', () => {
    expect(configSchema.safeParse({ projects: { app: { url: 'https://github.com/acme/app.git' } } }).success).toBe(true);
    const both = configSchema.safeParse({ projects: { app: { url: 'https://github.com/acme/app.git', path: '/srv/app' } } });
    expect(both.success).toBe(false);
    expect(JSON.stringify(both.error?.issues)).toContain('exactly one of them');
    expect(configSchema.safeParse({ projects: { app: {} } }).success).toBe(false);
    const secret = configSchema.safeParse({ projects: { app: { url: 'https://x-access-token:ghp_abc@github.com/acme/app.git' } } });
    expect(secret.success).toBe(false);
    expect(JSON.stringify(secret.error?.issues)).toContain('GITHUB_TOKEN');
  });
});
