// Linear credentials. Three sources, in this order:
//   1. a static OAuth token (LINEAR_OAUTH_TOKEN or transports.linear.oauth_token);
//   2. tokens stored by `kai auth linear` (access + rotating refresh token, file mode 0600);
//   3. the app's client credentials (linear.client_id / client_secret, client_credentials grant).
// Sources 2 and 3 renew the access token before it expires, inside the running process, so a
// session never meets an expired token and nothing needs a restart; when Linear refuses a token
// anyway, the Linear gateway calls `invalidate()` and the next call renews. A static token can
// do neither: `staticTokenWarning()` says so for `kai doctor`.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { KaiConfig } from './schema';

/** What kai asks Linear for: act as the app, be delegated issues and be @-mentioned. */
export const LINEAR_SCOPES = ['read', 'write', 'app:assignable', 'app:mentionable'] as const;
export const CALLBACK_PATH = '/oauth/callback';

export type FetchLike = typeof fetch;

export interface LinearTokenProvider {
  readonly kind: 'static' | 'stored' | 'client_credentials';
  /** A token valid for at least the refresh margin; renews first when it would not be. */
  accessToken(): Promise<string>;
  /** After Linear answered 401: forget the cached token so the next call renews it. */
  invalidate(): void;
  /** When the current token expires (ms since epoch), if known. */
  expiresAt(): number | undefined;
}

export class LinearAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinearAuthError';
  }
}

const storedTokensSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().optional(),
  /** ms since epoch */
  expires_at: z.number().optional(),
  scope: z.string().optional(),
  token_type: z.string().optional(),
});
export type StoredLinearTokens = z.infer<typeof storedTokensSchema>;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  scope: z.union([z.string(), z.array(z.string())]).optional(),
});
type TokenResponse = z.infer<typeof tokenResponseSchema>;

export function defaultTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'kai', 'linear-token.json');
}

export function tokenFilePath(config: KaiConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.linear.token_file ?? defaultTokenFile(env);
}

export function readTokenFile(path: string): StoredLinearTokens | undefined {
  if (!existsSync(path)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new LinearAuthError(`${path} is not valid JSON. Run \`kai auth linear\` again to replace it.`);
  }
  const parsed = storedTokensSchema.safeParse(data);
  if (!parsed.success) throw new LinearAuthError(`${path} does not hold Linear tokens (no access_token). Run \`kai auth linear\` again.`);
  return parsed.data;
}

/** Writes atomically (temp file + rename) with mode 0600, the directory 0700. */
export function writeTokenFile(path: string, tokens: StoredLinearTokens): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function toStored(res: TokenResponse, now: number, previous?: StoredLinearTokens): StoredLinearTokens {
  return {
    access_token: res.access_token,
    // Linear rotates refresh tokens; keep the old one only if the server sent none.
    refresh_token: res.refresh_token ?? previous?.refresh_token,
    expires_at: res.expires_in !== undefined ? now + res.expires_in * 1000 : undefined,
    scope: Array.isArray(res.scope) ? res.scope.join(',') : (res.scope ?? previous?.scope),
    token_type: res.token_type,
  };
}

/** POSTs a form to the OAuth token endpoint. Errors carry the status and OAuth error code,
 *  never the request body (it holds secrets). */
export async function requestToken(tokenUrl: string, params: Record<string, string>, fetchImpl: FetchLike = fetch): Promise<TokenResponse> {
  let res: Response;
  try {
    res = await fetchImpl(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
    });
  } catch (err) {
    throw new LinearAuthError(`Could not reach Linear's token endpoint ${tokenUrl}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: unknown; error_description?: unknown };
    const code = typeof b.error === 'string' ? b.error : 'unknown_error';
    const desc = typeof b.error_description === 'string' ? `: ${b.error_description.slice(0, 200)}` : '';
    const fix =
      code === 'invalid_grant'
        ? ' The refresh token or code is no longer valid: run `kai auth linear` again.'
        : code === 'invalid_client'
          ? ' Check linear.client_id and LINEAR_CLIENT_SECRET.'
          : '';
    throw new LinearAuthError(`Linear's token endpoint answered ${res.status} (${code}${desc}) for grant ${params.grant_type}.${fix}`);
  }
  const parsed = tokenResponseSchema.safeParse(body);
  if (!parsed.success) throw new LinearAuthError(`Linear's token endpoint answered ${res.status} without an access_token.`);
  return parsed.data;
}

export class StaticTokenProvider implements LinearTokenProvider {
  readonly kind = 'static' as const;
  constructor(private readonly token: string) {}
  async accessToken(): Promise<string> {
    return this.token;
  }
  invalidate(): void {}
  expiresAt(): number | undefined {
    return undefined;
  }
}

export interface RenewingProviderOptions {
  tokenUrl: string;
  clientId?: string;
  clientSecret?: string;
  /** Renew this long before expiry. */
  refreshMarginMs: number;
  fetch?: FetchLike;
  now?: () => number;
  onRenew?: (info: { expiresAt: number | undefined }) => void;
}

/** Renews through a grant: `stored` (refresh_token grant; persists rotated tokens to the file)
 *  or `client_credentials`. One renewal at a time; callers during it share its result. */
export class RenewingTokenProvider implements LinearTokenProvider {
  private current: StoredLinearTokens | undefined;
  private inflight: Promise<StoredLinearTokens> | undefined;
  private readonly now: () => number;

  constructor(
    readonly kind: 'stored' | 'client_credentials',
    private readonly opts: RenewingProviderOptions & { tokenFile?: string },
  ) {
    this.now = opts.now ?? Date.now;
    if (kind === 'stored') {
      if (!opts.tokenFile) throw new LinearAuthError('A stored-token provider needs a token file.');
      this.current = readTokenFile(opts.tokenFile);
      if (!this.current) throw new LinearAuthError(`No Linear tokens in ${opts.tokenFile}. Run \`kai auth linear\`.`);
    }
  }

  expiresAt(): number | undefined {
    return this.current?.expires_at;
  }

  invalidate(): void {
    if (this.current) this.current = { ...this.current, expires_at: 0 };
  }

  private fresh(t: StoredLinearTokens | undefined): t is StoredLinearTokens {
    if (!t) return false;
    if (t.expires_at === undefined) return true;
    return this.now() < t.expires_at - this.opts.refreshMarginMs;
  }

  async accessToken(): Promise<string> {
    if (this.fresh(this.current)) return this.current.access_token;
    if (!this.inflight) {
      this.inflight = this.renew().finally(() => {
        this.inflight = undefined;
      });
    }
    try {
      this.current = await this.inflight;
    } catch (err) {
      // A token that has not expired yet is still usable; the next call tries again.
      const c = this.current;
      if (c && c.expires_at !== undefined && this.now() < c.expires_at) return c.access_token;
      throw err;
    }
    return this.current.access_token;
  }

  private async renew(): Promise<StoredLinearTokens> {
    const { opts } = this;
    let next: StoredLinearTokens;
    if (this.kind === 'client_credentials') {
      const res = await requestToken(
        opts.tokenUrl,
        {
          grant_type: 'client_credentials',
          client_id: opts.clientId ?? '',
          client_secret: opts.clientSecret ?? '',
          scope: LINEAR_SCOPES.join(','),
        },
        opts.fetch,
      );
      next = toStored(res, this.now());
    } else {
      // Another process sharing the file may have renewed already (refresh tokens rotate,
      // so using the old one would fail): prefer what is on disk when it is fresher.
      const onDisk = readTokenFile(opts.tokenFile!);
      if (onDisk && onDisk.access_token !== this.current?.access_token && this.fresh(onDisk)) return onDisk;
      const base = onDisk ?? this.current;
      if (!base?.refresh_token) {
        throw new LinearAuthError(`The Linear token in ${opts.tokenFile} expired and there is no refresh token. Run \`kai auth linear\` again.`);
      }
      const params: Record<string, string> = { grant_type: 'refresh_token', refresh_token: base.refresh_token };
      if (opts.clientId) params.client_id = opts.clientId;
      if (opts.clientSecret) params.client_secret = opts.clientSecret;
      const res = await requestToken(opts.tokenUrl, params, opts.fetch);
      next = toStored(res, this.now(), base);
      writeTokenFile(opts.tokenFile!, next);
    }
    opts.onRenew?.({ expiresAt: next.expires_at });
    return next;
  }
}

export interface TokenProviderOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: FetchLike;
  now?: () => number;
  onRenew?: (info: { kind: string; expiresAt: number | undefined }) => void;
}

/** Chooses the credential source from the configuration (see the top of this file). */
export function createLinearTokenProvider(config: KaiConfig, opts: TokenProviderOptions = {}): LinearTokenProvider {
  const token = config.transports.linear.oauth_token;
  if (token) return new StaticTokenProvider(token);
  const common: RenewingProviderOptions = {
    tokenUrl: config.linear.token_url,
    clientId: config.linear.client_id,
    clientSecret: config.linear.client_secret,
    refreshMarginMs: config.linear.refresh_margin_s * 1000,
    fetch: opts.fetch,
    now: opts.now,
  };
  const file = tokenFilePath(config, opts.env);
  if (existsSync(file)) {
    return new RenewingTokenProvider('stored', {
      ...common,
      tokenFile: file,
      onRenew: (i) => opts.onRenew?.({ kind: 'stored', ...i }),
    });
  }
  if (config.linear.client_id && config.linear.client_secret) {
    return new RenewingTokenProvider('client_credentials', { ...common, onRenew: (i) => opts.onRenew?.({ kind: 'client_credentials', ...i }) });
  }
  throw new LinearAuthError(
    'No Linear credentials. Set LINEAR_OAUTH_TOKEN (or transports.linear.oauth_token), or run `kai auth linear`, ' +
      'or set linear.client_id and LINEAR_CLIENT_SECRET for the client-credentials grant.',
  );
}

/** The token provider, or why there is none (LinearAuthError's message): a process without
 *  Linear credentials still starts, and what needs Linear says this reason instead. */
export function linearTokensIfConfigured(
  config: KaiConfig,
  opts: TokenProviderOptions = {},
): { tokens: LinearTokenProvider; missing?: undefined } | { tokens?: undefined; missing: string } {
  try {
    return { tokens: createLinearTokenProvider(config, opts) };
  } catch (err) {
    if (!(err instanceof LinearAuthError)) throw err;
    return { missing: err.message };
  }
}

/** A warning for `kai doctor` when kai would use a static token (which nothing can renew), else
 *  undefined. Mentions where the token comes from, never the token. */
export function staticTokenWarning(config: KaiConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!config.transports.linear.oauth_token) return undefined;
  const from = env.LINEAR_OAUTH_TOKEN ? 'LINEAR_OAUTH_TOKEN' : 'transports.linear.oauth_token';
  return (
    `kai uses a static Linear token (${from}). It cannot be renewed: once Linear expires or revokes it, every Linear call fails until it is replaced. ` +
    'For a server or cluster, use the client-credentials grant (set linear.client_id and LINEAR_CLIENT_SECRET and remove the static token); ' +
    'on a workstation, run `kai auth linear`, which stores a refresh token.'
  );
}

// ---------------------------------------------------------------------------------------------
// `kai auth linear`: the authorization-code flow with a localhost callback.

export function buildAuthorizeUrl(opts: { authorizeUrl: string; clientId: string; redirectUri: string; state: string }): string {
  const url = new URL(opts.authorizeUrl);
  url.searchParams.set('client_id', opts.clientId);
  url.searchParams.set('redirect_uri', opts.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', LINEAR_SCOPES.join(','));
  url.searchParams.set('actor', 'app');
  url.searchParams.set('state', opts.state);
  url.searchParams.set('prompt', 'consent');
  return url.toString();
}

export interface AuthorizeOptions {
  config: KaiConfig;
  /** Tells the user what to do (the URL to open, where tokens went). */
  print: (line: string) => void;
  /** Opens the URL in a browser, when the CLI can. */
  openBrowser?: (url: string) => void | Promise<void>;
  /** Called once the callback server listens, with the URL to visit (tests act as the browser). */
  onAuthorizeUrl?: (url: string) => void;
  env?: NodeJS.ProcessEnv;
  fetch?: FetchLike;
  timeoutMs?: number;
  now?: () => number;
}

export interface AuthorizeResult {
  tokenFile: string;
  scope: string | undefined;
  expiresAt: number | undefined;
  hasRefreshToken: boolean;
}

/** Runs the whole flow: listen on 127.0.0.1, send the user to Linear, take the code from the
 *  redirect, exchange it, and store the tokens with mode 0600. */
export async function runLinearAuthorization(opts: AuthorizeOptions): Promise<AuthorizeResult> {
  const { config } = opts;
  const clientId = config.linear.client_id;
  const clientSecret = config.linear.client_secret;
  if (!clientId || !clientSecret) {
    throw new LinearAuthError(
      'kai auth linear needs the app\'s client id and secret: set linear.client_id in kai.toml (or LINEAR_CLIENT_ID) and LINEAR_CLIENT_SECRET. ' +
        'Create the app under Linear Settings > API > Applications.',
    );
  }
  const state = randomBytes(16).toString('hex');
  const server = createServer();
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(config.linear.redirect_port, '127.0.0.1', () => res());
  });
  try {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.linear.redirect_port;
    const redirectUri = `http://localhost:${port}${CALLBACK_PATH}`;
    const url = buildAuthorizeUrl({ authorizeUrl: config.linear.authorize_url, clientId, redirectUri, state });
    opts.print(`Open this URL to install the Linear app as kai (actor=app, scopes ${LINEAR_SCOPES.join(', ')}):`);
    opts.print(url);
    opts.print(`The app's redirect URI must be ${redirectUri}. Waiting for Linear to redirect back...`);
    opts.onAuthorizeUrl?.(url);
    if (opts.openBrowser) await opts.openBrowser(url);
    const code = await waitForCode(server, state, opts.timeoutMs ?? 5 * 60_000);
    const now = (opts.now ?? Date.now)();
    const res = await requestToken(
      config.linear.token_url,
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, client_secret: clientSecret },
      opts.fetch,
    );
    const stored = toStored(res, now);
    const tokenFile = tokenFilePath(config, opts.env);
    writeTokenFile(tokenFile, stored);
    opts.print(`Stored Linear tokens in ${tokenFile} (readable only by you).${stored.refresh_token ? ' kai renews them from the refresh token.' : ''}`);
    return { tokenFile, scope: stored.scope, expiresAt: stored.expires_at, hasRefreshToken: Boolean(stored.refresh_token) };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  }
}

function waitForCode(server: Server, state: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new LinearAuthError(`No redirect from Linear within ${Math.round(timeoutMs / 1000)} s. Run \`kai auth linear\` again.`)), timeoutMs);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== CALLBACK_PATH) {
        res.writeHead(404).end();
        return;
      }
      const reply = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
      if (url.searchParams.get('state') !== state) {
        reply(400, 'This callback does not belong to the running `kai auth linear` (state mismatch).');
        return;
      }
      const error = url.searchParams.get('error');
      if (error) {
        reply(400, `Linear refused the authorization: ${error}. You can close this tab.`);
        clearTimeout(timer);
        reject(new LinearAuthError(`Linear refused the authorization (${error}).`));
        return;
      }
      const code = url.searchParams.get('code');
      if (!code) {
        reply(400, 'The callback carried no code.');
        return;
      }
      reply(200, 'kai is authorized with Linear. You can close this tab.');
      clearTimeout(timer);
      resolve(code);
    });
  });
}
