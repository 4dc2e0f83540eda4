// `kai ingest`: the claim loop that drains the events table into the session workflows, a thin
// adapter over src/ingress (same routing and dedupe keys as the webhook server, so the workflow
// drops what both paths carried). Claims keep one issue's rows in order across ingesters
// (events-table.ts), leases are renewed by a heartbeat so a crashed ingester's rows come back in
// seconds, failed rows back off, NOTIFY wakes it (listen.ts), Postgres restarts are survived.
// Counts deliveries, signal latency, backlog and lag in src/observability's metrics, and serves
// them (with /healthz and /readyz) on its own port when `ops` is given ([metrics] port).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { KaiConfig } from '../config/schema';
import { deliveryOutcome, type SessionSink } from '../ingress/dispatch';
import { createIngress, ingressOptionsFromConfig, type Ingress, type IngressOptions } from '../ingress/ingress';
import { linearEventType } from '../ingress/payloads';
import { UNVERIFIED_TYPE } from '../ingress/receive';
import { logger as defaultLogger } from '../log';
import { startOpsServer, type OpsServer } from '../observability/http';
import { recordDelivery, recordIngestPoll, type DeliveryOutcome, type KaiMetrics } from '../observability/metrics';
import { EventsTable, type RowStatus } from './events-table';
import { GATEWAY_SOURCE } from './gateway';
import { listenLoop } from './listen';
import { readEventRow, type EventRow } from './rows';
import { Sleeper, backoff } from './waiting';
import { errorText } from '../util';

export interface IngesterDeps extends Partial<Omit<IngressOptions, 'sessions' | 'logger'>> {
  pool: Pool;
  sessions: SessionSink;
  logger?: Logger;
  /** Share the webhook server's Ingress when both run in one process. */
  ingress?: Ingress;
  /** poll_batch_size (default 10). */
  batchSize?: number;
  /** poll_interval in ms (default 5000): the fallback when no NOTIFY arrives. */
  pollIntervalMs?: number;
  /** event_prioritization_enabled: Linear priority 1..4 then 0/unknown, then current cycle. */
  prioritize?: boolean;
  /** current_cycle_only: rows of issues known to be outside the current cycle become `skipped`. */
  currentCycleOnly?: boolean;
  /** Attempts before a row becomes `failed` (default 8). */
  maxAttempts?: number;
  /** Backoff of a failed row: base * 2^(attempt-1), capped (defaults 2 s and 5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A claim not renewed for this long is handed back (default 20 s); renewed every third of it. */
  leaseMs?: number;
  source?: string;
  /** Written to claimed_by; default host:pid:random. */
  ingesterId?: string;
  /** Where deliveries, backlog and lag are recorded: the process-wide metrics by default. */
  metrics?: KaiMetrics;
  /** Serve /metrics, /healthz and /readyz on host:port (port 0 picks one); none when unset. */
  ops?: { host?: string; port: number };
  /** Shortest time between two backlog/lag measurements (default 1 s; also after an empty claim). */
  backlogIntervalMs?: number;
}

export interface IngesterStats {
  claimed: number;
  signalled: number;
  done: number;
  retried: number;
  failed: number;
  skipped: number;
  reclaimed: number;
  listening: boolean;
  dbErrors: number;
}

export interface Ingester {
  readonly id: string;
  stats(): IngesterStats;
  /** Claims at once instead of waiting for NOTIFY or the poll. */
  wake(): void;
  /** The /metrics, /healthz, /readyz server when `ops` was given (undefined if it could not listen). */
  readonly opsServer: Promise<OpsServer | undefined>;
  stop(): Promise<void>;
}

export function startIngester(deps: IngesterDeps): Ingester {
  const ingester = new EventIngester(deps);
  ingester.start();
  return ingester;
}

/** Ingester deps from kai's config (the CLI adds pool, SessionClient and overrides). */
export function ingesterDepsFromConfig(config: KaiConfig, pool: Pool, sessions: SessionSink, extra: Partial<IngesterDeps> = {}): IngesterDeps {
  const t = config.transports.linear;
  const p = config.plugins.linear;
  const identity = ingressOptionsFromConfig(config, extra.logger ?? defaultLogger);
  return {
    pool,
    sessions,
    batchSize: t.poll_batch_size,
    pollIntervalMs: t.poll_interval * 1000,
    ops: config.metrics.port === undefined ? undefined : { host: config.metrics.host, port: config.metrics.port },
    prioritize: p.event_prioritization_enabled,
    currentCycleOnly: p.current_cycle_only,
    ...identity,
    ...extra,
    // An explicit `appUserId: undefined` (a caller that knows none) keeps the configured lookup.
    appUserId: extra.appUserId ?? identity.appUserId,
  };
}


class EventIngester implements Ingester {
  readonly id: string;
  private readonly log: Logger;
  private readonly ingress: Ingress;
  private readonly table: EventsTable;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly leaseMs: number;
  private readonly metrics: KaiMetrics;
  private readonly backlogIntervalMs: number;
  private readonly sleeper = new Sleeper();
  private lastBacklog = 0;
  private lastReclaim = 0;
  /** Whether the last claim reached the database (for /readyz). */
  private databaseOk = false;
  opsServer: Promise<OpsServer | undefined> = Promise.resolve(undefined);
  private stopped = false;
  private readonly stopSignal: Promise<void>;
  private resolveStop!: () => void;
  private wakeFlag = false;
  private wakeWaiter?: () => void;
  private running?: Promise<void>;
  private listening?: Promise<void>;
  private heartbeatTimer?: NodeJS.Timeout;
  /** Rows signalled whose `done` is not yet written: a reclaim of them must not signal again. */
  private readonly signalledUnmarked = new Set<string>();
  private readonly counters: IngesterStats = {
    claimed: 0, signalled: 0, done: 0, retried: 0, failed: 0, skipped: 0, reclaimed: 0, listening: false, dbErrors: 0,
  };

  constructor(private readonly deps: IngesterDeps) {
    this.id = deps.ingesterId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.log = (deps.logger ?? defaultLogger).child({ component: 'ingester', ingester: this.id });
    this.table = new EventsTable(deps.pool, { source: deps.source ?? GATEWAY_SOURCE, prioritize: deps.prioritize ?? false });
    this.batchSize = deps.batchSize ?? 10;
    this.pollIntervalMs = deps.pollIntervalMs ?? 5000;
    this.maxAttempts = deps.maxAttempts ?? 8;
    this.leaseMs = deps.leaseMs ?? 20_000;
    this.backlogIntervalMs = deps.backlogIntervalMs ?? 1000;
    this.ingress = deps.ingress ?? createIngress({ ...deps, sessions: deps.sessions, logger: this.log });
    this.metrics = this.ingress.metrics;
    this.stopSignal = new Promise<void>((r) => (this.resolveStop = r));
    // An idle pooled connection that dies (Postgres restart) must not crash the process.
    if (deps.pool.listenerCount('error') === 0)
      deps.pool.on('error', (err) => this.log.warn({ error: err.message }, 'An idle database connection failed'));
  }

  start(): void {
    this.listening = listenLoop({
      pool: this.deps.pool,
      source: this.deps.source ?? GATEWAY_SOURCE,
      logger: this.log,
      wake: () => this.wake(),
      stopped: this.stopSignal,
      isStopped: () => this.stopped,
      sleeper: this.sleeper,
      setListening: (l) => (this.counters.listening = l),
    });
    this.running = this.ingress.start().then(() => this.runLoop());
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.heartbeatTimer.unref();
    if (this.deps.ops) this.opsServer = this.startOps(this.deps.ops);
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.table.heartbeat(this.id);
    } catch (err) {
      this.log.warn({ error: errorText(err) }, 'Could not renew the claim lease');
    }
  }

  private async startOps(at: { host?: string; port: number }): Promise<OpsServer | undefined> {
    try {
      const ops = await startOpsServer({
        host: at.host,
        port: at.port,
        registry: this.metrics.registry,
        ready: () => ({ ready: !this.stopped && this.databaseOk, database: this.databaseOk ? 'ok' : 'unavailable', listening: this.counters.listening }),
      });
      this.log.info({ url: ops.url }, 'metrics and health endpoints');
      return ops;
    } catch (err) {
      this.log.error({ error: errorText(err), port: at.port }, 'Could not serve /metrics, /healthz and /readyz: is the port taken? Set [metrics] port');
      return undefined;
    }
  }

  stats(): IngesterStats {
    return { ...this.counters };
  }

  wake(): void {
    this.wakeFlag = true;
    this.wakeWaiter?.();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.resolveStop();
    this.wakeWaiter?.();
    this.sleeper.stop();
    await this.running;
    await this.listening;
    clearInterval(this.heartbeatTimer);
    await (await this.opsServer)?.close();
  }

  // ------------------------------------------------------------------ claim loop
  private async runLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.wakeFlag = false;
      let rows: EventRow[];
      try {
        await this.housekeeping();
        rows = await this.table.claim(this.batchSize, this.id);
        this.counters.claimed += rows.length;
        this.databaseOk = true;
        failures = 0;
        if (rows.length === 0 || Date.now() - this.lastBacklog >= this.backlogIntervalMs) await this.measureBacklog();
      } catch (err) {
        this.databaseOk = false;
        this.counters.dbErrors++;
        const wait = backoff(failures++, 250, 10_000);
        this.log.warn({ error: errorText(err), retryInMs: wait }, 'Could not claim events; retrying');
        await this.sleeper.sleep(wait);
        continue;
      }
      if (rows.length > 0) {
        await this.processBatch(rows);
        continue;
      }
      await this.waitForWake(this.pollIntervalMs);
    }
    await this.ingress.dispatcher.flush();
  }

  /** Lease reclaim (rows of a crashed ingester) and, with current_cycle_only, skipping. */
  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (now - this.lastReclaim >= Math.min(this.leaseMs / 4, 30_000)) {
      const n = await this.table.reclaimExpired(this.leaseMs);
      this.lastReclaim = now;
      if (n) {
        this.counters.reclaimed += n;
        this.log.warn({ rows: n }, 'Reclaimed events whose claim lease expired');
      }
    }
    if (this.deps.currentCycleOnly) {
      const skipped = await this.table.skipOutsideCycle();
      this.counters.skipped += skipped.length;
      for (const type of skipped) this.record(type, 'ignored');
    }
  }

  /** kai_ingest_backlog_events and kai_ingest_lag_seconds. */
  private async measureBacklog(): Promise<void> {
    const b = await this.table.backlog();
    this.lastBacklog = Date.now();
    recordIngestPoll(b.backlog, b.lagSeconds, this.metrics);
  }

  /** Rows of one issue in order, different issues side by side. */
  private async processBatch(rows: EventRow[]): Promise<void> {
    const groups = new Map<string, EventRow[]>();
    for (const row of rows) {
      const key = row.issue_id ?? row.id;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    await Promise.all(
      [...groups.values()].map(async (group) => {
        for (const row of group) await this.processRow(row);
      }),
    );
  }

  private async processRow(row: EventRow): Promise<void> {
    const fields = { eventId: row.id, externalId: row.external_id, eventType: row.event_type, attempt: row.attempts };
    const reading = readEventRow(row);
    if (!reading.ok) {
      this.log.error({ ...fields, error: reading.error }, 'Cannot understand an event row; marking it failed');
      this.record(UNVERIFIED_TYPE, 'rejected');
      await this.finish(row, 'failed', reading.error, 'unreadable');
      return;
    }
    const type = linearEventType(reading.event);
    if (this.signalledUnmarked.has(row.id)) {
      this.record(type, 'duplicate');
      await this.finish(row, 'done', null, 'signalled');
      return;
    }
    let outcome: string;
    try {
      // Timed from the row's insert: what a user waits between Linear's event and the signal.
      const { result } = await this.ingress.handle(reading.event, { source: 'ingest', receivedAt: row.created_at });
      outcome = `${result.outcome}: ${result.detail}`;
      if (result.outcome === 'signalled') this.counters.signalled++;
      this.record(type, deliveryOutcome(result));
    } catch (err) {
      const message = errorText(err);
      // A retry is not an outcome yet (kai_signal_latency_seconds counts the failed attempt).
      if (row.attempts >= this.maxAttempts) {
        this.record(type, 'failed');
        this.log.error({ ...fields, error: message }, 'An event failed its last attempt; marking it failed');
        await this.finish(row, 'failed', `attempt ${row.attempts}/${this.maxAttempts}: ${message}`, 'failed');
      } else {
        const wait = backoff(row.attempts - 1, this.deps.retryBaseMs ?? 2000, this.deps.retryMaxMs ?? 5 * 60_000);
        this.log.warn({ ...fields, error: message, retryInMs: wait }, 'Could not signal an event; will retry');
        await this.finish(row, 'pending', `attempt ${row.attempts}/${this.maxAttempts}: ${message}`, null, wait);
      }
      return;
    }
    this.signalledUnmarked.add(row.id);
    await this.finish(row, 'done', null, outcome);
  }

  private record(type: string, outcome: DeliveryOutcome): void {
    recordDelivery('ingest', type, outcome, this.metrics);
  }

  /** Writes a row's result, retrying through database outages (the signal already happened). */
  private async finish(row: EventRow, status: RowStatus, error: string | null, outcome: string | null, retryInMs = 0): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const held = await this.table.finish(row.id, this.id, status, error, outcome, retryInMs);
        if (!held) this.log.warn({ eventId: row.id }, 'The event was reclaimed by another ingester before its result was written');
        if (status === 'done') this.counters.done++;
        else if (status === 'failed') this.counters.failed++;
        else this.counters.retried++;
        this.signalledUnmarked.delete(row.id);
        return;
      } catch (err) {
        this.counters.dbErrors++;
        if (this.stopped && attempt > 3) {
          this.log.error({ eventId: row.id, error: errorText(err) }, 'Stopping before the event result was written; the lease will hand it back');
          return;
        }
        await this.sleeper.sleep(backoff(attempt, 200, 5000));
      }
    }
  }

  private waitForWake(ms: number): Promise<void> {
    if (this.wakeFlag || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeWaiter = () => {
        this.wakeWaiter = undefined;
        done();
      };
    });
  }
}
