// `kai gateway`: kai-gateway compatible ingress, a thin adapter over src/ingress. The same
// verification as the webhook server, then one INSERT into the events table (deduplicated by
// Linear-Delivery and by the signed-content key, so a replay under a new delivery id is not
// stored twice), then 200; 503 when the database does not take it, so Linear retries. What was
// signed is stored whatever it holds: a body PostgreSQL's jsonb cannot keep (a \u0000 in a
// string, nesting deeper than its parser allows) is stored as its exact bytes (rows.ts reads
// both), so the gateway accepts exactly the deliveries the webhook server accepts. The request handler is a plain Node
// `(req, res)` function, so it also deploys as a serverless function (Vercel's Node runtime
// passes exactly that), as the seed's gateway was deployed. Counts go to src/observability's
// metrics (source "gateway": `signaled` means stored, `duplicate` already stored).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { eventKey } from '../ingress/event-key';
import type { KaiConfig } from '../config/schema';
import { adapterApp, createIngressServer, listen, opsExposed, type RunningServer, type ServerLimits } from '../ingress/http';
import type { LinearEvent } from '../ingress/payloads';
import { handleDelivery, type Accepted, type Received } from '../ingress/receive';
import { DEFAULT_BODY_LIMIT_BYTES, DeliveryVerifier, resolveSigningSecret } from '../ingress/verify';
import { logger as defaultLogger } from '../log';
import { kaiMetrics, type KaiMetrics } from '../observability/metrics';
import { rawPayload, storableAsJsonb } from './rows';
import { errorText, withTimeout } from '../util';

export const GATEWAY_SOURCE = 'linear';

export interface GatewayDeps {
  pool: Pool;
  secret: string | undefined;
  logger?: Logger;
  bodyLimitBytes?: number;
  /** Longest wait for the database before answering 503 (default 4 s). */
  insertTimeoutMs?: number;
  /** Where deliveries are counted and /metrics reads from: the process-wide metrics by default. */
  metrics?: KaiMetrics;
  /** Serve /metrics and /readyz to any peer; by default only to loopback ([metrics] host). */
  exposeOps?: boolean;
  /** Header/request timeouts and the connection cap. */
  limits?: ServerLimits;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

// Any unique key (Linear-Delivery, or the signed-content key) makes it a duplicate.
const INSERT_SQL = `
  INSERT INTO events (source, event_type, external_id, payload, event_key, issue_id)
  VALUES ($1, $2, $3, $4::jsonb, $5, $6)
  ON CONFLICT DO NOTHING
  RETURNING id`;

/** PostgreSQL errors that say the JSON cannot be a jsonb value (not that the database is down). */
const UNSTORABLE_JSON = new Set(['22P05', '22P02', '54001', '2202E']);

/** The issue an event is about, for the row's per-issue ordering (also for raw-stored bodies). */
function eventIssueId(event: LinearEvent): string | null {
  switch (event.type) {
    case 'AgentSessionEvent':
      return event.body.agentSession.issue?.id ?? event.body.agentSession.issueId ?? null;
    case 'Comment':
      return event.body.data.issueId ?? event.body.data.issue?.id ?? null;
    case 'Issue':
      return event.body.data.id;
    case 'AppUserNotification':
      return event.body.notification.issueId ?? event.body.notification.issue?.id ?? null;
    default:
      return null;
  }
}

/** The gateway's request handler: POST a Linear webhook to it (any path). */
export function createGatewayHandler(deps: GatewayDeps): NodeHandler {
  const log = (deps.logger ?? defaultLogger).child({ component: 'gateway' });
  const verifier = deps.secret ? new DeliveryVerifier(deps.secret) : undefined;
  const timeoutMs = deps.insertTimeoutMs ?? 4000;
  const metrics = deps.metrics ?? kaiMetrics();
  // An idle pooled connection that dies (Postgres restart) must not crash the process.
  if (deps.pool.listenerCount('error') === 0)
    deps.pool.on('error', (err) => log.warn({ error: err.message }, 'An idle database connection failed'));
  const store = async (received: Received, type: string): Promise<Accepted> => {
    const key = eventKey(received.event);
    const issueId = eventIssueId(received.event);
    const text = received.raw.toString('utf8');
    const insert = (payload: string) =>
      withTimeout(deps.pool.query(INSERT_SQL, [GATEWAY_SOURCE, type, received.deliveryId, payload, key, issueId]), timeoutMs);
    let result;
    if (!storableAsJsonb(text)) {
      result = await insert(rawPayload(received.raw));
    } else {
      try {
        result = await insert(text);
      } catch (err) {
        if (!UNSTORABLE_JSON.has((err as { code?: string }).code ?? '')) throw err;
        log.warn({ deliveryId: received.deliveryId, error: (err as Error).message }, 'jsonb cannot hold this body; storing the signed bytes');
        result = await insert(rawPayload(received.raw));
      }
    }
    const inserted = (result.rowCount ?? 0) > 0;
    log.info({ deliveryId: received.deliveryId, event: type, inserted }, inserted ? 'Stored a delivery' : 'Delivery already stored');
    return { outcome: inserted ? 'signaled' : 'duplicate', answer: { stored: inserted ? 'inserted' : 'duplicate' } };
  };
  return (req, res) =>
    handleDelivery(req, res, {
      verifier,
      bodyLimitBytes: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      logger: log,
      source: 'gateway',
      metrics,
      accept: store,
      unavailable: { log: 'The database did not store the delivery: answering 503 so Linear retries', answer: 'The events database is unavailable; retry later' },
    });
}

/** The gateway as an express app: the handler on `path`, plus /healthz, /readyz and /metrics. */
export function createGatewayApp(deps: GatewayDeps & { path?: string }): Express {
  const metrics = deps.metrics ?? kaiMetrics();
  const handler = createGatewayHandler({ ...deps, metrics });
  return adapterApp({
    path: deps.path ?? '/webhooks/linear',
    handler,
    async ready() {
      let database = 'ok';
      try {
        await withTimeout(deps.pool.query('SELECT 1 FROM events LIMIT 0'), 2000);
      } catch (err) {
        database = `unavailable: ${errorText(err)}`;
      }
      return { ready: database === 'ok' && !!deps.secret, database, secret: deps.secret ? 'configured' : 'missing' };
    },
    registry: metrics.registry,
    exposeOps: deps.exposeOps ?? false,
  });
}

export async function startGatewayServer(deps: GatewayDeps & { path?: string }, opts: { host: string; port: number }): Promise<RunningServer> {
  return listen(createIngressServer(createGatewayApp(deps), deps.limits), opts.host, opts.port);
}

/** Gateway deps from kai's config (the CLI adds the pool and overrides). */
export function gatewayDepsFromConfig(config: KaiConfig, pool: Pool, extra: Partial<GatewayDeps> & { path?: string } = {}): GatewayDeps & { path?: string } {
  const t = config.transports.linear;
  return {
    pool,
    secret: resolveSigningSecret(t.webhook_signing_secret),
    bodyLimitBytes: config.limits.webhook_body_limit_bytes,
    path: t.webhook_path,
    exposeOps: opsExposed(config.metrics.host),
    ...extra,
  };
}
