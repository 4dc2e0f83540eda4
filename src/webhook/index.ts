// `kai webhook`: the direct HTTP adapter over src/ingress (re-exported here for callers).
export { createWebhookApp, startWebhookServer, webhookDepsFromConfig, type WebhookDeps, type WebhookApp, type StartedWebhookServer } from './app';
export { IngressDispatcher, SignalTimeoutError, deliveryOutcome, type SessionSink, type DispatchResult, type DispatcherOptions, type DispatchMeta } from '../ingress/dispatch';
export { routeLinearEvent, type RouteContext, type RouteDecision, type IngressNotice } from '../ingress/route';
export { parseLinearPayload, linearEventType, type LinearEvent } from '../ingress/payloads';
export { DeliveryVerifier, readRawBody, resolveSigningSecret, DEFAULT_BODY_LIMIT_BYTES } from '../ingress/verify';
export type { RunningServer } from '../ingress/http';
