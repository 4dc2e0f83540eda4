// Plain data exchanged between the session workflow, its activities and its clients.
// Types only: safe to import from workflow code.

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
}

export type PlanStatus = 'pending' | 'inProgress' | 'completed' | 'canceled';
export interface PlanItem {
  content: string;
  status: PlanStatus;
}

export interface ExternalUrl {
  label: string;
  url: string;
}

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
}
