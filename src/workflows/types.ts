// What clients learn of a session workflow through its status query. Types only.
// The domain vocabulary (issue, workspace, plan, attachments) lives in src/domain/.
export type { Attachment, ExternalUrl, IssueContext, IssueRef, PlanItem, PlanStatus } from '../domain';

export type SessionPhase =
  | 'idle'
  | 'acknowledging'
  | 'planning'
  | 'preparing'
  | 'running'
  | 'publishing'
  | 'responding'
  | 'stopping'
  | 'completed';

export interface SessionStatus {
  issueId: string;
  issueIdentifier?: string;
  phase: SessionPhase;
  /** The agent session of the turn running now, else of the last turn. */
  agentSessionId?: string;
  queuedPrompts: number;
  queue: Array<{ deliveryId: string; agentSessionId: string; kind: 'prompt' | 'reset' }>;
  /** Per engine: whether kai holds a resume token (the token itself stays private). */
  resumeTokens: Record<string, boolean>;
  engine?: string;
  prUrl?: string;
  turns: number;
  lastError?: string;
  /** How many continue-as-new generations this session has been through. */
  generation: number;
  /** A Stop arrived during the running turn (it ends at its next consistent point). */
  stopRequested: boolean;
  /** Replies and acknowledgements accepted but not yet posted to Linear. */
  pendingPosts: number;
  /** Comments waiting the grace period for their AgentSessionEvent. */
  heldComments: number;
  /** The worker that holds the issue's worktree and engine home, once one does. */
  holder?: string;
}
