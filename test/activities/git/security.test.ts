// kai's pushes carry the token only to the remote: nothing an engine can plant in the worktree
// or the repository's config (hooks, hooksPath, fsmonitor, credential helpers, signing program,
// filters) sees it. And kai works on its own branches only.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { createGitActivities } from '../../../src/activities/git/activities';
import { configSchema, type KaiConfig } from '../../../src/config/schema';
import { startGitHubEmulator, type GitHubEmulator } from '../../../src/emulator/github';
import { failureOf, issue, makeCheckout, makeOrigin, sh, tempRoot } from './fixtures';
import { startHttpGitServer, type HttpGitServer } from './http-git';

const TOKEN = 'ghp_kaiTestSecretToken0123456789';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

let root: string;
let origin: string;
let repo: string;
let server: HttpGitServer;
let gh: GitHubEmulator;
let savedToken: string | undefined;

function config(over: { token?: string; github?: Record<string, unknown>; worktreeBase?: string } = {}): KaiConfig {
  return configSchema.parse({
    projects: { app: { path: repo, ...(over.worktreeBase ? { worktree_base: over.worktreeBase } : {}) } },
    plugins: { linear: { project_map: { 'proj-1': 'app' } } },
    github: { api_url: gh.url, repository: 'acme/app', ...(over.token === undefined ? {} : { token: over.token }), ...over.github },
  });
}

beforeAll(async () => {
  gh = await startGitHubEmulator({ repos: ['acme/app'] });
});
afterAll(async () => {
  await gh.stop();
});
beforeEach(async () => {
  root = tempRoot('kai-gitsec-');
  origin = makeOrigin(root);
  repo = makeCheckout(root, origin);
  server = await startHttpGitServer(root, TOKEN);
  sh(repo, 'remote', 'set-url', 'origin', server.urlOf('app'));
  // As in production: the worker's own environment holds the token.
  savedToken = process.env.GITHUB_TOKEN;
  process.env.GITHUB_TOKEN = TOKEN;
});
afterEach(async () => {
  if (savedToken === undefined) delete process.env.GITHUB_TOKEN;
  else process.env.GITHUB_TOKEN = savedToken;
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Everything an engine in the worktree could plant to catch a credential, all writing to `leak`. */
function plant(worktree: string, leak: string): void {
  const common = path.resolve(worktree, sh(worktree, 'rev-parse', '--git-common-dir'));
  const spy = path.join(root, 'spy.sh');
  writeFileSync(spy, `#!/bin/sh\n{ echo "== $0 $*"; env; } >> '${leak}'\ncase "$1" in get|store|erase) cat >> '${leak}';; esac\nexit 0\n`);
  chmodSync(spy, 0o755);
  const filter = path.join(root, 'filter.sh');
  writeFileSync(filter, `#!/bin/sh\nenv >> '${leak}'\ncat\n`);
  chmodSync(filter, 0o755);
  const hookDirs = [path.join(common, 'hooks'), path.join(root, 'planted-hooks')];
  for (const dir of hookDirs) {
    mkdirSync(dir, { recursive: true });
    for (const hook of ['pre-push', 'pre-commit', 'post-commit', 'reference-transaction', 'post-checkout', 'push-to-checkout']) {
      writeFileSync(path.join(dir, hook), `#!/bin/sh\nexec '${spy}' "$@"\n`);
      chmodSync(path.join(dir, hook), 0o755);
    }
  }
  const set = (key: string, value: string) => sh(worktree, 'config', '--local', '--add', key, value);
  set('core.hooksPath', path.join(root, 'planted-hooks'));
  set('core.fsmonitor', spy);
  set('credential.helper', `!'${spy}'`);
  set(`credential.${server.urlOf('app')}.helper`, `!'${spy}'`);
  set('commit.gpgSign', 'true');
  set('gpg.program', spy);
  set('filter.leak.clean', filter);
  set('filter.leak.required', 'true');
  writeFileSync(path.join(worktree, '.gitattributes'), '*.ts filter=leak\n');
}

describe('a push exposes the token to nothing planted in the repository', () => {
  it('pushes with the token, and no planted hook, fsmonitor, helper, signer or filter receives it', async () => {
    const acts = createGitActivities({ config: config() }); // token from the worker's GITHUB_TOKEN
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    const leak = path.join(root, 'leak.txt');
    plant(ws.worktreePath, leak);
    writeFileSync(path.join(ws.worktreePath, 'auth.ts'), 'export const jwt = 1;\n');

    const result = await acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 'Added the middleware.' });
    expect(result).toMatchObject({ changed: true, pushed: true });
    expect(sh(origin, 'rev-parse', 'refs/heads/kai/AV-1')).toBe(result.commitSha);
    expect(server.authorizations).toContain(`Basic ${BASIC}`); // the remote got the token
    const leaked = existsSync(leak) ? readFileSync(leak, 'utf8') : '';
    expect(leaked).toContain('PATH='); // the planted clean filter did run in kai's `git add`, with kai's environment
    expect(leaked).not.toContain(TOKEN);
    expect(leaked).not.toContain(BASIC);

    // Control: the same plants catch the token from a plain `git push` run with the worker's
    // environment, as kai pushed before, so the assertions above can fail.
    writeFileSync(path.join(ws.worktreePath, 'more.ts'), 'x\n');
    sh(ws.worktreePath, 'add', '.');
    // (async: the git server runs in this process)
    const run = promisify(execFile);
    try {
      await run('git', ['-c', 'commit.gpgSign=false', 'commit', '--quiet', '--no-verify', '-m', 'control'], { cwd: ws.worktreePath, env: process.env });
      await run('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/control'], { cwd: ws.worktreePath, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    } catch {
      /* the planted helper answers nothing: the push may be refused; the hooks ran already */
    }
    expect(readFileSync(leak, 'utf8')).toContain(TOKEN);
  });

  it('a wrong token is a permanent authentication failure that names the setting and not the token', async () => {
    process.env.GITHUB_TOKEN = 'ghp_wrongWrongWrong';
    const acts = createGitActivities({ config: config() });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    writeFileSync(path.join(ws.worktreePath, 'a.txt'), 'a\n');
    const err = await failureOf(acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' }));
    expect(err).toMatchObject({ type: 'GitAuthFailed', nonRetryable: true });
    expect(err.message).toMatch(/GITHUB_TOKEN/);
    expect(err.message).not.toContain('ghp_wrongWrongWrong');
    expect(() => sh(origin, 'rev-parse', '--verify', '--quiet', 'refs/heads/kai/AV-1')).toThrow();
  });

  it('no token for a remote that wants one is a permanent authentication failure too', async () => {
    delete process.env.GITHUB_TOKEN;
    const acts = createGitActivities({ config: config(), env: {} });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: issue().title });
    writeFileSync(path.join(ws.worktreePath, 'a.txt'), 'a\n');
    const err = await failureOf(acts.gitCommitAndPush({ issue: issue(), workspace: ws, summary: 's' }));
    expect(err).toMatchObject({ type: 'GitAuthFailed', nonRetryable: true });
  });
});

describe('kai works on its own branches only', () => {
  it.each([
    ['@main Fix the login', 'it is the base branch'],
    ['@MASTER Fix the login', '"master"'],
    ['@release/1.2 Hotfix', '"release/*"'],
    ['@develop Fix', '"develop"'],
  ])('refuses the title %s with a permanent message, and creates no branch', async (title, why) => {
    const acts = createGitActivities({ config: config({ token: TOKEN }) });
    const err = await failureOf(acts.gitPrepareWorktree({ issue: issue(), title }));
    expect(err).toMatchObject({ type: 'ProtectedBranch', nonRetryable: true });
    expect(err.message).toContain(why);
    expect(err.message).toMatch(/Remove @\S+ from the start of the issue title/);
    expect(sh(repo, 'branch', '--list').split('\n')).toEqual(['* main']);
  });

  it('refuses the configured base branch and github.protected_branches entries, and allows the rest', async () => {
    sh(repo, 'branch', 'staging');
    const acts = createGitActivities({ config: config({ token: TOKEN, worktreeBase: 'staging', github: { protected_branches: ['prod-*'] } }) });
    expect(await failureOf(acts.gitPrepareWorktree({ issue: issue(), title: '@staging T' }))).toMatchObject({ type: 'ProtectedBranch' });
    expect((await failureOf(acts.gitPrepareWorktree({ issue: issue(), title: '@prod-eu T' }))).message).toContain('"prod-*"');
    // With its own list, main is still refused as the remote's default branch.
    expect(await failureOf(acts.gitPrepareWorktree({ issue: issue(), title: '@main T' }))).toMatchObject({ type: 'ProtectedBranch' });
    const ws = await acts.gitPrepareWorktree({ issue: issue(), title: '@feat/login T' });
    expect(ws.branch).toBe('feat/login');
  });

  it('refuses to commit or push on a protected branch a workspace from an earlier version still names', async () => {
    const acts = createGitActivities({ config: config({ token: TOKEN }) });
    const before = sh(origin, 'rev-parse', 'refs/heads/main');
    writeFileSync(path.join(repo, 'direct.txt'), 'x\n');
    const err = await failureOf(
      acts.gitCommitAndPush({ issue: issue(), workspace: { repoPath: repo, worktreePath: repo, branch: 'main', baseBranch: 'main' }, summary: 's' }),
    );
    expect(err).toMatchObject({ type: 'ProtectedBranch', nonRetryable: true });
    expect(sh(origin, 'rev-parse', 'refs/heads/main')).toBe(before);
    expect(sh(repo, 'rev-list', '--count', 'main')).toBe('1');
  });
});
