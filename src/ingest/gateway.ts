// `kai gateway`: kai-gateway compatible ingress. The same verification as the webhook server,
// then one INSERT into the events table (deduplicated by Linear-Delivery), then 200; 503 when
// the database does not take it, so Linear retries. The request handler is a plain Node
// `(req, res)` function, so it also deploys as a serverless function (Vercel's Node runtime
// passes exactly that), as the seed's gateway was deployed. Counts go to src/observability's
// metrics (source "gateway": `signaled` means stored, `duplicate` already stored).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { logger as defaultLogger } from '../log';
import { healthzHandler, metricsHandler, readyzHandler } from '../observability/http';
import { kaiMetrics, recordDelivery, type KaiMetrics } from '../observability/metrics';
import { linearEventType } from '../webhook/payloads';
import { listen, sendJson, sendText, type RunningServer } from '../webhook/http';
import { receiveDelivery } from '../webhook/receive';
import { DEFAULT_BODY_LIMIT_BYTES, DeliveryVerifier } from '../webhook/verify';

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
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const INSERT_SQL = `
  INSERT INTO events (source, event_type, external_id, payload)
  VALUES ($1, $2, $3, $4::jsonb)
  ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING
  RETURNING id`;

/** The gateway's request handler: POST a Linear webhook to it (any path). */
export function createGatewayHandler(deps: GatewayDeps): NodeHandler {
  const log = (deps.logger ?? defaultLogger).child({ component: 'gateway' });
  const verifier = deps.secret ? new DeliveryVerifier(deps.secret) : undefined;
  const timeoutMs = deps.insertTimeoutMs ?? 4000;
  const metrics = deps.metrics ?? kaiMetrics();
  // An idle pooled connection that dies (Postgres restart) must not crash the process.
  if (deps.pool.listenerCount('error') === 0)
    deps.pool.on('error', (err) => log.warn({ error: err.message }, 'An idle database connection failed'));
  return async (req, res) => {
    const received = await receiveDelivery(req, res, {
      verifier,
      bodyLimitBytes: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      logger: log,
      source: 'gateway',
      metrics,
    });
    if (!received) return;
    const type = linearEventType(received.event);
    try {
      const result = await Promise.race([
        deps.pool.query(INSERT_SQL, [GATEWAY_SOURCE, type, received.deliveryId, JSON.stringify(received.body)]),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
      ]);
      const inserted = (result.rowCount ?? 0) > 0;
      recordDelivery('gateway', type, inserted ? 'signaled' : 'duplicate', metrics);
      log.info({ deliveryId: received.deliveryId, event: type, inserted }, inserted ? 'Stored a delivery' : 'Delivery already stored');
      sendJson(res, 200, { ok: true, deliveryId: received.deliveryId, stored: inserted ? 'inserted' : 'duplicate' });
    } catch (err) {
      recordDelivery('gateway', type, 'failed', metrics);
      log.error(
        { deliveryId: received.deliveryId, error: err instanceof Error ? err.message : String(err) },
        'The database did not store the delivery: answering 503 so Linear retries',
      );
      sendText(req, res, 503, 'The events database is unavailable; retry later');
    }
  };
}

/** The gateway as an express app: the handler on `path`, plus /healthz, /readyz and /metrics. */
export function createGatewayApp(deps: GatewayDeps & { path?: string }): Express {
  const metrics = deps.metrics ?? kaiMetrics();
  const handler = createGatewayHandler({ ...deps, metrics });
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', healthzHandler);
  app.get(
    '/readyz',
    readyzHandler(async () => {
      let database = 'ok';
      try {
        await Promise.race([
          deps.pool.query('SELECT 1 FROM events LIMIT 0'),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 2000 ms')), 2000).unref()),
        ]);
      } catch (err) {
        database = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
      return { ready: database === 'ok' && !!deps.secret, database, secret: deps.secret ? 'configured' : 'missing' };
    }),
  );
  app.get('/metrics', metricsHandler(metrics.registry));
  mountGateway(app, deps.path ?? '/webhooks/linear', handler);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  return app;
}

/** Mounts a gateway handler on an existing express app (every method: the handler answers 405). */
export function mountGateway(app: Express, path: string, handler: NodeHandler): void {
  app.all(path, (req, res) => handler(req, res));
}

export async function startGatewayServer(deps: GatewayDeps & { path?: string }, opts: { host: string; port: number }): Promise<RunningServer> {
  const server = createServer(createGatewayApp(deps));
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return listen(server, opts.host, opts.port);
}
