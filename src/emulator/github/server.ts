// A loopback GitHub REST emulator for tests and the offline demo: the endpoints kai's git
// activities use (repos get, pulls list/get/create/update), with GitHub's status codes, error
// bodies and rate-limit headers as docs/github.md describes them.
import express, { type NextFunction, type Request, type Response } from 'express';
import { execFile } from 'node:child_process';
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
  /** Tokens that may read but not write (a fine-grained token without pull-request write). */
  readOnlyTokens?: string[];
  /** Unknown repositories answer 404 as on GitHub; true makes them on first use instead.
   *  Default: true when no `repos` are given (the standalone emulator), else false. */
  createReposOnUse?: boolean;
  /** Primary rate limit: requests per window (GitHub: 5,000 an hour for a user token). */
  rateLimit?: { limit: number; windowS?: number };
  /** A bare repository that stands for the GitHub remote: PR heads and bases are checked
   *  against its branches, as GitHub checks them against the pushed ones. */
  gitDir?: string;
}

export interface SecondaryLimitFault {
  /** Seconds GitHub asks for in `retry-after`. */
  retryAfterS: number;
  /** How many requests are refused (default 1). */
  times?: number;
  /** 403 (default) or 429: GitHub sends either. */
  status?: 403 | 429;
}

export interface GitHubEmulator {
  url: string;
  state: GitHubEmulatorState;
  requests: RecordedRequest[];
  /** Uses up the primary rate limit until `resetAtS` (epoch seconds). */
  exhaustRateLimit(resetAtS: number): void;
  /** The next requests hit a secondary rate limit. */
  secondaryLimit(fault: SecondaryLimitFault): void;
  stop(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

export async function startGitHubEmulator(opts: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const state: GitHubEmulatorState = { repos: {}, nextId: 1 };
  const requests: RecordedRequest[] = [];
  let url = '';
  const html = () => (opts.htmlBase ?? url).replace(/\/+$/, '');
  const createOnUse = opts.createReposOnUse ?? opts.repos === undefined;

  const addRepo = (owner: string, name: string, defaultBranch = 'main'): EmulatedRepo => {
    const key = `${owner}/${name}`.toLowerCase();
    state.repos[key] ??= { owner, name, default_branch: defaultBranch, private: false, pulls: [] };
    return state.repos[key]!;
  };
  /** The repository, or undefined after answering 404 as GitHub does (also for no access). */
  const repoOf = (req: Request, res: Response): EmulatedRepo | undefined => {
    const owner = param(req, 'owner');
    const name = param(req, 'repo');
    const found = state.repos[`${owner}/${name}`.toLowerCase()];
    if (found) return found;
    if (createOnUse) return addRepo(owner, name);
    res.status(404).json({ message: 'Not Found', documentation_url: `${DOCS}/repos/repos#get-a-repository`, status: '404' });
    return undefined;
  };
  for (const r of opts.repos ?? []) {
    const fullName = typeof r === 'string' ? r : r.fullName;
    const [owner, name] = fullName.split('/');
    addRepo(owner!, name!, typeof r === 'string' ? 'main' : r.defaultBranch);
  }

  // Primary rate limit: a window of `limit` requests, reported on every response.
  const windowS = opts.rateLimit?.windowS ?? 3600;
  const limit = opts.rateLimit?.limit ?? 5000;
  let used = 0;
  let resetAtS = Math.floor(Date.now() / 1000) + windowS;
  let exhaustedUntilS: number | undefined;
  let secondary: Required<SecondaryLimitFault> | undefined;

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
    const token = /^(?:token|Bearer) (.+)$/.exec(auth ?? '')?.[1];
    if (opts.token && token !== opts.token && !opts.readOnlyTokens?.includes(token ?? '')) {
      res.status(401).json({ message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      return;
    }
    if (secondary) {
      const fault = secondary;
      if (--fault.times <= 0) secondary = undefined;
      res.setHeader('retry-after', String(fault.retryAfterS));
      res.status(fault.status).json({
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        status: String(fault.status),
      });
      return;
    }
    const nowS = Math.floor(Date.now() / 1000);
    if (exhaustedUntilS !== undefined && nowS >= exhaustedUntilS) exhaustedUntilS = undefined;
    if (nowS >= resetAtS) {
      used = 0;
      resetAtS = nowS + windowS;
    }
    const exhausted = exhaustedUntilS !== undefined || used >= limit;
    if (!exhausted) used++;
    res.setHeader('x-ratelimit-limit', String(limit));
    res.setHeader('x-ratelimit-remaining', String(exhausted ? 0 : limit - used));
    res.setHeader('x-ratelimit-used', String(exhausted ? limit : used));
    res.setHeader('x-ratelimit-reset', String(exhaustedUntilS ?? resetAtS));
    res.setHeader('x-ratelimit-resource', 'core');
    if (exhausted) {
      res.status(403).json({
        message: 'API rate limit exceeded for user ID 1.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits',
        status: '403',
      });
      return;
    }
    if (req.method !== 'GET' && token && opts.readOnlyTokens?.includes(token)) {
      res.status(403).json({ message: 'Resource not accessible by personal access token', documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`, status: '403' });
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
    const r = repoOf(req, res);
    if (r) res.json(repoJson(r));
  });

  app.get('/repos/:owner/:repo/pulls', (req, res) => {
    const r = repoOf(req, res);
    if (!r) return;
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
    const r = repoOf(req, res);
    if (!r) return;
    const p = r.pulls.find((x) => x.number === Number(param(req, 'number')));
    if (!p) return void res.status(404).json({ message: 'Not Found' });
    res.json(pullJson(r, p));
  });

  app.post('/repos/:owner/:repo/pulls', async (req, res) => {
    const r = repoOf(req, res);
    if (!r) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const title = typeof body.title === 'string' ? body.title : '';
    const headRaw = typeof body.head === 'string' ? body.head : '';
    const base = typeof body.base === 'string' ? body.base : '';
    const invalid = (errors: unknown[]) =>
      void res.status(422).json({ message: 'Validation Failed', errors, documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`, status: '422' });
    if (!title || !headRaw || !base) return invalid([{ resource: 'PullRequest', code: 'missing_field' }]);
    const ref = headRaw.includes(':') ? headRaw.split(':')[1]! : headRaw;
    const label = headRaw.includes(':') ? headRaw : `${r.owner}:${headRaw}`;
    if (r.pulls.some((p) => p.state === 'open' && p.head.label === label && p.base.ref === base)) {
      return invalid([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${label}.` }]);
    }
    if (opts.gitDir) {
      const headSha = await revParse(opts.gitDir, ref);
      const baseSha = await revParse(opts.gitDir, base);
      if (!baseSha) return invalid([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      if (!headSha) return invalid([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      if ((await gitText(opts.gitDir, ['rev-list', '--count', `${baseSha}..${headSha}`])) === '0')
        return invalid([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${ref}` }]);
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
    const r = repoOf(req, res);
    if (!r) return;
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
    exhaustRateLimit(until: number) {
      exhaustedUntilS = until;
    },
    secondaryLimit(fault: SecondaryLimitFault) {
      secondary = { retryAfterS: fault.retryAfterS, times: fault.times ?? 1, status: fault.status ?? 403 };
    },
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

function gitText(gitDir: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8' }, (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

function revParse(gitDir: string, branch: string): Promise<string | undefined> {
  return gitText(gitDir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
