import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startGitHubEmulator, type GitHubEmulator } from '../../../src/emulator/github';
import { createGitHubClient, upsertPullRequest } from '../../../src/activities/git/github';

let gh: GitHubEmulator;
beforeEach(async () => {
  gh = await startGitHubEmulator({ repos: [{ fullName: 'acme/app', defaultBranch: 'trunk' }], token: 't0k' });
});
afterEach(async () => {
  await gh.stop();
});

const call = (method: string, path: string, body?: unknown, auth = 'token t0k') =>
  fetch(`${gh.url}${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('GitHub emulator', () => {
  it('listens on loopback and serves repos, pulls create/list/get/update with GitHub status codes', async () => {
    expect(gh.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const repo = await (await call('GET', '/repos/acme/app')).json();
    expect(repo).toMatchObject({ full_name: 'acme/app', default_branch: 'trunk' });

    const created = await call('POST', '/repos/acme/app/pulls', { title: 'T', head: 'kai/AV-1', base: 'trunk', body: 'B' });
    expect(created.status).toBe(201);
    const pr = await created.json();
    expect(pr).toMatchObject({ number: 1, state: 'open', head: { ref: 'kai/AV-1', label: 'acme:kai/AV-1' }, html_url: `${gh.url}/acme/app/pull/1` });

    const dup = await call('POST', '/repos/acme/app/pulls', { title: 'T2', head: 'kai/AV-1', base: 'trunk' });
    expect(dup.status).toBe(422);
    expect(JSON.stringify(await dup.json())).toContain('A pull request already exists for acme:kai/AV-1');

    const listed = await (await call('GET', '/repos/acme/app/pulls?state=open&head=acme:kai/AV-1')).json();
    expect(listed).toHaveLength(1);
    expect(await (await call('GET', '/repos/acme/app/pulls?head=acme:other')).json()).toEqual([]);

    const patched = await (await call('PATCH', '/repos/acme/app/pulls/1', { body: 'new body', state: 'closed' })).json();
    expect(patched).toMatchObject({ body: 'new body', state: 'closed' });
    expect((await call('GET', '/repos/acme/app/pulls/9')).status).toBe(404);
  });

  it('refuses a wrong token and exposes its state and requests', async () => {
    expect((await call('GET', '/repos/acme/app', undefined, 'token nope')).status).toBe(401);
    await call('POST', '/repos/acme/app/pulls', { title: 'T', head: 'x', base: 'trunk' });
    const state = (await (await fetch(`${gh.url}/_emulator/state`)).json()) as { repos: Record<string, { pulls: unknown[] }> };
    expect(state.repos["acme/app"]!.pulls).toHaveLength(1);
    const requests = (await (await fetch(`${gh.url}/_emulator/requests`)).json()) as Array<{ method: string; path: string }>;
    expect(requests.map((r: { method: string; path: string }) => `${r.method} ${r.path}`)).toEqual(['GET /repos/acme/app', 'POST /repos/acme/app/pulls']);
    expect(JSON.stringify(requests)).not.toContain('t0k');
  });

  it('serves @octokit/rest: a PR is created once and updated after', async () => {
    const client = createGitHubClient({ token: 't0k', baseUrl: gh.url });
    const spec = { owner: 'acme', repo: 'app', branch: 'kai/AV-9', title: 'AV-9: x', body: 'one', draft: false };
    const first = await upsertPullRequest(client, spec);
    expect(first).toMatchObject({ created: true, number: 1 });
    expect(gh.state.repos['acme/app']!.pulls[0]!.base.ref).toBe('trunk'); // the repo's default branch
    const second = await upsertPullRequest(client, { ...spec, body: 'two' });
    expect(second).toMatchObject({ created: false, number: 1 });
    expect(gh.state.repos['acme/app']!.pulls).toHaveLength(1);
    expect(gh.state.repos['acme/app']!.pulls[0]!.body).toBe('two');
  });
});

describe('GitHub emulator: the refusals GitHub gives (docs/github.md)', () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

  it('answers 404 for a repository it does not hold, as GitHub does for one the token cannot see', async () => {
    const missing = await call('GET', '/repos/acme/secret');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ message: 'Not Found' });
    expect((await call('POST', '/repos/acme/secret/pulls', { title: 'T', head: 'x', base: 'main' })).status).toBe(404);
    expect(gh.state.repos['acme/secret']).toBeUndefined();
    // The standalone emulator (no repositories given) still makes them on first use.
    const open = await startGitHubEmulator();
    try {
      expect((await fetch(`${open.url}/repos/any/thing`)).status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it('reports the primary rate limit on every response and answers 403 with remaining 0 and the reset when it is used up', async () => {
    const limited = await startGitHubEmulator({ repos: ['acme/app'], rateLimit: { limit: 2 } });
    try {
      const first = await fetch(`${limited.url}/repos/acme/app`);
      expect(first.headers.get('x-ratelimit-limit')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
      await fetch(`${limited.url}/repos/acme/app`);
      const refused = await fetch(`${limited.url}/repos/acme/app`);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      expect(((await refused.json()) as { message: string }).message).toMatch(/API rate limit exceeded/);

      const resetAt = Math.floor(Date.now() / 1000) + 600;
      limited.exhaustRateLimit(resetAt);
      const again = await fetch(`${limited.url}/repos/acme/app`);
      expect(again.status).toBe(403);
      expect(again.headers.get('x-ratelimit-reset')).toBe(String(resetAt));
    } finally {
      await limited.stop();
    }
  });

  it('answers a secondary rate limit with retry-after, then serves again', async () => {
    gh.secondaryLimit({ retryAfterS: 42, status: 429 });
    const refused = await call('GET', '/repos/acme/app');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('42');
    expect(((await refused.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    expect((await call('GET', '/repos/acme/app')).status).toBe(200);
  });

  it('lets a read-only token read but not open pull requests (403, not a rate limit)', async () => {
    const ro = await startGitHubEmulator({ repos: ['acme/app'], token: 'rw', readOnlyTokens: ['ro'] });
    try {
      const h = { authorization: 'token ro', 'content-type': 'application/json' };
      expect((await fetch(`${ro.url}/repos/acme/app`, { headers: h })).status).toBe(200);
      const refused = await fetch(`${ro.url}/repos/acme/app/pulls`, { method: 'POST', headers: h, body: JSON.stringify({ title: 'T', head: 'x', base: 'main' }) });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-ratelimit-remaining')).not.toBe('0');
      expect(((await refused.json()) as { message: string }).message).toMatch(/Resource not accessible/);
    } finally {
      await ro.stop();
    }
  });

  it('checks pull request heads and bases against the pushed branches (422 as GitHub words it)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'kai-ghemu-'));
    const bare = path.join(root, 'app.git');
    const work = path.join(root, 'work');
    execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['init', '--quiet', '-b', 'main', work]);
    writeFileSync(path.join(work, 'a'), '1');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'one');
    git(work, 'push', '--quiet', bare, 'main', 'main:refs/heads/same');
    git(work, 'checkout', '--quiet', '-b', 'feature');
    writeFileSync(path.join(work, 'b'), '2');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'two');
    git(work, 'push', '--quiet', bare, 'feature');
    const checked = await startGitHubEmulator({ repos: ['acme/app'], gitDir: bare });
    try {
      const post = (body: unknown) => fetch(`${checked.url}/repos/acme/app/pulls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const noHead = await post({ title: 'T', head: 'nope', base: 'main' });
      expect(noHead.status).toBe(422);
      expect(await noHead.json()).toMatchObject({ message: 'Validation Failed', errors: [{ field: 'head', code: 'invalid' }] });
      const noBase = await post({ title: 'T', head: 'feature', base: 'nope' });
      expect(await noBase.json()).toMatchObject({ errors: [{ field: 'base', code: 'invalid' }] });
      const nothing = await post({ title: 'T', head: 'same', base: 'main' });
      expect(nothing.status).toBe(422);
      expect(JSON.stringify(await nothing.json())).toContain('No commits between main and same');
      expect((await post({ title: 'T', head: 'feature', base: 'main' })).status).toBe(201);
    } finally {
      await checked.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
