// Linear: the activities the workflow calls, the progress reporter engine runs write to, and
// the uploader the file commands use, all over one budgeted gateway per workspace.
export { createLinearActivities } from './activities';
export type { LinearActivitiesDeps, LinearMessageConfig, LinearOutcomeConfig } from './activities';
export { createLinearProgress, LinearProgressSink } from './progress';
export type { LinearProgressDeps } from './progress';
export { createLinearUploader } from './uploader';
export type { LinearUploader, UploadInput } from './uploader';
export { createLinearGateway, LinearGateway } from './gateway';
export type { LinearGatewayOptions, AccessTokenSource } from './gateway';
export { classifyLinearError, toActivityFailure } from './errors';
export { fitMessage, splitMessage, trimMessage } from './message';
export { partActivityId, uuidFromName } from './ids';
export { chooseTransition } from './transitions';
export { parseChecklist, estimateFromChecklist } from './checklist';
export { RequestBudget, BudgetExhausted } from './budget';
