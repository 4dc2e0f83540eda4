// The session's state and its transitions, apart from Temporal: plain, serialisable and
// unit-testable. The workflow owns one instance and passes `snapshot()` to continue-as-new.
import type { PromptSignal, ResetSignal, StopSignal } from './signals';
import type { IssueRef, SessionPhase, SessionStatus } from './types';
import type { Workspace } from '../activities/types';

export type QueueItem =
  | { kind: 'prompt'; prompt: PromptSignal; acked: boolean }
  | { kind: 'reset'; reset: ResetSignal; acked: boolean };

/** What survives continue-as-new. */
export interface CarriedState {
  issue?: IssueRef;
  queue: QueueItem[];
  seenDeliveryIds: string[];
  resumeTokens: Record<string, string>;
  workspace?: Workspace;
  issueStarted: boolean;
  externalUrlsSet: boolean;
  engine?: string;
  model?: string;
  prUrl?: string;
  turns: number;
  lastError?: string;
  lastAgentSessionId?: string;
  generation: number;
}

export const DEFAULT_MAX_SEEN_DELIVERIES = 1000;

export class SessionState {
  phase: SessionPhase = 'idle';
  issue?: IssueRef;
  queue: QueueItem[];
  resumeTokens: Record<string, string>;
  workspace?: Workspace;
  issueStarted: boolean;
  externalUrlsSet: boolean;
  engine?: string;
  model?: string;
  prUrl?: string;
  turns: number;
  lastError?: string;
  /** The agent session of the running turn, else the last one. */
  agentSessionId?: string;
  generation: number;
  private seen: string[];
  private seenSet: Set<string>;

  constructor(
    readonly issueId: string,
    carried?: CarriedState,
    private readonly maxSeen = DEFAULT_MAX_SEEN_DELIVERIES,
  ) {
    this.issue = carried?.issue;
    this.queue = carried?.queue ?? [];
    this.resumeTokens = carried?.resumeTokens ?? {};
    this.workspace = carried?.workspace;
    this.issueStarted = carried?.issueStarted ?? false;
    this.externalUrlsSet = carried?.externalUrlsSet ?? false;
    this.engine = carried?.engine;
    this.model = carried?.model;
    this.prUrl = carried?.prUrl;
    this.turns = carried?.turns ?? 0;
    this.lastError = carried?.lastError;
    this.agentSessionId = carried?.lastAgentSessionId;
    this.generation = carried?.generation ?? 0;
    this.seen = [...(carried?.seenDeliveryIds ?? [])].slice(-maxSeen);
    this.seenSet = new Set(this.seen);
  }

  /** Records a delivery id; false when it was seen before (a redelivery to drop). */
  accept(deliveryId: string): boolean {
    if (this.seenSet.has(deliveryId)) return false;
    this.seen.push(deliveryId);
    this.seenSet.add(deliveryId);
    while (this.seen.length > this.maxSeen) this.seenSet.delete(this.seen.shift()!);
    return true;
  }

  hasSeen(deliveryId: string): boolean {
    return this.seenSet.has(deliveryId);
  }

  enqueuePrompt(prompt: PromptSignal): QueueItem {
    if (prompt.issue) this.issue = { ...this.issue, ...prompt.issue };
    const item: QueueItem = { kind: 'prompt', prompt, acked: false };
    this.queue.push(item);
    return item;
  }

  enqueueReset(reset: ResetSignal): QueueItem {
    const item: QueueItem = { kind: 'reset', reset, acked: false };
    this.queue.push(item);
    return item;
  }

  /** Empties the queue (on stop) and returns what was dropped. */
  dropQueue(): QueueItem[] {
    const dropped = this.queue;
    this.queue = [];
    return dropped;
  }

  forgetResumeTokens(): void {
    this.resumeTokens = {};
  }

  snapshot(): CarriedState {
    return {
      issue: this.issue,
      queue: this.queue,
      seenDeliveryIds: [...this.seen],
      resumeTokens: this.resumeTokens,
      workspace: this.workspace,
      issueStarted: this.issueStarted,
      externalUrlsSet: this.externalUrlsSet,
      engine: this.engine,
      model: this.model,
      prUrl: this.prUrl,
      turns: this.turns,
      lastError: this.lastError,
      lastAgentSessionId: this.agentSessionId,
      generation: this.generation + 1,
    };
  }

  status(): SessionStatus {
    return {
      issueId: this.issueId,
      issueIdentifier: this.issue?.identifier,
      phase: this.phase,
      agentSessionId: this.agentSessionId,
      queuedPrompts: this.queue.filter((q) => q.kind === 'prompt').length,
      queue: this.queue.map((q) =>
        q.kind === 'prompt'
          ? { kind: 'prompt', deliveryId: q.prompt.deliveryId, agentSessionId: q.prompt.agentSessionId }
          : { kind: 'reset', deliveryId: q.reset.deliveryId, agentSessionId: q.reset.agentSessionId },
      ),
      resumeTokens: Object.fromEntries(Object.keys(this.resumeTokens).map((k) => [k, true])),
      engine: this.engine,
      prUrl: this.prUrl,
      turns: this.turns,
      lastError: this.lastError,
      generation: this.generation,
    };
  }
}

/** Items in the queue that belong to a stop (for the "dropped" note). */
export function describeDropped(dropped: QueueItem[]): string {
  const prompts = dropped.filter((d) => d.kind === 'prompt').length;
  if (prompts === 0) return '';
  return prompts === 1 ? '1 queued message was dropped.' : `${prompts} queued messages were dropped.`;
}

export type { StopSignal };
