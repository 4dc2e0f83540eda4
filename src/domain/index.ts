// kai's domain vocabulary, one home for what workflows, activities and ingress all speak of.
export type { Attachment, IssueContext, IssueRef } from './issue';
export type { ExternalUrl, PlanItem, PlanStatus } from './linear';
export type { CommitPushResult, PublishResult, PullRequestRef, Workspace, WorkspaceState } from './workspace';
export { ErrorTypes, PERMANENT_ERROR_TYPES, type ErrorType } from './errors';
export {
  extractDirectives,
  labelDirectives,
  parseTitle,
  type DirectiveKey,
  type Directives,
  type ParsedTitle,
} from './directives';
