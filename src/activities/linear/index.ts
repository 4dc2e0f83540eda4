// Linear: the activities the workflow calls, the progress reporter engine runs write to, and
// the uploader the file commands use, all over one budgeted gateway per workspace.
export { createLinearActivities } from './activities';
export type { LinearActivitiesDeps, LinearMessageConfig, LinearOutcomeConfig } from './activities';
export { createLinearProgress, LinearProgressSink } from './progress';
export type { LinearProgressDeps } from './progress';
export { createLinearUploader } from './uploader';
export type { LinearUploader, UploadInput } from './uploader';
export { createLinearGateway, LinearGateway } from './gateway';
export type { LinearGatewayOptions, AccessTokenSource, RenewableTokenSource } from './gateway';
export { STATIC_TOKEN_REFUSED } from './gateway';
export { classifyLinearError, toActivityFailure, isAuthFailure } from './errors';
export { fitMessage, splitMessage, trimMessage, messageParts } from './message';
export { postActivity } from './post-activity';
export type { ActivityWrite, PostOutcome } from './post-activity';
export { chooseTransition } from './transitions';
export { parseChecklist, estimateFromChecklist } from './checklist';
export { RequestBudget, BudgetExhausted } from './budget';
