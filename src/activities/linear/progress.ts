// The Linear progress reporter: the ProgressSink an engine run writes its events to. Events
// are coalesced (ephemeral_activity_coalesce_s for activities, plan_coalesce_s for the plan)
// and posted straight to Linear, in order, one request at a time, so a long noisy run costs a
// handful of requests. Progress is best effort: failures are retried a few times with the
// same activity id (a refusal of an id Linear already holds counts as posted), a rate limit
// pauses posting, and a deleted session silences the sink; nothing here ever fails the run.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EngineEvent, ProgressRun, ProgressSink, ProgressSinkFactory } from '../engine/events';
import type { LinearTransportConfig } from '../../config/schema';
import { logger as defaultLogger } from '../../log';
import type { LinearGateway } from './gateway';
import { ProgressCoalescer, type ActivityDraft } from './coalescer';
import { isPermanent, retryDelayOf } from './errors';
import { postActivity } from './post-activity';

export interface LinearProgressDeps {
  linear: LinearGateway;
  transport?: Partial<Pick<LinearTransportConfig, 'ephemeral_activity_coalesce_s' | 'plan_coalesce_s' | 'max_body_chars'>>;
  logger?: Logger;
  /** Longest a steady stream of events goes unposted (default: 10 × the coalesce window, at least 2 s). */
  maxWaitMs?: number;
  /** How often the lasting record (thoughts, finished actions) is posted during a run; the
   *  rest is posted when the run ends (default: 50 × the coalesce window, at least 10 s). */
  recordEveryMs?: number;
  /** How long close() waits for pending posts (default 15 s). */
  closeTimeoutMs?: number;
  /** Attempts per post on network errors and 5xx (default 3). */
  maxAttempts?: number;
}

type OutboxItem =
  | { kind: 'activity'; id: string; draft: ActivityDraft; attempts: number }
  | { kind: 'plan'; items: unknown[]; attempts: number };

const MAX_OUTBOX = 50;

class Debounce {
  private timer?: NodeJS.Timeout;
  private firstAt?: number;

  constructor(
    private readonly waitMs: number,
    private readonly maxWaitMs: number,
    private readonly fire: () => void,
  ) {}

  /** Fires `waitMs` after the last call, but no later than `maxWaitMs` after the first. */
  poke(): void {
    const now = Date.now();
    this.firstAt ??= now;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.waitMs, this.firstAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.now(), delay);
    this.timer.unref?.();
  }

  now(): void {
    this.cancel();
    this.fire();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
  }
}

export class LinearProgressSink implements ProgressSink {
  private readonly coalescer: ProgressCoalescer;
  private readonly live: Debounce;
  private readonly record: Debounce;
  private readonly plan: Debounce;
  private outbox: OutboxItem[] = [];
  private draining?: Promise<void>;
  private pausedUntil = 0;
  private dead = false;
  private closed = false;
  private deadline = Infinity;
  private readonly log: Logger;
  private readonly maxAttempts: number;

  constructor(
    private readonly deps: LinearProgressDeps,
    private readonly run: ProgressRun,
  ) {
    const t = deps.transport ?? {};
    const activityMs = (t.ephemeral_activity_coalesce_s ?? 0.2) * 1000;
    const planMs = (t.plan_coalesce_s ?? 1.0) * 1000;
    const maxWait = (ms: number) => deps.maxWaitMs ?? Math.max(2_000, ms * 10);
    this.coalescer = new ProgressCoalescer(t.max_body_chars ?? 10_000);
    const recordMs = deps.recordEveryMs ?? Math.max(10_000, activityMs * 50);
    this.live = new Debounce(activityMs, maxWait(activityMs), () => this.flush(this.coalescer.takeLive()));
    this.record = new Debounce(recordMs, recordMs, () => this.flush(this.coalescer.takeRecord()));
    this.plan = new Debounce(planMs, maxWait(planMs), () => this.flushPlan());
    this.maxAttempts = deps.maxAttempts ?? 3;
    this.log = (deps.logger ?? defaultLogger).child({ component: 'linear-progress', agentSessionId: run.agentSessionId, issueId: run.issueId });
  }

  emit(event: EngineEvent): void {
    if (this.closed || this.dead) return;
    const wants = this.coalescer.add(event);
    if (wants.live) this.live.poke();
    if (wants.record) this.record.poke();
    if (wants.plan) this.plan.poke();
  }

  async close(opts: { discard?: boolean } = {}): Promise<void> {
    if (this.closed) return this.draining;
    this.closed = true;
    this.deadline = Date.now() + (this.deps.closeTimeoutMs ?? 15_000);
    this.live.cancel();
    this.record.cancel();
    this.plan.cancel();
    if (opts.discard) {
      // Stopped: Linear's Stop allows no call but the final answer, which the workflow posts.
      this.silence('the run was stopped');
      await this.draining; // a post already under way ends before the final answer is posted
      return;
    }
    this.flushPlan();
    this.flush(this.coalescer.takeRecord());
    await this.drain();
    if (this.outbox.length) this.log.warn({ dropped: this.outbox.length }, 'Progress not posted before the run ended');
    this.outbox = [];
  }

  private flush(drafts: ActivityDraft[]): void {
    if (this.dead) return;
    for (const draft of drafts) this.outbox.push({ kind: 'activity', id: randomUUID(), draft, attempts: 0 });
    this.bound();
    void this.drain();
  }

  private flushPlan(): void {
    if (this.dead) return;
    const items = this.coalescer.takePlan();
    if (!items) return;
    // A newer plan replaces one still waiting: Linear takes the whole list each time.
    this.outbox = this.outbox.filter((o) => o.kind !== 'plan' || o === this.outbox[0]);
    this.outbox.push({ kind: 'plan', items, attempts: 0 });
    void this.drain();
  }

  /** Keeps the outbox bounded while Linear is unreachable: ephemeral items go first. */
  private bound(): void {
    while (this.outbox.length > MAX_OUTBOX) {
      const i = this.outbox.findIndex((o, idx) => idx > 0 && o.kind === 'activity' && o.draft.ephemeral);
      const [dropped] = this.outbox.splice(i > 0 ? i : 1, 1);
      this.log.warn({ kind: dropped?.kind }, 'Dropped a progress update: too many waiting');
    }
  }

  private drain(): Promise<void> {
    this.draining ??= this.drainLoop().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    // Bounded: each pass posts or drops an item, or waits with a deadline.
    for (let guard = 0; guard < 1000 && this.outbox.length && !this.dead; guard++) {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) {
        if (Date.now() + wait > this.deadline) return;
        await sleep(wait);
        continue;
      }
      const item = this.outbox[0]!;
      // An ephemeral activity with anything queued behind it would be replaced at once.
      if (item.kind === 'activity' && item.draft.ephemeral && this.outbox.some((o, i) => i > 0 && o.kind === 'activity')) {
        this.outbox.shift();
        continue;
      }
      if (await this.stopped()) {
        this.silence('the run was stopped');
        return;
      }
      try {
        await this.post(item);
        this.outbox.shift();
      } catch (err) {
        if (isPermanent(err)) {
          this.silence(errText(err));
          this.log.warn({ reason: errText(err) }, 'Linear refused progress for this session; no more progress is posted');
          return;
        }
        const delay = retryDelayOf(err);
        if (delay !== undefined) {
          this.pausedUntil = Date.now() + delay;
          continue;
        }
        item.attempts += 1;
        if (item.attempts >= this.maxAttempts) {
          this.outbox.shift();
          this.log.warn({ reason: errText(err), kind: item.kind }, 'Gave up on a progress update');
          continue;
        }
        const backoff = 250 * 2 ** (item.attempts - 1);
        if (Date.now() + backoff > this.deadline) return;
        await sleep(backoff);
      }
    }
  }

  /** No more progress for this run: what waits is dropped. */
  private silence(reason: string): void {
    if (!this.dead) this.log.debug({ reason, dropped: this.outbox.length }, 'progress silenced');
    this.dead = true;
    this.outbox = [];
  }

  /** Whether the user stopped the run; an unanswered question counts as not stopped (progress
   *  is best effort, and the stop still reaches the run through its cancellation). */
  private async stopped(): Promise<boolean> {
    if (!this.run.stopRequested) return false;
    try {
      return await this.run.stopRequested();
    } catch (err) {
      this.log.debug({ reason: errText(err) }, 'could not ask whether the run was stopped');
      return false;
    }
  }

  private async post(item: OutboxItem): Promise<void> {
    const { linear } = this.deps;
    const agentSessionId = this.run.agentSessionId;
    if (item.kind === 'plan') {
      await linear.request('update the plan', (c) => c.updateAgentSession(agentSessionId, { plan: item.items as unknown as Record<string, unknown> }));
      return;
    }
    // The id is fixed per item: a retry after a lost response is refused as a repeat, which
    // postActivity takes as posted, so the sink carries on instead of going silent.
    await postActivity(linear, 'post progress', { id: item.id, agentSessionId, content: item.draft.content, ephemeral: item.draft.ephemeral });
  }
}

/** The ProgressSinkFactory the engine activities use in production. */
export function createLinearProgress(deps: LinearProgressDeps): ProgressSinkFactory {
  return (run) => new LinearProgressSink(deps, run);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
