// The direct webhook server (`kai webhook`): verified Linear deliveries become workflow
// signals, and Linear hears 200 only once Temporal has accepted the signal (503 otherwise, so
// Linear retries). Redeliveries carry the same Linear-Delivery: the dispatcher drops those it
// already handed over, the workflow drops the rest. Counts go to src/observability's metrics.
import { createServer } from 'node:http';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KaiConfig } from '../config/schema';
import { logger as defaultLogger } from '../log';
import { healthzHandler, metricsHandler, readyzHandler } from '../observability/http';
import { kaiMetrics, recordDelivery, type KaiMetrics } from '../observability/metrics';
import { IngressDispatcher, deliveryOutcome, type SessionSink } from './dispatch';
import { listen, sendJson, sendText, type RunningServer } from './http';
import { linearEventType } from './payloads';
import { receiveDelivery } from './receive';
import { routeLinearEvent, DEFAULT_ATTACHMENT_HOSTS } from './route';
import { DEFAULT_BODY_LIMIT_BYTES, DeliveryVerifier, resolveSigningSecret } from './verify';

export interface WebhookDeps {
  /** Signing secret; undefined leaves the server up but refusing (503) and not ready. */
  secret: string | undefined;
  sessions: SessionSink;
  logger?: Logger;
  /** POST path, default /webhooks/linear. */
  path?: string;
  bodyLimitBytes?: number;
  commentFollowupsEnabled?: boolean;
  commentDebounceSeconds?: number;
  /** kai's Linear app user id (viewer id), when known. */
  appUserId?: string;
  attachmentHosts?: readonly string[];
  /** Longest wait for Temporal before answering 503 (default 4 s; Linear allows 5 s). */
  signalTimeoutMs?: number;
  /** Probe for /readyz; by default GetSystemInfo on the SessionClient's connection (2 s deadline). */
  checkTemporal?: () => Promise<unknown>;
  /** A dispatcher to share with an ingester in the same process. */
  dispatcher?: IngressDispatcher;
  /** Where deliveries are counted and /metrics reads from: the process-wide metrics by default. */
  metrics?: KaiMetrics;
}

export interface WebhookApp {
  app: Express;
  dispatcher: IngressDispatcher;
  metrics: KaiMetrics;
  registry: Registry;
}

export function createWebhookApp(deps: WebhookDeps): WebhookApp {
  const log = (deps.logger ?? defaultLogger).child({ component: 'webhook' });
  const path = deps.path ?? '/webhooks/linear';
  const metrics = deps.metrics ?? kaiMetrics();
  const verifier = deps.secret ? new DeliveryVerifier(deps.secret) : undefined;
  const dispatcher =
    deps.dispatcher ??
    new IngressDispatcher({
      sessions: deps.sessions,
      logger: log,
      commentDebounceMs: (deps.commentDebounceSeconds ?? 0.5) * 1000,
      signalTimeoutMs: deps.signalTimeoutMs,
      appUserId: deps.appUserId,
      metrics,
    });

  const checkTemporal = deps.checkTemporal ?? defaultTemporalCheck(deps.sessions);

  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', healthzHandler);

  app.get(
    '/readyz',
    readyzHandler(async () => {
      let temporal: string = 'ok';
      try {
        if (checkTemporal) await withDeadline(checkTemporal(), 2500);
      } catch (err) {
        temporal = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
      }
      return {
        ready: temporal === 'ok' && !!verifier && !dispatcher.revoked,
        temporal,
        secret: verifier ? 'configured' : 'missing',
        linearAuthorization: dispatcher.revoked ? 'revoked' : 'ok',
        notices: dispatcher.notices(),
        events: Object.fromEntries(dispatcher.counts),
      };
    }),
  );

  app.get('/metrics', metricsHandler(metrics.registry));

  app.all(path, async (req, res) => {
    const received = await receiveDelivery(req, res, {
      verifier,
      bodyLimitBytes: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      logger: log,
      source: 'webhook',
      metrics,
    });
    if (!received) return;
    const type = linearEventType(received.event);
    const decision = routeLinearEvent(received.event, {
      deliveryId: received.deliveryId,
      receivedAt: received.receivedAt.toISOString(),
      appUserId: dispatcher.appUserId,
      commentFollowupsEnabled: deps.commentFollowupsEnabled ?? true,
      attachmentHosts: deps.attachmentHosts ?? DEFAULT_ATTACHMENT_HOSTS,
    });
    try {
      const result = await dispatcher.dispatch(decision, {
        source: 'webhook',
        deliveryId: received.deliveryId,
        receivedAt: received.receivedAt.getTime(),
      });
      recordDelivery('webhook', type, deliveryOutcome(result), metrics);
      sendJson(res, 200, { ok: true, deliveryId: received.deliveryId, outcome: result.outcome, detail: result.detail });
    } catch (err) {
      recordDelivery('webhook', type, 'failed', metrics);
      log.error(
        { deliveryId: received.deliveryId, event: decision.label, error: err instanceof Error ? err.message : String(err) },
        'Temporal did not accept the signal: answering 503 so Linear retries',
      );
      sendText(req, res, 503, 'Temporal is unavailable; retry later');
    }
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });

  return { app, dispatcher, metrics, registry: metrics.registry };
}

export interface StartedWebhookServer extends RunningServer {
  dispatcher: IngressDispatcher;
}

/** Listens on host:port (port 0 picks a free one) and returns the URL and a close(). */
export async function startWebhookServer(deps: WebhookDeps, opts: { host: string; port: number }): Promise<StartedWebhookServer> {
  const { app, dispatcher } = createWebhookApp(deps);
  const server = createServer(app);
  // Linear waits 5 s; a slow client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  const running = await listen(server, opts.host, opts.port);
  return {
    ...running,
    dispatcher,
    async close() {
      await dispatcher.flush();
      await running.close();
    },
  };
}

/** Webhook deps from kai's config (the CLI adds the SessionClient and overrides). */
export function webhookDepsFromConfig(
  config: KaiConfig,
  sessions: SessionSink,
  extra: Partial<WebhookDeps> = {},
): WebhookDeps {
  const t = config.transports.linear;
  const p = config.plugins.linear;
  return {
    secret: resolveSigningSecret(t.webhook_signing_secret),
    sessions,
    path: t.webhook_path,
    bodyLimitBytes: config.limits.webhook_body_limit_bytes,
    commentFollowupsEnabled: p.comment_followups_enabled,
    commentDebounceSeconds: p.comment_followups_debounce_seconds,
    attachmentHosts: t.attachment_allowed_hosts,
    ...extra,
  };
}

interface TemporalConnectionLike {
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R>;
  workflowService: { getSystemInfo(req: object): Promise<unknown> };
}

function defaultTemporalCheck(sessions: SessionSink): (() => Promise<unknown>) | undefined {
  const connection = (sessions as { client?: { connection?: TemporalConnectionLike } }).client?.connection;
  if (!connection?.workflowService) return undefined;
  return () => connection.withDeadline(Date.now() + 2000, () => connection.workflowService.getSystemInfo({}));
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
