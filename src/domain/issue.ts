// The Linear issue as kai knows it: what ingress learns from a webhook, and what the Linear
// activities load for a turn. Types only: imported by workflows, activities and ingress alike.

export interface Attachment {
  url: string;
  name?: string;
  contentType?: string;
  size?: number;
}

/** The part of a Linear issue that ingress knows from the webhook. */
export interface IssueRef {
  id: string;
  identifier?: string;
  title?: string;
  url?: string;
  teamId?: string;
  teamKey?: string;
  projectId?: string;
}

/** The issue as the Linear activities load it for a turn. */
export interface IssueContext {
  id: string;
  identifier: string;
  title: string;
  description?: string;
  url: string;
  teamId: string;
  teamKey?: string;
  projectId?: string;
  labels: string[];
  /** Linear workflow state type: triage, backlog, unstarted, started, completed, canceled. */
  stateType?: string;
  stateName?: string;
  priority?: number;
  /** Linear user the issue is delegated to (an agent) and its assignee (a person, or kai in
   *  workspaces that assign apps). */
  delegateId?: string;
  assigneeId?: string;
  /** Whether kai's app user is the delegate / the assignee; undefined when kai's id is unknown. */
  kaiIsDelegate?: boolean;
  kaiIsAssignee?: boolean;
  /** The repository (configured project alias) a user chose for this issue when kai asked, as
   *  kai recorded it on the issue in Linear; a later workflow for the issue works there too.
   *  Engine choice (project_engines, the project's default_engine) follows it. */
  repository?: string;
}

/** A Linear agent session with no issue (opened from a chat, not an issue) is answered by a
 *  small workflow keyed by its agent session id instead of an issue id. */
const NO_ISSUE_PREFIX = 'no-issue:';

export function noIssueKey(agentSessionId: string): string {
  return `${NO_ISSUE_PREFIX}${agentSessionId}`;
}

export function isNoIssueKey(issueId: string): boolean {
  return issueId.startsWith(NO_ISSUE_PREFIX);
}

/** The agent session id a no-issue key was made from. */
export function noIssueSessionId(key: string): string {
  return key.slice(NO_ISSUE_PREFIX.length);
}
