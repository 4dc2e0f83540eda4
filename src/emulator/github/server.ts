// A loopback GitHub REST emulator for tests and the offline demo: the endpoints kai's git
// activities use (repos get, pulls list/get/create/update), with GitHub's status codes.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface EmulatedPull {
  id: number;
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  draft: boolean;
  merged: boolean;
  head: { ref: string; label: string; sha?: string };
  base: { ref: string; label: string };
  html_url: string;
  url: string;
  created_at: string;
  updated_at: string;
}

export interface EmulatedRepo {
  owner: string;
  name: string;
  default_branch: string;
  private: boolean;
  pulls: EmulatedPull[];
}

export interface GitHubEmulatorState {
  repos: Record<string, EmulatedRepo>;
  nextId: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  authenticated: boolean;
  at: string;
}

export interface GitHubEmulatorOptions {
  port?: number;
  /** Repositories to start with, as "owner/name" (default branch main). Others are made on first use. */
  repos?: Array<string | { fullName: string; defaultBranch?: string }>;
  /** When set, requests must carry this token. */
  token?: string;
  /** Public URL base used for html_url (defaults to the emulator URL). */
  htmlBase?: string;
}

export interface GitHubEmulator {
  url: string;
  state: GitHubEmulatorState;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export async function startGitHubEmulator(opts: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const state: GitHubEmulatorState = { repos: {}, nextId: 1 };
  const requests: RecordedRequest[] = [];
  let url = '';
  const html = () => (opts.htmlBase ?? url).replace(/\/+$/, '');

  const ensureRepo = (owner: string, name: string, defaultBranch = 'main'): EmulatedRepo => {
    const key = `${owner}/${name}`.toLowerCase();
    state.repos[key] ??= { owner, name, default_branch: defaultBranch, private: false, pulls: [] };
    return state.repos[key]!;
  };
  for (const r of opts.repos ?? []) {
    const fullName = typeof r === 'string' ? r : r.fullName;
    const [owner, name] = fullName.split('/');
    ensureRepo(owner!, name!, typeof r === 'string' ? 'main' : r.defaultBranch);
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '5mb' }));

  app.get('/_emulator/state', (_req, res) => {
    res.json(state);
  });
  app.get('/_emulator/requests', (_req, res) => {
    res.json(requests);
  });
  app.post('/_emulator/reset', (_req, res) => {
    state.repos = {};
    requests.length = 0;
    res.status(204).end();
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const auth = req.headers.authorization;
    requests.push({
      method: req.method,
      path: req.path,
      query: { ...req.query },
      body: req.body,
      authenticated: Boolean(auth),
      at: new Date().toISOString(),
    });
    if (opts.token && auth !== `token ${opts.token}` && auth !== `Bearer ${opts.token}`) {
      res.status(401).json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    next();
  });

  const repoJson = (r: EmulatedRepo) => ({
    id: Math.abs(hash(`${r.owner}/${r.name}`)),
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    owner: { login: r.owner },
    private: r.private,
    default_branch: r.default_branch,
    html_url: `${html()}/${r.owner}/${r.name}`,
  });
  const pullJson = (r: EmulatedRepo, p: EmulatedPull) => ({ ...p, base: { ...p.base, repo: repoJson(r) } });

  // The authenticated user, as `kai doctor` asks for it to prove a token works.
  app.get('/user', (_req, res) => {
    res.setHeader('x-oauth-scopes', 'repo');
    res.json({ login: 'kai-emulator', id: 1, type: 'User' });
  });

  app.get('/repos/:owner/:repo', (req, res) => {
    res.json(repoJson(ensureRepo(param(req, 'owner'), param(req, 'repo'))));
  });

  app.get('/repos/:owner/:repo/pulls', (req, res) => {
    const r = ensureRepo(param(req, 'owner'), param(req, 'repo'));
    const stateFilter = String(req.query.state ?? 'open');
    const head = req.query.head ? String(req.query.head) : undefined;
    const base = req.query.base ? String(req.query.base) : undefined;
    const list = r.pulls.filter(
      (p) =>
        (stateFilter === 'all' || p.state === stateFilter) &&
        (!head || p.head.label === head || (!head.includes(':') && p.head.ref === head)) &&
        (!base || p.base.ref === base),
    );
    res.json(list.map((p) => pullJson(r, p)));
  });

  app.get('/repos/:owner/:repo/pulls/:number', (req, res) => {
    const r = ensureRepo(param(req, 'owner'), param(req, 'repo'));
    const p = r.pulls.find((x) => x.number === Number(param(req, 'number')));
    if (!p) return void res.status(404).json({ message: 'Not Found' });
    res.json(pullJson(r, p));
  });

  app.post('/repos/:owner/:repo/pulls', (req, res) => {
    const r = ensureRepo(param(req, 'owner'), param(req, 'repo'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const title = typeof body.title === 'string' ? body.title : '';
    const headRaw = typeof body.head === 'string' ? body.head : '';
    const base = typeof body.base === 'string' ? body.base : '';
    if (!title || !headRaw || !base) {
      return void res.status(422).json({ message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'missing_field' }] });
    }
    const ref = headRaw.includes(':') ? headRaw.split(':')[1]! : headRaw;
    const label = headRaw.includes(':') ? headRaw : `${r.owner}:${headRaw}`;
    if (r.pulls.some((p) => p.state === 'open' && p.head.label === label && p.base.ref === base)) {
      return void res.status(422).json({
        message: 'Validation Failed',
        errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${label}.` }],
      });
    }
    const number = r.pulls.length + 1;
    const now = new Date().toISOString();
    const pull: EmulatedPull = {
      id: state.nextId++,
      number,
      state: 'open',
      title,
      body: typeof body.body === 'string' ? body.body : null,
      draft: body.draft === true,
      merged: false,
      head: { ref, label },
      base: { ref: base, label: `${r.owner}:${base}` },
      html_url: `${html()}/${r.owner}/${r.name}/pull/${number}`,
      url: `${url}/repos/${r.owner}/${r.name}/pulls/${number}`,
      created_at: now,
      updated_at: now,
    };
    r.pulls.push(pull);
    res.status(201).json(pullJson(r, pull));
  });

  app.patch('/repos/:owner/:repo/pulls/:number', (req, res) => {
    const r = ensureRepo(param(req, 'owner'), param(req, 'repo'));
    const p = r.pulls.find((x) => x.number === Number(param(req, 'number')));
    if (!p) return void res.status(404).json({ message: 'Not Found' });
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.title === 'string') p.title = body.title;
    if (typeof body.body === 'string') p.body = body.body;
    if (body.state === 'open' || body.state === 'closed') p.state = body.state;
    if (typeof body.base === 'string') p.base = { ref: body.base, label: `${r.owner}:${body.base}` };
    p.updated_at = new Date().toISOString();
    res.json(pullJson(r, p));
  });

  app.use((req, res) => {
    res.status(404).json({ message: `Not Found (the GitHub emulator does not serve ${req.method} ${req.path})` });
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address() as AddressInfo;
  url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    state,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
