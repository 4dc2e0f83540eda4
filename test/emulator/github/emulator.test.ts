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
