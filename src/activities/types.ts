// Typed interfaces of every activity the session workflow calls. The workflow depends on
// these only; each group is built by a factory `createXActivities(deps)` in its folder.
import type { Attachment, IssueContext } from '../domain/issue';
import type { ExternalUrl, PlanItem } from '../domain/linear';
import type { CommitPushResult, PublishResult, PullRequestRef, Workspace, WorkspaceState } from '../domain/workspace';

// Domain types the activity interfaces speak of, re-exported for their importers.
export type { CommitPushResult, PublishResult, PullRequestRef, Workspace, WorkspaceState };

// ---------------------------------------------------------------- Linear
export interface AcknowledgeInput {
  agentSessionId: string;
  /** Client-chosen activity id (uuid4 from the workflow): retries never post twice. */
  activityId: string;
  body: string;
  /** Set on the session alongside the acknowledgement (the Web UI link on the first one). */
  externalUrls?: ExternalUrl[];
}

export interface UpdateSessionInput {
  agentSessionId: string;
  plan?: PlanItem[];
  addedExternalUrls?: ExternalUrl[];
}

export interface PostFinalInput {
  agentSessionId: string;
  /** Id of the one final activity (uuid4 from the workflow). */
  activityId: string;
  kind: 'response' | 'error';
  body: string;
  /** uuid4s from the workflow for the leading non-ephemeral thought parts of a long message
   *  (`messageParts(body, max).length - 1` of them); without enough, the final is trimmed. */
  partIds?: string[];
  /** Folded into the same session update when given (saves a request). */
  plan?: PlanItem[];
  addedExternalUrls?: ExternalUrl[];
}

export interface ElicitInput {
  agentSessionId: string;
  /** uuid4 from the workflow. */
  activityId: string;
  /** The question, shown as a comment by kai in the session thread. */
  body: string;
  /** The choices Linear offers with the `select` signal; the answer comes back as a `prompted` event. */
  options: string[];
}

/** Asking the user (Linear's `elicitation` activity); the session shows as awaiting input. */
export interface LinearElicitation {
  linearElicit(input: ElicitInput): Promise<void>;
}

export interface TransitionInput {
  issueId: string;
  /** `started`: move a not-yet-started issue to the team's first started state.
   *  `success`: move it to the configured success state, else the first completed one. */
  to: 'started' | 'success';
}

export interface TransitionResult {
  changed: boolean;
  from?: string;
  to?: string;
}

export interface LinkPullRequestInput {
  issueId: string;
  agentSessionId: string;
  url: string;
  title: string;
}

export interface RecordOutcomeInput {
  issue: IssueContext;
  /** processed: work began; completed / failed: how the turn ended. */
  outcome: 'processed' | 'completed' | 'failed';
}

export interface LinearActivities {
  linearAcknowledge(input: AcknowledgeInput): Promise<void>;
  linearLoadIssue(input: { issueId: string }): Promise<IssueContext>;
  linearUpdateSession(input: UpdateSessionInput): Promise<void>;
  linearPostFinal(input: PostFinalInput): Promise<void>;
  linearTransitionIssue(input: TransitionInput): Promise<TransitionResult>;
  linearLinkPullRequest(input: LinkPullRequestInput): Promise<void>;
  /** Opt-in extras (auto labels, sub-issues, estimates); does nothing when all are disabled. */
  linearRecordOutcome(input: RecordOutcomeInput): Promise<void>;
}

// ---------------------------------------------------------------- Engines
export interface ResolveEngineInput {
  issue: IssueContext;
  /** The message that started this turn. */
  body: string;
  /** Linear's promptContext, when the event carried one. */
  promptContext?: string;
  /** True when this continues a conversation (a follow-up). */
  followUp: boolean;
  /** Paths of files saved for the engine, to mention in the prompt. */
  files?: string[];
}

export interface EngineSelection {
  engine: string;
  model?: string;
  reasoning?: string;
  /** The prompt for the engine, directives stripped. */
  prompt: string;
}

export interface EngineRunInput extends EngineSelection {
  cwd: string;
  resumeToken?: string;
  /** What happened in earlier turns; prepended when the engine must start a fresh conversation. */
  recap?: string;
  agentSessionId: string;
  issueId: string;
  issueIdentifier: string;
}

export interface EngineRunResult {
  ok: boolean;
  answer: string;
  resumeToken?: string;
  error?: string;
  usage?: Record<string, unknown>;
  /** The engine published its own todo list, which replaced kai's lifecycle plan in Linear. */
  planPublished?: boolean;
  /** The conversation to resume was gone: the run started a fresh one (with the recap). */
  resumeLost?: boolean;
  /** What the engine was denied or could not do (also said at the end of `answer`). */
  limitations?: string[];
}

export interface EngineActivities {
  engineResolve(input: ResolveEngineInput): Promise<EngineSelection>;
  /** Long: streams progress straight to Linear, heartbeats, honours cancellation. */
  engineRun(input: EngineRunInput): Promise<EngineRunResult>;
  /** Removes the issue's engine homes on this worker (the session ended; no token names them). */
  engineRemoveHomes(input: { issueId: string }): Promise<void>;
}

// ---------------------------------------------------------------- Git and GitHub
export interface PublishInput {
  issue: IssueContext;
  workspace: Workspace;
  /** What the engine said it did; summarised into the commit message and PR body. */
  summary: string;
}

export interface CommitPushInput {
  issue: IssueContext;
  workspace: Workspace;
  summary: string;
}

export interface OpenPullRequestInput {
  issue: IssueContext;
  workspace: Workspace;
  summary: string;
  commitSha?: string;
}

export interface GitActivities {
  /** `project`: the configured project alias the user picked when asked (elicitation). When no
   *  repository is known for the issue, or several could serve, fails with `NotConfigured` whose
   *  details[0] is `{ projects: string[] }` (the configured aliases): the workflow then asks. */
  gitPrepareWorktree(input: { issue: IssueContext; title: string; project?: string }): Promise<Workspace>;
  /** Commit, push and PR in one activity: kept registered for histories scheduled before the split. */
  gitPublish(input: PublishInput): Promise<PublishResult>;
  /** Commits what the engine changed and pushes the branch (git only). */
  gitCommitAndPush(input: CommitPushInput): Promise<CommitPushResult>;
  /** Opens the branch's pull request or updates the open one (GitHub only). */
  githubOpenPullRequest(input: OpenPullRequestInput): Promise<PullRequestRef | undefined>;
  gitDescribe(input: { workspace: Workspace }): Promise<WorkspaceState>;
  gitCleanup(input: { workspace: Workspace }): Promise<void>;
}

// ---------------------------------------------------------------- Files
export interface FileCommandInput {
  op: 'put' | 'get';
  path: string;
  attachments: Attachment[];
  workspace: Workspace;
  agentSessionId: string;
}

export interface FilesActivities {
  /** Saves a prompt's attachments in the worktree; returns the saved paths (relative). */
  filesDownloadAttachments(input: { attachments: Attachment[]; workspace: Workspace }): Promise<string[]>;
  /** `/file put|get`: returns the reply to post. */
  filesCommand(input: FileCommandInput): Promise<string>;
}

export type KaiActivities = LinearActivities & EngineActivities & GitActivities & FilesActivities;
/** Everything the session workflow calls. */
export type SessionActivities = KaiActivities;
