// Carries out route decisions against the session workflows: signal (with a deadline, so a
// caller can answer 503 in time), "signal only if running" as one atomic call, remember notices
// for readiness, drop a delivery already handed over in this process (same signed-content key,
// by either path; the workflow drops it anyway, this spares the round trip) and time each
// signal. Holds no session state: any number of processes behave as one.
import type { Logger } from 'pino';
import type { SessionSignal } from '../client';
import { kaiMetrics, observeSignalLatency, type DeliveryOutcome, type DeliverySource, type KaiMetrics } from '../observability/metrics';
import type { IngressNotice, RouteDecision } from './route';
import { errorText, withTimeout } from '../util';

/** What ingress needs of SessionClient (tests may pass a recording stub). */
export interface SessionSink {
  send(event: SessionSignal): Promise<unknown>;
  /** Signals the issue's running workflow; false when none runs (one call, no describe first). */
  sendIfRunning(event: SessionSignal): Promise<boolean>;
}

/** Looks up an issue's workflow status type (for notifications that do not carry it). */
export type IssueStateLookup = (issueId: string) => Promise<string | undefined>;

export interface DispatcherOptions {
  sessions: SessionSink;
  logger: Logger;
  /** Longest wait for Temporal to accept a signal before giving up (caller answers 503). */
  signalTimeoutMs?: number;
  /** Where signal latencies are recorded; the process-wide metrics by default. */
  metrics?: KaiMetrics;
  /** For `issueStatusChanged` notifications without the new status; without it they are ignored. */
  issueState?: IssueStateLookup;
}

/** Where a decision came from, for deduplication and the signal latency histogram. */
export interface DispatchMeta {
  source: DeliverySource;
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

/** Keys remembered for dropping redeliveries (Linear retries within hours, not days). */
const REMEMBER_DELIVERIES = 10_000;

export class IngressDispatcher {
  private readonly noticeList: IngressNotice[] = [];
  readonly counts = new Map<string, number>();
  private readonly signalTimeoutMs: number;
  private readonly metrics: KaiMetrics;
  /** Keys handed over, and those being handed over now (concurrent redeliveries wait). */
  private readonly delivered = new BoundedSet(REMEMBER_DELIVERIES);
  private readonly inFlight = new Map<string, Promise<DispatchResult>>();

  constructor(private readonly opts: DispatcherOptions) {
    this.signalTimeoutMs = opts.signalTimeoutMs ?? 4000;
    this.metrics = opts.metrics ?? kaiMetrics();
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

  /** Carries out one decision. A signal whose key was handed over before (or is in flight:
   *  then after it) is `duplicate` and sends nothing. Only a signal that was handed over counts
   *  as seen, so a failed one is retried. */
  async dispatch(decision: RouteDecision, meta: DispatchMeta = { source: 'webhook' }): Promise<DispatchResult> {
    if (decision.kind !== 'signal') return this.dispatchNow(decision, meta);
    const id = `${decision.signal.issueId}:${decision.signal.payload.deliveryId}`;
    const duplicate: DispatchResult = { outcome: 'duplicate', detail: `event ${decision.signal.payload.deliveryId} was already handed over` };
    if (this.delivered.has(id)) return duplicate;
    const running = this.inFlight.get(id);
    if (running) {
      await running.catch(() => undefined);
      if (this.delivered.has(id)) return duplicate;
    }
    const p = this.dispatchNow(decision, meta);
    this.inFlight.set(id, p);
    try {
      const result = await p;
      if (result.outcome === 'signalled') this.delivered.add(id);
      return result;
    } finally {
      if (this.inFlight.get(id) === p) this.inFlight.delete(id);
    }
  }

  private async dispatchNow(decision: RouteDecision, meta: DispatchMeta): Promise<DispatchResult> {
    const log = this.opts.logger;
    this.count(decision.label);
    switch (decision.kind) {
      case 'ignore':
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
      case 'signal': {
        const signal = decision.signal;
        const fields = { issueId: signal.issueId, deliveryId: signal.payload.deliveryId, agentSessionId: signal.payload.agentSessionId, event: decision.label };
        if (decision.ifIssueStateIn) {
          const state = await this.issueStateType(signal.issueId);
          if (!state || !decision.ifIssueStateIn.includes(state))
            return { outcome: 'ignored', detail: state ? `the issue is in a ${state} status` : 'the issue status could not be looked up' };
        }
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

  private async issueStateType(issueId: string): Promise<string | undefined> {
    if (!this.opts.issueState) return undefined;
    try {
      return await withTimeout(this.opts.issueState(issueId), this.signalTimeoutMs, { what: 'issue status lookup' });
    } catch (err) {
      this.opts.logger.warn({ issueId, error: errorText(err) }, 'Could not look up the issue status');
      return undefined;
    }
  }

  /** Nothing is held back any more (kept for callers that drain on shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
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

  /** Runs Temporal calls under a gRPC deadline (when the sink is a SessionClient), so an
   *  unreachable server fails the call in time instead of retrying in the background. */
  private deadline<T>(fn: () => Promise<T>): Promise<T> {
    const ms = this.signalTimeoutMs;
    const connection = (this.opts.sessions as { client?: { connection?: DeadlineCapable } }).client?.connection;
    const p = typeof connection?.withDeadline === 'function' ? connection.withDeadline(Date.now() + ms, fn) : fn();
    return withTimeout(p, ms + 250, { error: () => new SignalTimeoutError(ms) });
  }
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
