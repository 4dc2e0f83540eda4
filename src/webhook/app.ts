// The direct webhook server (`kai webhook`): a thin adapter from HTTP to ingress. Verified
// Linear deliveries become workflow signals, and Linear hears 200 only once Temporal has
// accepted the signal (503 otherwise, so Linear retries). Redeliveries and replays carry the
// same signed content, so they get the same dedupe key (src/ingress/event-key.ts).
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KaiConfig } from '../config/schema';
import { createIngress, ingressOptionsFromConfig, type Ingress, type IngressOptions } from '../ingress/ingress';
import { adapterApp, createIngressServer, listen, opsExposed, type RunningServer, type ServerLimits } from '../ingress/http';
import { deliveryOutcome, type IngressDispatcher, type SessionSink } from '../ingress/dispatch';
import { handleDelivery } from '../ingress/receive';
import { DEFAULT_BODY_LIMIT_BYTES, DeliveryVerifier, resolveSigningSecret } from '../ingress/verify';
import { logger as defaultLogger } from '../log';
import type { KaiMetrics } from '../observability/metrics';
import { errorText, withTimeout } from '../util';

export interface WebhookDeps extends Partial<Omit<IngressOptions, 'sessions' | 'logger'>> {
  /** Signing secret; undefined leaves the server up but refusing (503) and not ready. */
  secret: string | undefined;
  sessions: SessionSink;
  logger?: Logger;
  /** POST path, default /webhooks/linear. */
  path?: string;
  bodyLimitBytes?: number;
  /** Probe for /readyz; by default GetSystemInfo on the SessionClient's connection (2 s deadline). */
  checkTemporal?: () => Promise<unknown>;
  /** An Ingress to share with an ingester in the same process. */
  ingress?: Ingress;
  /** Serve /metrics and /readyz to any peer; by default only to loopback ([metrics] host). */
  exposeOps?: boolean;
  /** Header/request timeouts and the connection cap. */
  limits?: ServerLimits;
}

export interface WebhookApp {
  app: Express;
  ingress: Ingress;
  dispatcher: IngressDispatcher;
  metrics: KaiMetrics;
  registry: Registry;
}

export function createWebhookApp(deps: WebhookDeps): WebhookApp {
  const log = (deps.logger ?? defaultLogger).child({ component: 'webhook' });
  const path = deps.path ?? '/webhooks/linear';
  const ingress = deps.ingress ?? createIngress({ ...deps, sessions: deps.sessions, logger: log });
  const metrics = ingress.metrics;
  const dispatcher = ingress.dispatcher;
  const verifier = deps.secret ? new DeliveryVerifier(deps.secret) : undefined;
  const checkTemporal = deps.checkTemporal ?? defaultTemporalCheck(deps.sessions);

  const app = adapterApp({
    path,
    handler: (req, res) =>
      handleDelivery(req, res, {
        verifier,
        bodyLimitBytes: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
        logger: log,
        source: 'webhook',
        metrics,
        async accept(received) {
          const { result } = await ingress.handle(received.event, { source: 'webhook', receivedAt: received.receivedAt });
          return { outcome: deliveryOutcome(result), answer: { outcome: result.outcome, detail: result.detail } };
        },
        unavailable: { log: 'Temporal did not accept the signal: answering 503 so Linear retries', answer: 'Temporal is unavailable; retry later' },
      }),
    async ready() {
      let temporal: string = 'ok';
      try {
        if (checkTemporal) await withTimeout(checkTemporal(), 2500);
      } catch (err) {
        temporal = `unreachable: ${errorText(err)}`;
      }
      return {
        ready: temporal === 'ok' && !!verifier && !dispatcher.revoked,
        temporal,
        secret: verifier ? 'configured' : 'missing',
        linearAuthorization: dispatcher.revoked ? 'revoked' : 'ok',
        appUser: ingress.appUserId ? 'known' : 'unknown (comment follow-ups ignored)',
        notices: dispatcher.notices(),
        events: Object.fromEntries(dispatcher.counts),
      };
    },
    registry: metrics.registry,
    exposeOps: deps.exposeOps ?? false,
  });

  return { app, ingress, dispatcher, metrics, registry: metrics.registry };
}

export interface StartedWebhookServer extends RunningServer {
  ingress: Ingress;
  dispatcher: IngressDispatcher;
}

/** Listens on host:port (port 0 picks a free one) once kai's app user id is known. */
export async function startWebhookServer(deps: WebhookDeps, opts: { host: string; port: number }): Promise<StartedWebhookServer> {
  const { app, ingress, dispatcher } = createWebhookApp(deps);
  await ingress.start();
  const running = await listen(createIngressServer(app, deps.limits), opts.host, opts.port);
  return {
    ...running,
    ingress,
    dispatcher,
    async close() {
      await running.close();
      await dispatcher.flush();
    },
  };
}

/** Webhook deps from kai's config (the CLI adds the SessionClient and overrides). */
export function webhookDepsFromConfig(config: KaiConfig, sessions: SessionSink, extra: Partial<WebhookDeps> = {}): WebhookDeps {
  const t = config.transports.linear;
  const identity = ingressOptionsFromConfig(config, extra.logger ?? defaultLogger);
  return {
    secret: resolveSigningSecret(t.webhook_signing_secret),
    sessions,
    path: t.webhook_path,
    bodyLimitBytes: config.limits.webhook_body_limit_bytes,
    exposeOps: opsExposed(config.metrics.host),
    ...identity,
    ...extra,
    // An explicit `appUserId: undefined` (a caller that knows none) keeps the configured lookup.
    appUserId: extra.appUserId ?? identity.appUserId,
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
