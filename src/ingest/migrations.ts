// Versioned SQL migrations of the kai-gateway events table. Idempotent and safe to run from
// several processes at once (an advisory lock serialises them). Migration 1 is the seed's DDL
// verbatim; later ones only add columns, indexes and triggers, so the original kai-gateway and
// takopi-linear keep working against the same table.
import type { Pool, PoolClient } from 'pg';
import { errorText } from '../util';

export interface Migration {
  version: number;
  name: string;
  /** Runs inside a transaction. */
  up(client: PoolClient): Promise<void>;
}

/** The seed's schema, exactly as takopi-linear's setup guide gives it. */
export const SEED_EVENTS_DDL = `
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE events (
id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
source TEXT NOT NULL,
event_type TEXT NOT NULL,
external_id TEXT,
payload JSONB NOT NULL,
status TEXT NOT NULL DEFAULT 'pending',
created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
processed_at TIMESTAMPTZ,
error TEXT
);
CREATE INDEX idx_events_status ON events (status) WHERE status = 'pending';
CREATE INDEX idx_events_source ON events (source, status);
CREATE UNIQUE INDEX idx_events_external_id ON events (source, external_id) WHERE external_id IS NOT NULL;
`;

/** Channel the insert trigger notifies; the payload is the row's source. */
export const EVENTS_CHANNEL = 'kai_events';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'seed events table',
    async up(c) {
      // A table created by the original kai-gateway setup is adopted as it is.
      const { rows } = await c.query<{ t: string | null }>(`SELECT to_regclass('events')::text AS t`);
      if (rows[0]?.t) return;
      await c.query(SEED_EVENTS_DDL);
    },
  },
  {
    version: 2,
    name: 'reliable claiming: attempts, lease, backoff, priority',
    async up(c) {
      await c.query(`
        ALTER TABLE events
          ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0,
          ADD COLUMN IF NOT EXISTS claimed_at TIMESTAMPTZ,
          ADD COLUMN IF NOT EXISTS claimed_by TEXT,
          ADD COLUMN IF NOT EXISTS next_attempt_at TIMESTAMPTZ,
          ADD COLUMN IF NOT EXISTS issue_id TEXT,
          ADD COLUMN IF NOT EXISTS priority SMALLINT,
          ADD COLUMN IF NOT EXISTS in_current_cycle BOOLEAN,
          ADD COLUMN IF NOT EXISTS outcome TEXT;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS priority_rank SMALLINT
          GENERATED ALWAYS AS (CASE WHEN priority BETWEEN 1 AND 4 THEN priority ELSE 5 END) STORED;
        CREATE INDEX IF NOT EXISTS idx_events_claim ON events (source, priority_rank, created_at) WHERE status = 'pending';
        CREATE INDEX IF NOT EXISTS idx_events_processing ON events (source, claimed_at) WHERE status = 'processing';
      `);
      // Derives issue, priority and cycle from the stored body on insert, whichever gateway
      // wrote it. Never fails an insert: a body it cannot read just leaves the columns null.
      await c.query(`
        CREATE OR REPLACE FUNCTION kai_events_derive() RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE
          body jsonb := NEW.payload;
          issue jsonb;
          cyc jsonb;
        BEGIN
          BEGIN
            IF jsonb_typeof(body) = 'string' THEN body := (body #>> '{}')::jsonb; END IF;
            IF NOT (body ? 'type') AND jsonb_typeof(body->'payload') = 'object' THEN body := body->'payload'; END IF;
            IF NOT (body ? 'type') AND jsonb_typeof(body->'data') = 'object' AND (body->'data') ? 'type' THEN body := body->'data'; END IF;
            issue := CASE
              WHEN body->>'type' = 'Issue' THEN body->'data'
              WHEN body->>'type' = 'Comment' THEN coalesce(body->'data'->'issue', jsonb_build_object('id', body->'data'->'issueId'))
              ELSE coalesce(body->'agentSession'->'issue', jsonb_build_object('id', body->'agentSession'->'issueId'))
            END;
            IF jsonb_typeof(issue) = 'object' THEN
              NEW.issue_id := coalesce(NEW.issue_id, issue->>'id');
              IF jsonb_typeof(issue->'priority') = 'number' THEN
                NEW.priority := coalesce(NEW.priority, (issue->>'priority')::numeric::smallint);
              END IF;
              cyc := issue->'cycle';
              IF jsonb_typeof(cyc) = 'object' AND cyc ? 'startsAt' AND cyc ? 'endsAt' THEN
                NEW.in_current_cycle := coalesce(NEW.in_current_cycle,
                  now() >= (cyc->>'startsAt')::timestamptz AND now() < (cyc->>'endsAt')::timestamptz);
              ELSIF issue ? 'cycleId' AND jsonb_typeof(issue->'cycleId') = 'null' THEN
                NEW.in_current_cycle := coalesce(NEW.in_current_cycle, false);
              END IF;
            END IF;
          EXCEPTION WHEN others THEN
            NULL;
          END;
          RETURN NEW;
        END
        $fn$;
        DROP TRIGGER IF EXISTS kai_events_derive ON events;
        CREATE TRIGGER kai_events_derive BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION kai_events_derive();
      `);
    },
  },
  {
    version: 3,
    name: 'notify ingesters on insert',
    async up(c) {
      await c.query(`
        CREATE OR REPLACE FUNCTION kai_events_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          PERFORM pg_notify('${EVENTS_CHANNEL}', NEW.source);
          RETURN NULL;
        END
        $fn$;
        DROP TRIGGER IF EXISTS kai_events_notify ON events;
        CREATE TRIGGER kai_events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION kai_events_notify();
      `);
    },
  },
  {
    version: 4,
    name: 'signed-content dedupe key; per-issue order of unfinished rows',
    async up(c) {
      await c.query(`
        ALTER TABLE events ADD COLUMN IF NOT EXISTS event_key TEXT;
        CREATE UNIQUE INDEX IF NOT EXISTS idx_events_event_key ON events (source, event_key) WHERE event_key IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_events_issue_unfinished ON events (source, issue_id, created_at, id)
          WHERE status IN ('pending', 'processing');
      `);
    },
  },
];

const LOCK_KEY = 0x6b6169; // 'kai'

export interface MigrateResult {
  applied: Array<{ version: number; name: string }>;
  current: number;
}

/** Applies every migration not yet recorded in kai_migrations, each in its own transaction. */
export async function migrate(pool: Pool, migrations: Migration[] = MIGRATIONS): Promise<MigrateResult> {
  const client = await pool.connect();
  // A connection cut between two statements is emitted as an 'error' event that would crash the
  // process without a listener; the next statement fails with it anyway.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  const applied: MigrateResult['applied'] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await client.query(`
        CREATE TABLE IF NOT EXISTS kai_migrations (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM kai_migrations');
      const done = new Set(rows.map((r) => r.version));
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await m.up(client);
          await client.query('INSERT INTO kai_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`Migration ${m.version} (${m.name}) failed: ${errorText(err)}`);
        }
        applied.push({ version: m.version, name: m.name });
      }
      const current = Math.max(0, ...migrations.map((m) => m.version).filter((v) => done.has(v) || applied.some((a) => a.version === v)));
      return { applied, current };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
    client.removeListener('error', ignore);
  }
}
