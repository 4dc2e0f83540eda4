// The Linear emulator: a loopback stand-in for api.linear.app that tests, the offline demo and
// benchmarks drive through the real @linear/sdk.
export { startLinearEmulator } from './server';
export { ALL_WEBHOOK_CATEGORIES } from './server';
export type { LinearEmulator, LinearEmulatorOptions, RecordedRequest, WebhookCategory, UserMessageDelivery } from './server';
export { seedStandardWorkspace } from './seed';
export type { StandardWorkspace, SeedOptions } from './seed';
export { LinearStore, LinearUserError, entityNotFound, DEFAULT_STATES, UUID_V4, sessionMarker } from './store';
export type { StateType } from './store';
export { signWebhookBody, WebhookSender } from './webhooks';
export type { WebhookPayload, DeliveryResult, AgentSessionEventPayload, CommentEventPayload, IssueEventPayload, AppUserNotificationPayload, AppUserNotificationType } from './webhooks';
export type { EmulatorSnapshot, SnapshotSession, SnapshotIssue, SnapshotActivity } from './snapshot';
export type { StatusFault, LatencyFault, RateLimitConfig } from './faults';
export { linearEmulatorSchema, LINEAR_EMULATOR_SDL } from './schema';
