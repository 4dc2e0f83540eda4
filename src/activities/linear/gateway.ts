// kai's one door to Linear: the real @linear/sdk client behind a request budget, with every
// failure classified for Temporal. Activities, the progress reporter and the uploader share
// one gateway per workspace so the budget counts all of kai's traffic. When Linear refuses the
// token, a renewable source is invalidated, renewed once and the request retried; a static
// token that is refused fails with an error saying it cannot be renewed.
import { LinearClient } from '@linear/sdk';
import type { Logger } from 'pino';
import { logger as defaultLogger } from '../../log';
import { RequestBudget } from './budget';
import { permanent } from '../errors';
import { classifyLinearError, toActivityFailure } from './errors';

/** A token source that can forget its token and fetch a new one (src/config/linear-auth.ts). */
export interface RenewableTokenSource {
  readonly kind: 'static' | 'stored' | 'client_credentials';
  accessToken(): Promise<string>;
  invalidate(): void;
}

export type AccessTokenSource = string | (() => string | Promise<string>) | RenewableTokenSource;

export const STATIC_TOKEN_REFUSED =
  'Linear refused the static access token (LINEAR_OAUTH_TOKEN / transports.linear.oauth_token), and a static token cannot be renewed. ' +
  'Replace it, or let kai renew tokens itself: set linear.client_id and LINEAR_CLIENT_SECRET (client-credentials grant) or run `kai auth linear`.';

export interface LinearGatewayOptions {
  /** GraphQL endpoint (`linear.api_url`; the emulator's in offline mode). */
  apiUrl: string;
  /** The app's OAuth access token, or a function returning the current one (tokens rotate). */
  accessToken: AccessTokenSource;
  /** Client-side cap (`limits.linear_requests_per_hour`), under Linear's 5,000. */
  requestsPerHour?: number;
  logger?: Logger;
  now?: () => number;
}

export class LinearGateway {
  readonly budget: RequestBudget;
  private readonly log: Logger;
  private readonly now: () => number;
  private client?: { token: string; sdk: LinearClient };
  /** Requests sent by this gateway (including refused ones), for logs and benchmarks. */
  requestCount = 0;

  constructor(private readonly opts: LinearGatewayOptions) {
    this.now = opts.now ?? Date.now;
    this.budget = new RequestBudget(opts.requestsPerHour ?? 4500, this.now);
    this.log = (opts.logger ?? defaultLogger).child({ component: 'linear' });
  }

  get apiUrl(): string {
    return this.opts.apiUrl;
  }

  /** The current access token, e.g. to download attachments from Linear's upload host. */
  async accessToken(): Promise<string> {
    const src = this.opts.accessToken;
    const token = typeof src === 'string' ? src : typeof src === 'function' ? await src() : await src.accessToken();
    if (!token) throw new Error('No Linear access token is configured (transports.linear.oauth_token or `kai auth linear`)');
    return token;
  }

  private async sdk(): Promise<LinearClient> {
    const token = await this.accessToken();
    if (this.client?.token !== token) this.client = { token, sdk: new LinearClient({ apiUrl: this.opts.apiUrl, accessToken: token }) };
    return this.client.sdk;
  }

  /** How many times a refused token was renewed and the request retried. */
  renewals = 0;

  /** Runs one request (`what` names it in errors and logs); throws the classified failure. */
  async request<T>(what: string, fn: (client: LinearClient) => Promise<T>): Promise<T> {
    const attempt = async () => {
      this.budget.take();
      const sdk = await this.sdk();
      this.requestCount += 1;
      return fn(sdk);
    };
    try {
      return await attempt();
    } catch (first) {
      if (classifyLinearError(first, this.now()).kind !== 'auth') throw this.failure(what, first);
      const src = this.opts.accessToken;
      if (typeof src === 'string' || (typeof src === 'object' && src.kind === 'static')) {
        this.log.error({ what }, 'Linear refused the static access token');
        throw permanent('notConfigured', `${what}: ${STATIC_TOKEN_REFUSED}`);
      }
      if (typeof src === 'function') throw this.failure(what, first);
      // Renew once and try again: an expired or revoked-then-rotated token heals here.
      src.invalidate();
      this.renewals += 1;
      this.log.warn({ what, source: src.kind }, 'Linear refused the access token; renewing it and retrying once');
      try {
        return await attempt();
      } catch (second) {
        const failure = this.failure(what, second);
        if (classifyLinearError(second, this.now()).kind === 'auth') failure.message = `${failure.message} (also after renewing the token once)`;
        throw failure;
      }
    }
  }

  private failure(what: string, err: unknown): Error {
    const c = classifyLinearError(err, this.now());
    if (c.kind === 'ratelimited' && c.resetAtMs) this.budget.blockUntil(c.resetAtMs);
    this.log.warn({ what, kind: c.kind, reason: c.message }, 'Linear request failed');
    return toActivityFailure(what, err, this.now());
  }

  /** A GraphQL document of kai's own (queries shaped to need one round trip). */
  raw<T>(what: string, query: string, variables: Record<string, unknown>): Promise<T> {
    return this.request(what, async (sdk) => {
      const res = await sdk.client.rawRequest<T, Record<string, unknown>>(query, variables);
      if (!res.data) throw new Error(`${what}: Linear returned no data`);
      return res.data;
    });
  }
}

export function createLinearGateway(opts: LinearGatewayOptions): LinearGateway {
  return new LinearGateway(opts);
}
