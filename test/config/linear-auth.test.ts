import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type KaiConfig } from '../../src/config';
import { ApplicationFailure } from '@temporalio/common';
import {
  createLinearTokenProvider,
  LINEAR_SCOPES,
  linearTokensIfConfigured,
  readTokenFile,
  runLinearAuthorization,
  staticTokenWarning,
  writeTokenFile,
} from '../../src/config/linear-auth';
import { startLinearEmulator } from '../../src/emulator/linear';
import { createLinearGateway, STATIC_TOKEN_REFUSED } from '../../src/activities/linear';

/** A tiny OAuth token endpoint: records each grant and answers from `respond`. */
class FakeOAuthServer {
  readonly requests: Array<Record<string, string>> = [];
  respond: (params: Record<string, string>, n: number) => { status: number; body: unknown } = () => ({ status: 500, body: {} });
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
      this.requests.push(params);
      const { status, body } = this.respond(params, this.requests.length);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/oauth/token`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });
}

let oauth: FakeOAuthServer;
let dir: string;
beforeEach(async () => {
  oauth = new FakeOAuthServer();
  await oauth.start();
  dir = mkdtempSync(join(tmpdir(), 'kai-auth-'));
});
afterEach(async () => {
  await oauth.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(linear: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): KaiConfig {
  return validateConfig({ linear: { token_url: oauth.url, token_file: join(dir, 'tokens.json'), ...linear } }, { env }).config;
}

const HOUR = 3600;

describe('Linear token provider', () => {
  test('with no credentials there is no provider, only the reason to show, and no token request', () => {
    const none = linearTokensIfConfigured(config({}));
    expect(none.tokens).toBeUndefined();
    expect(none.missing).toMatch(/^No Linear credentials/);
    expect(linearTokensIfConfigured(config({}, { LINEAR_OAUTH_TOKEN: 'lin_oauth_static' })).tokens?.kind).toBe('static');
    expect(oauth.requests).toHaveLength(0);
  });

  test('a static OAuth token from LINEAR_OAUTH_TOKEN is used as is, with no token request', async () => {
    const provider = createLinearTokenProvider(config({}, { LINEAR_OAUTH_TOKEN: 'lin_oauth_static' }));
    expect(provider.kind).toBe('static');
    expect(await provider.accessToken()).toBe('lin_oauth_static');
    expect(oauth.requests).toHaveLength(0);
  });

  test('client credentials: a token is fetched once, reused while fresh and renewed before it expires', async () => {
    let clock = 1_000_000;
    oauth.respond = (_p, n) => ({ status: 200, body: { access_token: `cc-token-${n}`, token_type: 'Bearer', expires_in: HOUR, scope: 'read,write,app:assignable,app:mentionable' } });
    const renewals: Array<number | undefined> = [];
    const provider = createLinearTokenProvider(config({ client_id: 'cid', client_secret: 'csecret', refresh_margin_s: 300 }), {
      now: () => clock,
      onRenew: (i) => renewals.push(i.expiresAt),
    });
    expect(provider.kind).toBe('client_credentials');

    // Concurrent callers share one request.
    const first = await Promise.all([provider.accessToken(), provider.accessToken(), provider.accessToken()]);
    expect(first).toEqual(['cc-token-1', 'cc-token-1', 'cc-token-1']);
    expect(oauth.requests).toEqual([
      { grant_type: 'client_credentials', client_id: 'cid', client_secret: 'csecret', scope: LINEAR_SCOPES.join(',') },
    ]);

    clock += (HOUR - 301) * 1000; // still outside the 5-minute margin
    expect(await provider.accessToken()).toBe('cc-token-1');
    expect(oauth.requests).toHaveLength(1);

    clock += 2000; // inside the margin, not yet expired: renew now
    expect(await provider.accessToken()).toBe('cc-token-2');
    expect(oauth.requests).toHaveLength(2);
    expect(renewals).toEqual([1_000_000 + HOUR * 1000, clock + HOUR * 1000]);
  });

  test('if renewal fails while the old token is still valid, the old token keeps working', async () => {
    let clock = 0;
    oauth.respond = (_p, n) => (n === 1 ? { status: 200, body: { access_token: 'first', expires_in: HOUR } } : { status: 503, body: {} });
    const provider = createLinearTokenProvider(config({ client_id: 'cid', client_secret: 'cs' }), { now: () => clock });
    expect(await provider.accessToken()).toBe('first');
    clock = (HOUR - 60) * 1000;
    expect(await provider.accessToken()).toBe('first');
    clock = (HOUR + 1) * 1000;
    await expect(provider.accessToken()).rejects.toThrow(/answered 503 .* grant client_credentials/);
  });

  test('stored tokens are renewed from the refresh token and the rotated tokens are saved with mode 0600', async () => {
    const file = join(dir, 'tokens.json');
    let clock = 5_000_000;
    writeTokenFile(file, { access_token: 'old-access', refresh_token: 'refresh-1', expires_at: clock + 60_000, scope: 'read,write' });
    oauth.respond = (p) =>
      p.refresh_token === 'refresh-1'
        ? { status: 200, body: { access_token: 'new-access', refresh_token: 'refresh-2', expires_in: 86_400 } }
        : { status: 400, body: { error: 'invalid_grant' } };
    const provider = createLinearTokenProvider(config({ client_id: 'cid', client_secret: 'csecret' }), { now: () => clock });
    expect(provider.kind).toBe('stored');

    // Expires in 60 s, inside the default 300 s margin: renewed before use.
    expect(await provider.accessToken()).toBe('new-access');
    expect(oauth.requests).toEqual([{ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'cid', client_secret: 'csecret' }]);
    const saved = readTokenFile(file)!;
    expect(saved).toMatchObject({ access_token: 'new-access', refresh_token: 'refresh-2', expires_at: clock + 86_400_000 });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    clock += 3_600_000;
    expect(await provider.accessToken()).toBe('new-access');
    expect(oauth.requests).toHaveLength(1);
  });

  test('after a 401, invalidate() makes the next call renew', async () => {
    oauth.respond = (_p, n) => ({ status: 200, body: { access_token: `t${n}`, expires_in: HOUR } });
    const provider = createLinearTokenProvider(config({ client_id: 'cid', client_secret: 'cs' }));
    expect(await provider.accessToken()).toBe('t1');
    provider.invalidate();
    expect(await provider.accessToken()).toBe('t2');
  });

  test('a refused refresh token says to run `kai auth linear` and does not reveal the token', async () => {
    const file = join(dir, 'tokens.json');
    writeTokenFile(file, { access_token: 'expired', refresh_token: 'refresh-SECRET-xyz', expires_at: 1 });
    oauth.respond = () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'refresh token revoked' } });
    const provider = createLinearTokenProvider(config({}), { now: () => 10_000 });
    const err = await provider.accessToken().catch((e: Error) => e);
    expect(String(err)).toMatch(/400 \(invalid_grant: refresh token revoked\).*run `kai auth linear` again/);
    expect(String(err)).not.toContain('refresh-SECRET-xyz');
  });

  test('with no credentials at all the error says how to provide them', () => {
    expect(() => createLinearTokenProvider(config({}))).toThrow(/No Linear credentials\. Set LINEAR_OAUTH_TOKEN .*`kai auth linear`/);
  });
});

describe('kai auth linear', () => {
  test('installs the app with actor=app and kai scopes, exchanges the code and stores tokens readable only by the user', async () => {
    oauth.respond = (p) =>
      p.grant_type === 'authorization_code' && p.code === 'the-code'
        ? { status: 200, body: { access_token: 'app-access', refresh_token: 'app-refresh', expires_in: 86_400, scope: 'read write app:assignable app:mentionable', token_type: 'Bearer' } }
        : { status: 400, body: { error: 'invalid_grant' } };
    const cfg = config({ client_id: 'my-client', client_secret: 'my-secret', redirect_port: 0, authorize_url: 'https://linear.example/oauth/authorize' });
    const printed: string[] = [];
    let authorizeUrl = '';
    const result = await runLinearAuthorization({
      config: cfg,
      print: (l) => printed.push(l),
      timeoutMs: 10_000,
      onAuthorizeUrl: (url) => {
        authorizeUrl = url;
        // Act as the browser: Linear redirects back, first with a wrong state, then the real one.
        void (async () => {
          const u = new URL(url);
          const redirect = u.searchParams.get('redirect_uri')!;
          const bad = await fetch(`${redirect.replace('localhost', '127.0.0.1')}?code=evil&state=forged`);
          expect(bad.status).toBe(400);
          const ok = await fetch(`${redirect.replace('localhost', '127.0.0.1')}?code=the-code&state=${u.searchParams.get('state')}`);
          expect(await ok.text()).toContain('kai is authorized');
        })();
      },
    });

    const u = new URL(authorizeUrl);
    expect(u.origin + u.pathname).toBe('https://linear.example/oauth/authorize');
    expect(u.searchParams.get('actor')).toBe('app');
    expect(u.searchParams.get('scope')).toBe('read,write,app:assignable,app:mentionable');
    expect(u.searchParams.get('response_type')).toBe('code');
    expect(u.searchParams.get('client_id')).toBe('my-client');
    expect(u.searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/oauth\/callback$/);
    expect(printed.join('\n')).toContain(authorizeUrl);

    expect(oauth.requests).toEqual([
      { grant_type: 'authorization_code', code: 'the-code', redirect_uri: u.searchParams.get('redirect_uri')!, client_id: 'my-client', client_secret: 'my-secret' },
    ]);
    expect(result.hasRefreshToken).toBe(true);
    expect(statSync(result.tokenFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(result.tokenFile, 'utf8'));
    expect(stored).toMatchObject({ access_token: 'app-access', refresh_token: 'app-refresh' });
    expect(printed.join('\n')).not.toContain('app-access');
    expect(printed.join('\n')).not.toContain('my-secret');

    // The stored tokens are what kai then uses.
    const provider = createLinearTokenProvider(cfg);
    expect(provider.kind).toBe('stored');
    expect(await provider.accessToken()).toBe('app-access');
  });

  test('without the app client id and secret it says where to set them', async () => {
    await expect(runLinearAuthorization({ config: config({}), print: () => {} })).rejects.toThrow(/linear\.client_id .* LINEAR_CLIENT_SECRET/);
  });
});

describe('auth that recovers, through the gateway against the Linear emulator', () => {
  const VIEWER = 'query { viewer { id } }';

  test.each([401, 400] as const)('client credentials: a token Linear refuses (HTTP %i) is invalidated, renewed once and the request retried', async (status) => {
    oauth.respond = (_p, n) => ({ status: 200, body: { access_token: `cc-token-${n}`, expires_in: HOUR } });
    const linear = await startLinearEmulator({ accessToken: 'cc-token-1', authFailureStatus: status });
    try {
      const tokens = createLinearTokenProvider(config({ client_id: 'cid', client_secret: 'cs' }));
      const gateway = createLinearGateway({ apiUrl: linear.url, accessToken: tokens });
      await gateway.raw('viewer query', VIEWER, {});
      // Linear revokes the token before its expiry (rotation, revocation, clock skew).
      linear.setAccessToken('cc-token-2');
      const data = await gateway.raw<{ viewer: { id: string } }>('viewer query', VIEWER, {});
      expect(data.viewer.id).toBe(linear.state.appUser.id);
      expect(oauth.requests).toHaveLength(2);
      expect(gateway.renewals).toBe(1);
      expect(linear.requests().map((r) => r.outcome)).toEqual(['ok', 'unauthorized', 'ok']);
    } finally {
      await linear.stop();
    }
  });

  test('a stored refresh token renews a refused access token and the rotated tokens are saved', async () => {
    const file = join(dir, 'tokens.json');
    writeTokenFile(file, { access_token: 'old', refresh_token: 'r1', expires_at: Date.now() + HOUR * 1000 });
    oauth.respond = () => ({ status: 200, body: { access_token: 'new', refresh_token: 'r2', expires_in: HOUR } });
    const linear = await startLinearEmulator({ accessToken: 'new', authFailureStatus: 400 });
    try {
      const gateway = createLinearGateway({ apiUrl: linear.url, accessToken: createLinearTokenProvider(config({ client_id: 'cid' })) });
      await gateway.raw('viewer query', VIEWER, {});
      expect(oauth.requests).toEqual([{ grant_type: 'refresh_token', refresh_token: 'r1', client_id: 'cid' }]);
      expect(readTokenFile(file)).toMatchObject({ access_token: 'new', refresh_token: 'r2' });
    } finally {
      await linear.stop();
    }
  });

  test('renewal happens once: a token refused again after renewing fails retryably, naming it', async () => {
    oauth.respond = (_p, n) => ({ status: 200, body: { access_token: `cc-${n}`, expires_in: HOUR } });
    const linear = await startLinearEmulator({ accessToken: 'never-issued' });
    try {
      const gateway = createLinearGateway({ apiUrl: linear.url, accessToken: createLinearTokenProvider(config({ client_id: 'cid', client_secret: 'cs' })) });
      const err = (await gateway.raw('viewer query', VIEWER, {}).catch((e: unknown) => e)) as ApplicationFailure;
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err.type).toBe('LinearAuth');
      expect(err.nonRetryable).toBeFalsy();
      expect(err.message).toMatch(/viewer query: Linear refused the access token .*also after renewing the token once/);
      expect(oauth.requests).toHaveLength(2);
      expect(linear.requests().filter((r) => r.outcome === 'unauthorized')).toHaveLength(2);
    } finally {
      await linear.stop();
    }
  });

  test('a static token Linear refuses fails permanently, saying it cannot be renewed, after one request', async () => {
    const linear = await startLinearEmulator({ accessToken: 'the-right-one', authFailureStatus: 400 });
    try {
      const tokens = createLinearTokenProvider(config({}, { LINEAR_OAUTH_TOKEN: 'lin_oauth_static_secret' }));
      const gateway = createLinearGateway({ apiUrl: linear.url, accessToken: tokens });
      const err = (await gateway.raw('viewer query', VIEWER, {}).catch((e: unknown) => e)) as ApplicationFailure;
      expect(err.nonRetryable).toBe(true);
      expect(err.message).toContain(STATIC_TOKEN_REFUSED);
      expect(err.message).not.toContain('lin_oauth_static_secret');
      expect(linear.requests()).toHaveLength(1);
      expect(oauth.requests).toHaveLength(0);
    } finally {
      await linear.stop();
    }
  });

  test('staticTokenWarning warns about a static token (naming its source, not its value) and is quiet otherwise', () => {
    const env = { LINEAR_OAUTH_TOKEN: 'lin_oauth_static_secret' };
    const warning = staticTokenWarning(config({}, env), env);
    expect(warning).toMatch(/static Linear token \(LINEAR_OAUTH_TOKEN\).*cannot be renewed.*client-credentials grant/);
    expect(warning).not.toContain('lin_oauth_static_secret');
    expect(staticTokenWarning(config({ client_id: 'cid', client_secret: 'cs' }), {})).toBeUndefined();
  });
});
