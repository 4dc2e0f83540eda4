// The session entity: one plain state object (everything continue-as-new carries, written
// once) and the logic of the message handlers. Free of Temporal, so it is unit-tested without
// a server; the workflow (session.ts) owns one instance, wires the handlers to it and runs
// the turns.
import type { IssueRef } from '../domain/issue';
import type { Workspace } from '../domain/workspace';
import { parseCommand } from './commands';
import { IDLE_STOP_TEXT, helpText } from './messages';
import type { PromptSignal, ResetSignal, StopSignal } from './signals';
import type { SessionPhase, SessionStatus } from './types';

export type QueueItem =
  | { kind: 'prompt'; prompt: PromptSignal; acked: boolean }
  | { kind: 'reset'; reset: ResetSignal; acked: boolean };

/** Something to post to Linear that must not wait for the running turn. */
export type PendingPost =
  | { kind: 'ack'; deliveryId: string; queuedBehind: boolean }
  | { kind: 'reply'; agentSessionId: string; body: string };

/** Everything a session carries across continue-as-new. */
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
  /** The agent session of the running turn, else of the last one. */
  lastAgentSessionId?: string;
  generation: number;
  /** Acknowledgements and replies accepted but not posted yet. */
  pendingPosts?: PendingPost[];
}

export const DEFAULT_MAX_SEEN_DELIVERIES = 1000;

/** What the entity needs from the workflow around it. */
export interface SessionHooks {
  /** Temporal's patched(): whether a guarded change applies to this history. */
  patched(patchId: string): boolean;
  warn(message: string, attributes?: Record<string, unknown>): void;
}

/** Workflow changes guarded for histories recorded before them (see test/workflows/replay.test.ts). */
export const PATCHES = {
  helpAtOnce: 'help-answered-at-once',
  planShowsEachStep: 'plan-shows-each-step',
  gitPushThenPullRequest: 'git-push-then-pull-request',
  publishFinishesAfterStop: 'publish-finishes-after-stop',
  nothingLostAtEnd: 'nothing-lost-at-end',
} as const;

/** The running turn, as the stop handler sees it. */
export interface RunningTurn {
  agentSessionId: string;
  cancel(): void;
}

export class Session {
  readonly state: CarriedState;
  phase: SessionPhase = 'idle';
  turn?: RunningTurn;
  /** Set by a stop while a turn runs; read when the turn ends. */
  stopRequested?: { agentSessionId: string };
  private readonly seen: Set<string>;

  constructor(
    readonly issueId: string,
    carried: CarriedState | undefined,
    private readonly hooks: SessionHooks,
    private readonly maxSeen = DEFAULT_MAX_SEEN_DELIVERIES,
  ) {
    this.state = {
      queue: [],
      resumeTokens: {},
      issueStarted: false,
      externalUrlsSet: false,
      turns: 0,
      generation: 0,
      ...carried,
      seenDeliveryIds: [...(carried?.seenDeliveryIds ?? [])].slice(-maxSeen),
      pendingPosts: [...(carried?.pendingPosts ?? [])],
    };
    this.seen = new Set(this.state.seenDeliveryIds);
  }

  get posts(): PendingPost[] {
    return this.state.pendingPosts!;
  }

  // ---------------------------------------------------------------- handlers

  onPrompt(signal: PromptSignal): void {
    if (!this.accept(signal.deliveryId)) return;
    // Issue-level events (comments) carry no agent session: answer in the session last used.
    const prompt = !signal.agentSessionId && this.state.lastAgentSessionId
      ? { ...signal, agentSessionId: this.state.lastAgentSessionId }
      : signal;
    if (!prompt.agentSessionId) {
      this.hooks.warn('Dropping a prompt that names no agent session on an issue that has none', { deliveryId: prompt.deliveryId });
      return;
    }
    // /help needs no turn: answer it at once rather than behind a running engine.
    if (parseCommand(prompt.body)?.kind === 'help' && this.hooks.patched(PATCHES.helpAtOnce)) {
      this.posts.push({ kind: 'reply', agentSessionId: prompt.agentSessionId, body: helpText(this.state.engine, this.state.model) });
      return;
    }
    if (prompt.issue) this.state.issue = { ...this.state.issue, ...prompt.issue };
    this.state.queue.push({ kind: 'prompt', prompt, acked: false });
    this.posts.push({ kind: 'ack', deliveryId: prompt.deliveryId, queuedBehind: this.turn !== undefined });
  }

  onReset(signal: ResetSignal): void {
    if (!this.accept(signal.deliveryId)) return;
    const reset = !signal.agentSessionId && this.state.lastAgentSessionId
      ? { ...signal, agentSessionId: this.state.lastAgentSessionId }
      : signal;
    // While idle the reset is answered by its own response right away: no ack.
    this.state.queue.push({ kind: 'reset', reset, acked: !this.turn });
    if (this.turn) this.posts.push({ kind: 'ack', deliveryId: reset.deliveryId, queuedBehind: true });
  }

  onStop(stop: StopSignal): void {
    if (!this.accept(stop.deliveryId)) return;
    if (this.turn) {
      this.stopRequested = { agentSessionId: stop.agentSessionId };
      this.turn.cancel();
    } else if (stop.agentSessionId) {
      // An issue-level stop (delegate removed, issue canceled) while idle needs no answer.
      this.posts.push({ kind: 'reply', agentSessionId: stop.agentSessionId, body: IDLE_STOP_TEXT });
    }
  }

  status(): SessionStatus {
    const s = this.state;
    return {
      issueId: this.issueId,
      issueIdentifier: s.issue?.identifier,
      phase: this.phase,
      agentSessionId: s.lastAgentSessionId,
      queuedPrompts: s.queue.filter((q) => q.kind === 'prompt').length,
      queue: s.queue.map((q) =>
        q.kind === 'prompt'
          ? { kind: 'prompt', deliveryId: q.prompt.deliveryId, agentSessionId: q.prompt.agentSessionId }
          : { kind: 'reset', deliveryId: q.reset.deliveryId, agentSessionId: q.reset.agentSessionId },
      ),
      resumeTokens: Object.fromEntries(Object.keys(s.resumeTokens).map((k) => [k, true])),
      engine: s.engine,
      prUrl: s.prUrl,
      turns: s.turns,
      lastError: s.lastError,
      generation: s.generation,
      stopRequested: this.stopRequested !== undefined,
      pendingPosts: this.posts.length,
    };
  }

  // ---------------------------------------------------------------- transitions

  /** Records a delivery id; false when it was seen before (a redelivery to drop). */
  accept(deliveryId: string): boolean {
    if (this.seen.has(deliveryId)) return false;
    const seen = this.state.seenDeliveryIds;
    seen.push(deliveryId);
    this.seen.add(deliveryId);
    while (seen.length > this.maxSeen) this.seen.delete(seen.shift()!);
    return true;
  }

  /** The queued item an acknowledgement is for, while it still waits in the queue. */
  queued(deliveryId: string): QueueItem | undefined {
    return this.state.queue.find((q) => (q.kind === 'prompt' ? q.prompt.deliveryId : q.reset.deliveryId) === deliveryId);
  }

  /** Empties the queue (on stop) and returns what was dropped. */
  dropQueue(): QueueItem[] {
    return this.state.queue.splice(0);
  }

  forgetResumeTokens(): void {
    this.state.resumeTokens = {};
  }

  /** Takes in what Linear says of the issue; true when its identifier or team changed. */
  rememberIssue(issue: IssueRef): boolean {
    const before = this.state.issue;
    this.state.issue = {
      ...before,
      id: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      url: issue.url,
      teamId: issue.teamId,
      teamKey: issue.teamKey,
      projectId: issue.projectId,
    };
    return before?.identifier !== issue.identifier || before?.teamId !== issue.teamId;
  }

  /** The state for the next run: nothing accepted is left behind. */
  snapshot(): CarriedState {
    return { ...this.state, seenDeliveryIds: [...this.state.seenDeliveryIds], pendingPosts: [...this.posts], generation: this.state.generation + 1 };
  }
}

/** Items in the queue that belong to a stop (for the "dropped" note). */
export function describeDropped(dropped: QueueItem[]): string {
  const prompts = dropped.filter((d) => d.kind === 'prompt').length;
  if (prompts === 0) return '';
  return prompts === 1 ? '1 queued message was dropped.' : `${prompts} queued messages were dropped.`;
}
