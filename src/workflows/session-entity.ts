// The session entity: one plain state object (everything continue-as-new carries, written
// once) and the logic of the message handlers. Free of Temporal, so it is unit-tested without
// a server; the workflow (session.ts) owns one instance, wires the handlers to it and runs
// the turns.
import type { IssueRef } from '../domain/issue';
import type { Workspace, WorkspaceHolder } from '../domain/workspace';
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
  /** The worker whose disk holds the issue's worktree and engine home: later turns run their
   *  workspace steps on its own queues (forgotten when it stops answering). */
  holder?: WorkspaceHolder;
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
  /** Root comment id of each session thread -> its agent session (learnt from created and
   *  prompted events; the oldest are forgotten beyond MAX_THREADS). */
  threads?: Record<string, string>;
  /** Comments in no known session thread, waiting the grace period for their AgentSessionEvent. */
  held?: PromptSignal[];
  /** The repository (configured project alias) the user picked for this issue when asked. */
  project?: string;
  /** kai asked which repository to use (elicitation); the answer in that session picks it. */
  asking?: { agentSessionId: string; options: string[]; prompt: PromptSignal };
  /** Agent sessions that already got their links (the last MAX_THREADS). */
  linkedSessions?: string[];
  /** What earlier turns asked and answered (the last few, trimmed): the recap an engine gets
   *  when its stored conversation is gone. */
  record?: TurnRecord[];
}

export interface TurnRecord {
  prompt: string;
  answer?: string;
}

/** How many earlier turns, and how much of each, the recap keeps. */
export const RECORD_TURNS = 8;
export const RECORD_CHARS = 1500;

export const MAX_THREADS = 500;

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
  oneMessageOneRun: 'one-message-one-run',
  stopIsFinal: 'stop-is-final',
  touchOnlyGiven: 'touch-only-what-kai-was-given',
  keepAlive: 'keep-held-sessions-alive',
  elicitRepository: 'elicit-repository',
  workspaceOnHolder: 'workspace-on-its-holder',
  engineHomesRemoved: 'engine-homes-removed-at-end',
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
      threads: { ...carried?.threads },
      held: [...(carried?.held ?? [])],
      linkedSessions: [...(carried?.linkedSessions ?? [])],
      record: [...(carried?.record ?? [])],
    };
    this.seen = new Set(this.state.seenDeliveryIds);
  }

  get posts(): PendingPost[] {
    return this.state.pendingPosts!;
  }

  // ---------------------------------------------------------------- handlers

  onPrompt(signal: PromptSignal): void {
    if (!this.accept(signal.deliveryId)) return;
    if (signal.commentId || signal.threadId) {
      if (this.hooks.patched(PATCHES.oneMessageOneRun)) return this.onMessage(signal);
    }
    this.enqueue(signal);
  }

  /** One message, one run: a user message reaches kai twice (a `Comment` webhook and an
   *  AgentSessionEvent, in either order, seconds apart). Both carry the comment id: the first
   *  one runs, the other is dropped. A comment runs in the session whose thread it was written
   *  in; a comment in no known session thread is held for the grace period, since its
   *  AgentSessionEvent (which names the session) may still come. */
  private onMessage(signal: PromptSignal): void {
    const held = this.held;
    const commentId = signal.commentId;
    if (signal.agentSessionId) {
      if (signal.threadId) this.learnThread(signal.threadId, signal.agentSessionId);
      if (commentId) {
        // The session event wins over its comment still waiting for it; after the comment
        // has run, the event is the duplicate.
        const waiting = held.findIndex((h) => h.commentId === commentId);
        if (waiting >= 0) held.splice(waiting, 1);
        if (!this.accept(commentKey(commentId))) return;
      }
      return this.enqueue(signal);
    }
    if (commentId && (this.seen.has(commentKey(commentId)) || held.some((h) => h.commentId === commentId))) return;
    const session = signal.threadId ? this.threads[signal.threadId] : undefined;
    if (session) {
      if (commentId) this.accept(commentKey(commentId));
      return this.enqueue({ ...signal, agentSessionId: session });
    }
    if (!commentId) return this.enqueue(signal);
    held.push(signal);
  }

  /** The grace period of a held comment is over and no session event claimed it: comment
   *  follow-ups are opt-in (every comment on an issue kai works on is a follow-up), so it runs
   *  in the session last used, as comments did before session threads were known. */
  releaseHeld(commentId: string): void {
    const at = this.held.findIndex((h) => h.commentId === commentId);
    if (at < 0) return;
    const [signal] = this.held.splice(at, 1);
    this.accept(commentKey(commentId));
    this.enqueue(signal!);
  }

  /** The answer to "which repository?": picks it for the issue and runs the request that asked. */
  answerElicitation(prompt: PromptSignal): PromptSignal {
    const asking = this.state.asking;
    if (!asking || asking.agentSessionId !== prompt.agentSessionId) return prompt;
    this.state.asking = undefined;
    const answer = prompt.body.trim().toLowerCase();
    const choice = asking.options.find((o) => o.toLowerCase() === answer);
    if (!choice) return prompt; // not an option: a new request (asked again if still needed)
    this.state.project = choice;
    return { ...asking.prompt, deliveryId: prompt.deliveryId, receivedAt: prompt.receivedAt };
  }

  /** Whether the agent session still needs its links; marks it as linked once `done`. */
  needsLinks(agentSessionId: string): boolean {
    return !this.state.linkedSessions!.includes(agentSessionId);
  }

  linked(agentSessionId: string): void {
    const list = this.state.linkedSessions!;
    if (list.includes(agentSessionId)) return;
    list.push(agentSessionId);
    if (list.length > MAX_THREADS) list.splice(0, list.length - MAX_THREADS);
  }

  /** Agent sessions kai holds now: the running turn's and those queued behind it. */
  heldSessions(): string[] {
    const ids = this.turn && !this.stopRequested ? [this.turn.agentSessionId] : [];
    for (const q of this.state.queue) {
      const id = q.kind === 'prompt' ? q.prompt.agentSessionId : q.reset.agentSessionId;
      if (id && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  get held(): PromptSignal[] {
    return this.state.held!;
  }

  private get threads(): Record<string, string> {
    return this.state.threads!;
  }

  private learnThread(threadId: string, agentSessionId: string): void {
    const threads = this.threads;
    delete threads[threadId];
    threads[threadId] = agentSessionId;
    const keys = Object.keys(threads);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_THREADS))) delete threads[k];
  }

  private enqueue(signal: PromptSignal): void {
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
      heldComments: this.held.length,
      holder: s.holder?.worker,
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

  /** The holder stopped answering: its worktree is out of reach, the next prepare (on the
   *  shared queue) picks a new holder. Returns the one forgotten. */
  forgetHolder(): WorkspaceHolder | undefined {
    const lost = this.state.holder;
    this.state.holder = undefined;
    this.state.workspace = undefined;
    return lost;
  }

  forgetResumeTokens(): void {
    this.state.resumeTokens = {};
  }

  /** Keeps one finished turn for the recap (bounded in count and size). */
  recordTurn(prompt: string, answer: string | undefined): void {
    const trim = (text: string) => (text.length > RECORD_CHARS ? `${text.slice(0, RECORD_CHARS)}…` : text);
    const record = this.state.record ?? (this.state.record = []);
    record.push(answer ? { prompt: trim(prompt), answer: trim(answer) } : { prompt: trim(prompt) });
    if (record.length > RECORD_TURNS) record.splice(0, record.length - RECORD_TURNS);
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
    return {
      ...this.state,
      seenDeliveryIds: [...this.state.seenDeliveryIds],
      pendingPosts: [...this.posts],
      threads: { ...this.threads },
      held: [...this.held],
      linkedSessions: [...this.state.linkedSessions!],
      record: [...(this.state.record ?? [])],
      generation: this.state.generation + 1,
    };
  }
}

/** Comment ids share the bounded seen list with delivery ids, under their own prefix. */
function commentKey(commentId: string): string {
  return `comment:${commentId}`;
}

/** Items in the queue that belong to a stop (for the "dropped" note). */
export function describeDropped(dropped: QueueItem[]): string {
  const prompts = dropped.filter((d) => d.kind === 'prompt').length;
  if (prompts === 0) return '';
  return prompts === 1 ? '1 queued message was dropped.' : `${prompts} queued messages were dropped.`;
}
