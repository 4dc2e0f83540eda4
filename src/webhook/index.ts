export { createWebhookApp, startWebhookServer, webhookDepsFromConfig, type WebhookDeps, type WebhookApp, type StartedWebhookServer } from './app';
export { IngressDispatcher, SignalTimeoutError, deliveryOutcome, type SessionSink, type DispatchResult, type DispatcherOptions, type DispatchMeta } from './dispatch';
export { routeLinearEvent, type RouteContext, type RouteDecision, type IngressNotice, type CommentFollowUp } from './route';
export { parseLinearPayload, linearEventType, type LinearEvent } from './payloads';
export { DeliveryVerifier, readRawBody, resolveSigningSecret, DEFAULT_BODY_LIMIT_BYTES } from './verify';
export type { RunningServer } from './http';
