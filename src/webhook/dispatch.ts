// Carries out route decisions against the session workflows: signal (with a deadline, so a
// caller can answer 503 in time), coalesce comment follow-ups per issue within the debounce
// window, remember notices for readiness, drop a delivery already handed over (same delivery id,
// by either path) and time each signal. One per process, shared by webhook and ingester.
import type { Logger } from 'pino';
import type { SessionSignal } from '../client';
import { kaiMetrics, observeSignalLatency, type DeliveryOutcome, type DeliverySource, type KaiMetrics } from '../observability/metrics';
import type { PromptSignal } from '../workflows/signals';
import type { CommentFollowUp, IngressNotice, RouteDecision } from './route';

/** What ingress needs of SessionClient (tests may pass a recording stub). */
export interface SessionSink {
  send(event: SessionSignal): Promise<unknown>;
  sendIfRunning(event: SessionSignal): Promise<boolean>;
  /** The workflow's status; used for the agent session of issue-level events. */
  status?(issueId: string): Promise<{ agentSessionId?: string }>;
}

export interface DispatcherOptions {
  sessions: SessionSink;
  logger: Logger;
  /** Window in which one issue's comments become one prompt (comment_followups_debounce_seconds). */
  commentDebounceMs: number;
  /** Longest wait for Temporal to accept a signal before giving up (caller answers 503). */
  signalTimeoutMs?: number;
  /** Longest wait for a status query when looking up an issue's current agent session. */
  statusTimeoutMs?: number;
  /** kai's app user id, if configured; otherwise learnt from AgentSessionEvent payloads. */
  appUserId?: string;
  /** Where signal latencies are recorded; the process-wide metrics by default. */
  metrics?: KaiMetrics;
}

/** Where a decision came from, for deduplication and the signal latency histogram. */
export interface DispatchMeta {
  source: DeliverySource;
  /** Linear-Delivery (or the row's stand-in): a second dispatch of it is answered `duplicate`. */
  deliveryId?: string;
  /** When kai received the event (epoch ms): the start of kai_signal_latency_seconds. */
  receivedAt?: number;
}

export type DispatchResult =
  | { outcome: 'signalled'; detail: string }
  | { outcome: 'not-running'; detail: string }
  | { outcome: 'ignored'; detail: string }
  | { outcome: 'notice'; detail: string }
  /** Already handed over in this process (or in flight): nothing sent again. */
  | { outcome: 'duplicate'; detail: string };

/** kai_deliveries_total's outcome for what the dispatcher did with a verified delivery. */
export function deliveryOutcome(result: DispatchResult): DeliveryOutcome {
  switch (result.outcome) {
    case 'signalled':
      return 'signaled';
    case 'duplicate':
      return 'duplicate';
    case 'not-running':
    case 'ignored':
    case 'notice':
      return 'ignored';
  }
}

export class SignalTimeoutError extends Error {
  constructor(ms: number) {
    super(`Temporal did not accept the signal within ${ms} ms`);
    this.name = 'SignalTimeoutError';
  }
}

interface CommentBatch {
  issueId: string;
  source: DeliverySource;
  items: CommentFollowUp[];
  done: Promise<DispatchResult>;
}

const REMEMBER = 2000;
/** Delivery ids remembered for dropping redeliveries (Linear retries within hours, not days). */
const REMEMBER_DELIVERIES = 10_000;

export class IngressDispatcher {
  private readonly batches = new Map<string, CommentBatch>();
  /** Comment ids an AgentSessionEvent already answers, and session thread roots. */
  private readonly claimed = new BoundedSet(REMEMBER);
  private readonly threadRoots = new BoundedSet(REMEMBER);
  private readonly noticeList: IngressNotice[] = [];
  private learntAppUserId?: string;
  readonly counts = new Map<string, number>();
  private readonly signalTimeoutMs: number;
  private readonly statusTimeoutMs: number;
  private readonly metrics: KaiMetrics;
  /** Delivery ids handed over, and those being handed over now (concurrent redeliveries wait). */
  private readonly delivered = new BoundedSet(REMEMBER_DELIVERIES);
  private readonly inFlight = new Map<string, Promise<DispatchResult>>();

  constructor(private readonly opts: DispatcherOptions) {
    this.signalTimeoutMs = opts.signalTimeoutMs ?? 4000;
    this.statusTimeoutMs = opts.statusTimeoutMs ?? 1500;
    this.metrics = opts.metrics ?? kaiMetrics();
  }

  get appUserId(): string | undefined {
    return this.opts.appUserId ?? this.learntAppUserId;
  }

  notices(): readonly IngressNotice[] {
    return this.noticeList;
  }

  /** True once Linear told us the app's authorization was revoked. */
  get revoked(): boolean {
    return this.noticeList.some((n) => n.kind === 'oauth-revoked');
  }

  count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Carries out one decision. A delivery id seen before (handed over, or in flight: then after
   *  it) is `duplicate` and sends nothing; the workflow would drop it anyway, this spares the
   *  round trip. Only a delivery that was handed over counts as seen, so a failed one is retried. */
  async dispatch(decision: RouteDecision, meta: DispatchMeta = { source: 'webhook' }): Promise<DispatchResult> {
    const id = meta.deliveryId;
    if (!id) return this.dispatchNow(decision, meta);
    const duplicate: DispatchResult = { outcome: 'duplicate', detail: `delivery ${id} was already handed over` };
    if (this.delivered.has(id)) return duplicate;
    const running = this.inFlight.get(id);
    if (running) {
      await running;
      return duplicate;
    }
    const p = this.dispatchNow(decision, meta);
    this.inFlight.set(id, p);
    try {
      const result = await p;
      this.delivered.add(id);
      return result;
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async dispatchNow(decision: RouteDecision, meta: DispatchMeta): Promise<DispatchResult> {
    const log = this.opts.logger;
    this.count(decision.label);
    switch (decision.kind) {
      case 'ignore':
        if (decision.appUserId) this.learntAppUserId ??= decision.appUserId;
        return { outcome: 'ignored', detail: decision.reason };
      case 'notice':
        this.noticeList.push(decision.notice);
        if (this.noticeList.length > 50) this.noticeList.shift();
        if (decision.notice.kind === 'oauth-revoked')
          log.error({ deliveryId: decision.notice.deliveryId }, 'Linear revoked kai’s OAuth authorization: reinstall the app');
        else
          log.warn(
            { deliveryId: decision.notice.deliveryId, removedTeamIds: decision.notice.removedTeamIds, addedTeamIds: decision.notice.addedTeamIds },
            'kai’s team access changed in Linear',
          );
        return { outcome: 'notice', detail: decision.notice.kind };
      case 'comment':
        return this.addComment(decision.followUp, meta.source);
      case 'signal': {
        if (decision.appUserId) this.learntAppUserId ??= decision.appUserId;
        for (const c of decision.claimsCommentIds ?? []) this.claimed.add(c);
        if (decision.sessionThreadCommentId) this.threadRoots.add(decision.sessionThreadCommentId);
        let signal = decision.signal;
        if (decision.needsSessionId) signal = await this.withCurrentSession(signal);
        const fields = { issueId: signal.issueId, deliveryId: signal.payload.deliveryId, agentSessionId: signal.payload.agentSessionId, event: decision.label };
        const timer = this.signalTimer(meta.source, signal.type, meta.receivedAt);
        if (decision.onlyIfRunning) {
          const sent = await timer.around(() => this.deadline(() => this.opts.sessions.sendIfRunning(signal)), (s) => s);
          log.info({ ...fields, sent }, sent ? `Signalled ${signal.type}` : 'No running session: nothing to signal');
          return sent ? { outcome: 'signalled', detail: signal.type } : { outcome: 'not-running', detail: signal.type };
        }
        await timer.around(() => this.deadline(() => this.opts.sessions.send(signal)));
        log.info(fields, `Signalled ${signal.type}`);
        return { outcome: 'signalled', detail: signal.type };
      }
    }
  }

  /** Sends every open comment window now (shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.batches.values()].map((b) => b.done));
  }

  /** Times one signal from `receivedAt` (else from now) until Temporal accepted it or failed.
   *  A sendIfRunning that found no workflow sent nothing, so it is not observed. */
  private signalTimer(source: DeliverySource, signal: string, receivedAt?: number) {
    const startedAt = receivedAt ?? Date.now();
    // Clamped: a row's created_at comes from the database's clock, not this host's.
    const observe = (outcome: 'ok' | 'error') =>
      observeSignalLatency(source, signal, Math.max(0, (Date.now() - startedAt) / 1000), outcome, this.metrics);
    return {
      async around<T>(fn: () => Promise<T>, sent: (v: T) => boolean = () => true): Promise<T> {
        let value: T;
        try {
          value = await fn();
        } catch (err) {
          observe('error');
          throw err;
        }
        if (sent(value)) observe('ok');
        return value;
      },
    };
  }

  private addComment(item: CommentFollowUp, source: DeliverySource): Promise<DispatchResult> {
    const open = this.batches.get(item.issueId);
    if (open) {
      if (!open.items.some((i) => i.deliveryId === item.deliveryId)) open.items.push(item);
      return open.done;
    }
    const batch: CommentBatch = { issueId: item.issueId, source, items: [item], done: undefined as never };
    batch.done = new Promise<void>((r) => setTimeout(r, this.opts.commentDebounceMs)).then(() => {
      this.batches.delete(item.issueId);
      return this.sendComments(batch.items, batch.source);
    });
    this.batches.set(item.issueId, batch);
    return batch.done;
  }

  private async sendComments(items: CommentFollowUp[], source: DeliverySource): Promise<DispatchResult> {
    const log = this.opts.logger;
    const kept = items.filter((i) => !this.claimed.has(i.commentId) && !(i.parentId && this.threadRoots.has(i.parentId)));
    if (kept.length === 0) return { outcome: 'ignored', detail: 'the comments belong to an agent session' };
    const first = kept[0]!;
    const prompt: PromptSignal = {
      // Stable for the same first delivery, whichever path (webhook or ingester) carried it.
      deliveryId: `comment:${first.deliveryId}`,
      agentSessionId: '',
      body: kept.map((i) => i.body.trim()).join('\n\n'),
      author: [...new Set(kept.map((i) => i.author).filter((a): a is string => !!a))].join(', ') || undefined,
      attachments: kept.flatMap((i) => i.attachments),
      receivedAt: first.receivedAt,
      source: 'comment',
      issue: first.issue,
    };
    // Timed from the end of the debounce window: the wait before it is deliberate.
    const timer = this.signalTimer(source, 'prompt');
    const signal = await this.withCurrentSession({ type: 'prompt', issueId: first.issueId, payload: prompt });
    const sent = await timer.around(() => this.deadline(() => this.opts.sessions.sendIfRunning(signal)), (s) => s);
    log.info(
      { issueId: first.issueId, deliveryId: prompt.deliveryId, comments: kept.length, sent },
      sent ? 'Signalled a comment follow-up' : 'Comment on an issue without a running session: ignored',
    );
    return sent ? { outcome: 'signalled', detail: `follow-up of ${kept.length} comment(s)` } : { outcome: 'not-running', detail: 'comment' };
  }

  /** Fills in the agent session the workflow is answering in (issue-level events have none). */
  private async withCurrentSession<S extends SessionSignal>(signal: S): Promise<S> {
    if (signal.payload.agentSessionId || !this.opts.sessions.status) return signal;
    try {
      const sessions = this.opts.sessions;
      const status = await this.underDeadline(() => sessions.status!(signal.issueId), this.statusTimeoutMs, 'status query');
      if (status.agentSessionId) return { ...signal, payload: { ...signal.payload, agentSessionId: status.agentSessionId } };
    } catch {
      // No running workflow or no worker to answer: the workflow falls back to its last session.
    }
    return signal;
  }

  /** Runs Temporal calls under a gRPC deadline (when the sink is a SessionClient), so an
   *  unreachable server fails the call in time instead of retrying in the background. */
  private deadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.underDeadline(fn, this.signalTimeoutMs, 'signal', () => new SignalTimeoutError(this.signalTimeoutMs));
  }

  private underDeadline<T>(fn: () => Promise<T>, ms: number, what: string, error?: () => Error): Promise<T> {
    const connection = (this.opts.sessions as { client?: { connection?: DeadlineCapable } }).client?.connection;
    const p = typeof connection?.withDeadline === 'function' ? connection.withDeadline(Date.now() + ms, fn) : fn();
    return withTimeout(p, ms + 250, what, error);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string, error?: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error ? error() : new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  p.catch(() => undefined); // a late rejection after the timeout is not unhandled
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface DeadlineCapable {
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R>;
}

class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly max: number) {}
  add(v: string): void {
    this.items.delete(v);
    this.items.add(v);
    if (this.items.size > this.max) this.items.delete(this.items.values().next().value!);
  }
  has(v: string): boolean {
    return this.items.has(v);
  }
}
