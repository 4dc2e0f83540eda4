// What a session workflow is started with: its options (from config) and, after
// continue-as-new, the state it carries. Plain data.
import type { CarriedState } from './session-entity';

export interface SessionOptions {
  /** A session with nothing to do completes after this long. */
  idleTimeoutMs: number;
  engineTimeoutMs: number;
  engineHeartbeatTimeoutMs: number;
  /** Queue of the engine workers; defaults to `<task queue>-engine`. */
  engineTaskQueue?: string;
  /** Temporal Web UI base URL, for the session's link in Linear. */
  webUiBaseUrl?: string;
  cleanupWorktreeOnEnd: boolean;
  maxSeenDeliveries: number;
  /** How long a comment in no known session thread waits for its AgentSessionEvent (which
   *  names the session) before it runs in the session last used. Linear sends the two webhooks
   *  of one message in either order, up to a few seconds apart. */
  commentGraceMs: number;
  /** A session kai holds (running, or queued behind another turn) gets an activity at least
   *  this often, so Linear never marks it stale (Linear does after 30 min without activity). */
  keepAliveMs: number;
  /** An issue assigned (not delegated) to kai counts as given to it: kai moves and labels it. */
  assigneeHolds: boolean;
  /** Per activity class: how long one attempt may take and how many attempts it gets. */
  linearTimeoutMs: number;
  linearMaxAttempts: number;
  gitTimeoutMs: number;
  gitMaxAttempts: number;
  githubTimeoutMs: number;
  githubMaxAttempts: number;
  filesTimeoutMs: number;
  filesMaxAttempts: number;
  engineResolveTimeoutMs: number;
  engineResolveMaxAttempts: number;
  engineMaxAttempts: number;
  /** How long a step on the worker that holds the issue's workspace waits to be picked up
   *  before that worker counts as gone and the turn moves to another (schedule-to-start). */
  holderStartTimeoutMs: number;
  /** The same for an engine run, which may also wait for a free engine slot on the holder. */
  engineStartTimeoutMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  idleTimeoutMs: 24 * 60 * 60 * 1000,
  engineTimeoutMs: 2 * 60 * 60 * 1000,
  engineHeartbeatTimeoutMs: 60 * 1000,
  cleanupWorktreeOnEnd: true,
  maxSeenDeliveries: 1000,
  commentGraceMs: 5000,
  keepAliveMs: 20 * 60 * 1000,
  assigneeHolds: true,
  linearTimeoutMs: 60 * 1000,
  linearMaxAttempts: 8,
  gitTimeoutMs: 10 * 60 * 1000,
  gitMaxAttempts: 5,
  githubTimeoutMs: 2 * 60 * 1000,
  githubMaxAttempts: 8,
  filesTimeoutMs: 10 * 60 * 1000,
  filesMaxAttempts: 5,
  engineResolveTimeoutMs: 60 * 1000,
  engineResolveMaxAttempts: 5,
  engineMaxAttempts: 3,
  holderStartTimeoutMs: 60 * 1000,
  engineStartTimeoutMs: 15 * 60 * 1000,
};

export interface SessionInput {
  issueId: string;
  options?: Partial<SessionOptions>;
  /** State handed over by continue-as-new. */
  carried?: CarriedState;
}

export interface SessionResult {
  issueId: string;
  turns: number;
  prUrl?: string;
}
