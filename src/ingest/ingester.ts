// `kai ingest`: drains the events table into the session workflows. Claims batches with
// FOR UPDATE SKIP LOCKED (any number of ingesters, no row processed by two), signals through
// the same router and dispatcher as the webhook server (same delivery ids, so the workflow
// drops what both paths carried), marks rows done. Wakes on NOTIFY, polls as a fallback,
// backs off failed rows, reclaims rows a crashed ingester left, survives Postgres restarts.
// Counts deliveries, signal latency, backlog and lag in src/observability's metrics, and serves
// them (with /healthz and /readyz) on its own port when `ops` is given ([metrics] port).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { KaiConfig } from '../config/schema';
import { logger as defaultLogger } from '../log';
import { startOpsServer, type OpsServer } from '../observability/http';
import { kaiMetrics, recordDelivery, recordIngestPoll, type DeliveryOutcome, type KaiMetrics } from '../observability/metrics';
import { IngressDispatcher, deliveryOutcome, type SessionSink } from '../webhook/dispatch';
import { linearEventType } from '../webhook/payloads';
import { UNVERIFIED_TYPE } from '../webhook/receive';
import { DEFAULT_ATTACHMENT_HOSTS, routeLinearEvent } from '../webhook/route';
import { GATEWAY_SOURCE } from './gateway';
import { EVENTS_CHANNEL } from './migrations';
import { eventRowSchema, readEventRow, type EventRow } from './rows';

export interface IngesterDeps {
  pool: Pool;
  sessions: SessionSink;
  logger?: Logger;
  /** Share the webhook server's dispatcher when both run in one process. */
  dispatcher?: IngressDispatcher;
  /** poll_batch_size (default 10). */
  batchSize?: number;
  /** poll_interval in ms (default 5000): the fallback when no NOTIFY arrives. */
  pollIntervalMs?: number;
  /** event_prioritization_enabled: Linear priority 1..4 then 0/unknown, then current cycle. */
  prioritize?: boolean;
  /** current_cycle_only: rows of issues known to be outside the current cycle become `skipped`. */
  currentCycleOnly?: boolean;
  commentFollowupsEnabled?: boolean;
  commentDebounceSeconds?: number;
  appUserId?: string;
  attachmentHosts?: readonly string[];
  /** Attempts before a row becomes `failed` (default 8). */
  maxAttempts?: number;
  /** Backoff of a failed row: base * 2^(attempt-1), capped (defaults 2 s and 5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A row in `processing` longer than this is taken back (default 5 min). */
  leaseMs?: number;
  signalTimeoutMs?: number;
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
  return {
    pool,
    sessions,
    batchSize: t.poll_batch_size,
    pollIntervalMs: t.poll_interval * 1000,
    ops: config.metrics.port === undefined ? undefined : { host: config.metrics.host, port: config.metrics.port },
    prioritize: p.event_prioritization_enabled,
    currentCycleOnly: p.current_cycle_only,
    commentFollowupsEnabled: p.comment_followups_enabled,
    commentDebounceSeconds: p.comment_followups_debounce_seconds,
    attachmentHosts: t.attachment_allowed_hosts,
    ...extra,
  };
}

const ROW_COLUMNS = 'e.id::text AS id, e.source, e.event_type, e.external_id, e.payload, e.attempts, e.created_at, e.issue_id, e.priority, e.in_current_cycle';

class EventIngester implements Ingester {
  readonly id: string;
  private readonly log: Logger;
  private readonly dispatcher: IngressDispatcher;
  private readonly source: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly leaseMs: number;
  private readonly metrics: KaiMetrics;
  private readonly backlogIntervalMs: number;
  private lastBacklog = 0;
  /** Whether the last claim reached the database (for /readyz). */
  private databaseOk = false;
  opsServer: Promise<OpsServer | undefined> = Promise.resolve(undefined);
  private stopped = false;
  private stopSignal!: Promise<void>;
  private resolveStop!: () => void;
  private wakeFlag = false;
  private wakeWaiter?: () => void;
  private running?: Promise<void>;
  private listening?: Promise<void>;
  private lastReclaim = 0;
  private readonly sleepers = new Set<() => void>();
  /** Rows signalled whose `done` is not yet written: a reclaim of them must not signal again. */
  private readonly signalledUnmarked = new Set<string>();
  private readonly counters: IngesterStats = {
    claimed: 0, signalled: 0, done: 0, retried: 0, failed: 0, skipped: 0, reclaimed: 0, listening: false, dbErrors: 0,
  };

  constructor(private readonly deps: IngesterDeps) {
    this.id = deps.ingesterId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.log = (deps.logger ?? defaultLogger).child({ component: 'ingester', ingester: this.id });
    this.source = deps.source ?? GATEWAY_SOURCE;
    this.batchSize = deps.batchSize ?? 10;
    this.pollIntervalMs = deps.pollIntervalMs ?? 5000;
    this.maxAttempts = deps.maxAttempts ?? 8;
    this.leaseMs = deps.leaseMs ?? 5 * 60_000;
    this.metrics = deps.metrics ?? kaiMetrics();
    this.backlogIntervalMs = deps.backlogIntervalMs ?? 1000;
    this.dispatcher =
      deps.dispatcher ??
      new IngressDispatcher({
        sessions: deps.sessions,
        logger: this.log,
        commentDebounceMs: (deps.commentDebounceSeconds ?? 0.5) * 1000,
        signalTimeoutMs: deps.signalTimeoutMs,
        appUserId: deps.appUserId,
        metrics: this.metrics,
      });
    this.stopSignal = new Promise<void>((r) => (this.resolveStop = r));
    // An idle pooled connection that dies (Postgres restart) must not crash the process.
    if (deps.pool.listenerCount('error') === 0)
      deps.pool.on('error', (err) => this.log.warn({ error: err.message }, 'An idle database connection failed'));
  }

  start(): void {
    this.listening = this.listenLoop();
    this.running = this.runLoop();
    if (this.deps.ops) this.opsServer = this.startOps(this.deps.ops);
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
    for (const s of [...this.sleepers]) s();
    await this.running;
    await this.listening;
    await (await this.opsServer)?.close();
  }

  // ------------------------------------------------------------------ main loop
  private async runLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.wakeFlag = false;
      let rows: EventRow[];
      try {
        await this.housekeeping();
        rows = await this.claim();
        this.databaseOk = true;
        failures = 0;
        if (rows.length === 0 || Date.now() - this.lastBacklog >= this.backlogIntervalMs) await this.measureBacklog();
      } catch (err) {
        this.databaseOk = false;
        this.counters.dbErrors++;
        const wait = backoff(failures++, 250, 10_000);
        this.log.warn({ error: errorText(err), retryInMs: wait }, 'Could not claim events; retrying');
        await this.sleep(wait);
        continue;
      }
      if (rows.length > 0) {
        await this.processBatch(rows);
        continue;
      }
      await this.waitForWake(this.pollIntervalMs);
    }
    await this.dispatcher.flush();
  }

  /** Lease reclaim (rows of a crashed ingester) and, with current_cycle_only, skipping. */
  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (now - this.lastReclaim >= Math.min(this.leaseMs / 2, 30_000)) {
      const r = await this.deps.pool.query(
        `UPDATE events SET status = 'pending', claimed_by = NULL, claimed_at = NULL,
                error = 'claim lease expired (was the ingester ' || coalesce(claimed_by, 'that claimed it') || ' stopped?)'
          WHERE source = $1 AND status = 'processing'
            AND coalesce(claimed_at, processed_at, created_at) < now() - make_interval(secs => $2)`,
        [this.source, this.leaseMs / 1000],
      );
      this.lastReclaim = now;
      if (r.rowCount) {
        this.counters.reclaimed += r.rowCount;
        this.log.warn({ rows: r.rowCount }, 'Reclaimed events whose claim lease expired');
      }
    }
    if (this.deps.currentCycleOnly) {
      const r = await this.deps.pool.query(
        `UPDATE events SET status = 'skipped', processed_at = now(), outcome = 'skipped: the issue is outside the current cycle (current_cycle_only)'
          WHERE source = $1 AND status = 'pending' AND in_current_cycle IS FALSE
          RETURNING event_type`,
        [this.source],
      );
      if (r.rowCount) this.counters.skipped += r.rowCount;
      for (const skipped of r.rows as Array<{ event_type: string }>) this.record(skipped.event_type, 'ignored');
    }
  }

  /** kai_ingest_backlog_events and kai_ingest_lag_seconds: pending rows (including those waiting
   *  out a retry backoff) and the age of the oldest, by the database's clock. */
  private async measureBacklog(): Promise<void> {
    const { rows } = await this.deps.pool.query(
      `SELECT count(*)::int AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS lag
         FROM events WHERE source = $1 AND status = 'pending'`,
      [this.source],
    );
    this.lastBacklog = Date.now();
    recordIngestPoll(Number(rows[0]?.backlog ?? 0), Number(rows[0]?.lag ?? 0), this.metrics);
  }

  private orderBy(prefix = ''): string {
    return this.deps.prioritize
      ? `${prefix}priority_rank, (${prefix}in_current_cycle IS TRUE) DESC, ${prefix}created_at`
      : `${prefix}created_at`;
  }

  private async claim(): Promise<EventRow[]> {
    const { rows } = await this.deps.pool.query(
      `WITH picked AS (
         SELECT id FROM events
          WHERE source = $1 AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          ORDER BY ${this.orderBy()}
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       UPDATE events e SET status = 'processing', claimed_at = now(), claimed_by = $3, attempts = e.attempts + 1
         FROM picked WHERE e.id = picked.id
       RETURNING ${ROW_COLUMNS}, e.priority_rank`,
      [this.source, this.batchSize, this.id],
    );
    const parsed = rows.map((r) => ({ row: eventRowSchema.parse(r), rank: Number(r.priority_rank) }));
    parsed.sort((a, b) =>
      this.deps.prioritize
        ? a.rank - b.rank || Number(!!b.row.in_current_cycle) - Number(!!a.row.in_current_cycle) || a.row.created_at.getTime() - b.row.created_at.getTime()
        : a.row.created_at.getTime() - b.row.created_at.getTime(),
    );
    this.counters.claimed += parsed.length;
    return parsed.map((p) => p.row);
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
    const deliveryId = row.external_id ?? `event:${row.id}`;
    const fields = { eventId: row.id, deliveryId, eventType: row.event_type, attempt: row.attempts };
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
    const decision = routeLinearEvent(reading.event, {
      deliveryId,
      receivedAt: row.created_at.toISOString(),
      appUserId: this.dispatcher.appUserId,
      commentFollowupsEnabled: this.deps.commentFollowupsEnabled ?? true,
      attachmentHosts: this.deps.attachmentHosts ?? DEFAULT_ATTACHMENT_HOSTS,
    });
    let outcome: string;
    try {
      // Timed from the row's insert: what a user waits between Linear's event and the signal.
      const result = await this.dispatcher.dispatch(decision, { source: 'ingest', deliveryId, receivedAt: row.created_at.getTime() });
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
  private async finish(row: EventRow, status: 'done' | 'failed' | 'pending', error: string | null, outcome: string | null, retryInMs = 0): Promise<void> {
    const sql =
      status === 'pending'
        ? `UPDATE events SET status = 'pending', claimed_at = NULL, claimed_by = NULL, error = $3,
                  next_attempt_at = now() + make_interval(secs => $4)
            WHERE id = $1 AND claimed_by = $2 AND status = 'processing'`
        : `UPDATE events SET status = '${status}', processed_at = now(), error = $3, outcome = $4
            WHERE id = $1 AND claimed_by = $2 AND status = 'processing'`;
    const params = status === 'pending' ? [row.id, this.id, truncate(error), retryInMs / 1000] : [row.id, this.id, truncate(error), outcome];
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.deps.pool.query(sql, params);
        if (!r.rowCount) this.log.warn({ eventId: row.id }, 'The event was reclaimed by another ingester before its result was written');
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
        await this.sleep(backoff(attempt, 200, 5000));
      }
    }
  }

  // ------------------------------------------------------------------ LISTEN
  private async listenLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let client: PoolClient | undefined;
      try {
        client = await this.deps.pool.connect();
        const c = client;
        const lost = new Promise<Error>((resolve) => {
          c.on('error', resolve);
          c.on('end', () => resolve(new Error('the connection ended')));
        });
        c.on('notification', (msg) => {
          if (msg.channel === EVENTS_CHANNEL && (!msg.payload || msg.payload === this.source)) this.wake();
        });
        await c.query(`LISTEN ${EVENTS_CHANNEL}`);
        failures = 0;
        this.counters.listening = true;
        this.log.debug('Listening for new events');
        this.wake(); // whatever arrived while not listening
        const err = await Promise.race([lost, this.stopSignal.then(() => undefined)]);
        this.counters.listening = false;
        if (!err) {
          await c.query(`UNLISTEN ${EVENTS_CHANNEL}`).catch(() => undefined);
          c.release();
          return;
        }
        this.log.warn({ error: err.message }, 'Lost the LISTEN connection; reconnecting');
        c.release(err);
      } catch (err) {
        this.counters.listening = false;
        client?.release(err instanceof Error ? err : new Error(String(err)));
        this.log.warn({ error: errorText(err) }, 'Could not LISTEN for events; polling meanwhile');
      }
      await this.sleep(backoff(failures++, 250, 10_000));
    }
  }

  // ------------------------------------------------------------------ waiting
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

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

/** Exponential backoff with ±20% jitter. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function truncate(s: string | null): string | null {
  return s && s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}
