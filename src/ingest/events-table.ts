// The events-table queries of the ingester: claim, heartbeat, reclaim, finish, skip, backlog.
//
// Order within an issue: a row is claimed only when no earlier row of the same issue is still
// unfinished (pending or processing, by any ingester), so one issue's events reach its workflow
// in order across ingesters, retries and crashes. Claims take a transaction-level advisory lock
// so each claim sees every earlier claim committed (SKIP LOCKED alone let a second claimer take
// row 2 while row 1 was being claimed).
//
// Crashes: a claim is a lease that its ingester renews every few seconds (heartbeat); rows of
// an ingester that stopped renewing are handed back after the lease, seconds rather than minutes.
import type { Pool } from 'pg';
import { eventRowSchema, type EventRow } from './rows';

const ROW_COLUMNS = 'e.id::text AS id, e.source, e.event_type, e.external_id, e.payload, e.attempts, e.created_at, e.issue_id, e.priority, e.in_current_cycle';
/** Serialises claims (any number of ingesters); 'kaic'. */
const CLAIM_LOCK = 0x6b616963;

export interface EventsTableOptions {
  source: string;
  /** event_prioritization_enabled: Linear priority 1..4 then 0/unknown, then current cycle. */
  prioritize: boolean;
}

export type RowStatus = 'done' | 'failed' | 'pending';

export class EventsTable {
  constructor(
    private readonly pool: Pool,
    private readonly opts: EventsTableOptions,
  ) {}

  private orderBy(prefix = ''): string {
    return this.opts.prioritize
      ? `${prefix}priority_rank, (${prefix}in_current_cycle IS TRUE) DESC, ${prefix}created_at, ${prefix}id`
      : `${prefix}created_at, ${prefix}id`;
  }

  /** Claims up to `limit` rows due now, at most the oldest unfinished one per issue. */
  async claim(limit: number, ingesterId: string): Promise<EventRow[]> {
    const client = await this.pool.connect();
    let rows: Array<Record<string, unknown>>;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      const result = await client.query(
        `WITH heads AS (
           -- The oldest unfinished row of each issue: the only one of its issue that may go now.
           SELECT DISTINCT ON (h.issue_id) h.id
             FROM events h
            WHERE h.source = $1 AND h.status IN ('pending', 'processing') AND h.issue_id IS NOT NULL
            ORDER BY h.issue_id, h.created_at, h.id),
         picked AS (
           SELECT c.id FROM events c
            WHERE c.source = $1 AND c.status = 'pending' AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= now())
              AND (c.issue_id IS NULL OR c.id IN (SELECT id FROM heads))
            ORDER BY ${this.orderBy('c.')}
            LIMIT $2
            FOR UPDATE SKIP LOCKED)
         UPDATE events e SET status = 'processing', claimed_at = now(), claimed_by = $3, attempts = e.attempts + 1
           FROM picked WHERE e.id = picked.id
         RETURNING ${ROW_COLUMNS}, e.priority_rank`,
        [this.opts.source, limit, ingesterId],
      );
      await client.query('COMMIT');
      rows = result.rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(err instanceof Error ? err : undefined);
      throw err;
    }
    client.release();
    const parsed = rows.map((r) => ({ row: eventRowSchema.parse(r), rank: Number(r.priority_rank) }));
    const byTime = (a: EventRow, b: EventRow) => a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    parsed.sort((a, b) =>
      this.opts.prioritize
        ? a.rank - b.rank || Number(!!b.row.in_current_cycle) - Number(!!a.row.in_current_cycle) || byTime(a.row, b.row)
        : byTime(a.row, b.row),
    );
    return parsed.map((p) => p.row);
  }

  /** Renews the lease of every row this ingester is processing. */
  async heartbeat(ingesterId: string): Promise<number> {
    const r = await this.pool.query(
      `UPDATE events SET claimed_at = now() WHERE source = $1 AND status = 'processing' AND claimed_by = $2`,
      [this.opts.source, ingesterId],
    );
    return r.rowCount ?? 0;
  }

  /** Hands back rows whose lease was not renewed within `leaseMs` (their ingester died). */
  async reclaimExpired(leaseMs: number): Promise<number> {
    const r = await this.pool.query(
      `UPDATE events SET status = 'pending', claimed_by = NULL, claimed_at = NULL,
              error = 'claim lease expired (was the ingester ' || coalesce(claimed_by, 'that claimed it') || ' stopped?)'
        WHERE source = $1 AND status = 'processing'
          AND coalesce(claimed_at, processed_at, created_at) < now() - make_interval(secs => $2)`,
      [this.opts.source, leaseMs / 1000],
    );
    return r.rowCount ?? 0;
  }

  /** current_cycle_only: pending rows of issues outside the current cycle become `skipped`. */
  async skipOutsideCycle(): Promise<string[]> {
    const r = await this.pool.query(
      `UPDATE events SET status = 'skipped', processed_at = now(), outcome = 'skipped: the issue is outside the current cycle (current_cycle_only)'
        WHERE source = $1 AND status = 'pending' AND in_current_cycle IS FALSE
        RETURNING event_type`,
      [this.opts.source],
    );
    return (r.rows as Array<{ event_type: string }>).map((x) => x.event_type);
  }

  /** Pending rows (including those waiting out a backoff) and the age of the oldest, by the database's clock. */
  async backlog(): Promise<{ backlog: number; lagSeconds: number }> {
    const { rows } = await this.pool.query(
      `SELECT count(*)::int AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS lag
         FROM events WHERE source = $1 AND status = 'pending'`,
      [this.opts.source],
    );
    return { backlog: Number(rows[0]?.backlog ?? 0), lagSeconds: Number(rows[0]?.lag ?? 0) };
  }

  /** Writes a row's result if this ingester still holds it; false when it was reclaimed. */
  async finish(rowId: string, ingesterId: string, status: RowStatus, error: string | null, outcome: string | null, retryInMs = 0): Promise<boolean> {
    const r =
      status === 'pending'
        ? await this.pool.query(
            `UPDATE events SET status = 'pending', claimed_at = NULL, claimed_by = NULL, error = $3,
                    next_attempt_at = now() + make_interval(secs => $4)
              WHERE id = $1 AND claimed_by = $2 AND status = 'processing'`,
            [rowId, ingesterId, truncate(error), retryInMs / 1000],
          )
        : await this.pool.query(
            `UPDATE events SET status = $5, processed_at = now(), error = $3, outcome = $4
              WHERE id = $1 AND claimed_by = $2 AND status = 'processing'`,
            [rowId, ingesterId, truncate(error), outcome, status],
          );
    return (r.rowCount ?? 0) > 0;
  }
}

function truncate(s: string | null): string | null {
  return s && s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}
