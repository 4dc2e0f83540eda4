// The baseline: the seed's consumer (takopi-linear 0.1.0) over the same events table. It claims
// up to poll_batch_size pending rows, oldest first, with FOR UPDATE SKIP LOCKED on one
// connection; when there are none it sleeps poll_interval; otherwise it handles the rows one
// after another, marks each done (or failed) and polls again at once. No NOTIFY, no lease, no
// retry. Rows are handed to kai's own router and dispatcher, so only the ingress design differs
// from kai's ingester.
import { Client } from 'pg';
import type { Logger } from 'pino';
import { eventRowSchema, readEventRow } from '../ingest/rows';
import { GATEWAY_SOURCE } from '../ingest/gateway';
import type { SessionSink } from '../ingress/dispatch';
import { createIngress } from '../ingress/ingress';

export interface SeedConsumerOptions {
  databaseUrl: string;
  sessions: SessionSink;
  logger: Logger;
  /** poll_batch_size (seed default 10). */
  batchSize?: number;
  /** poll_interval in ms (seed default 5000). */
  pollIntervalMs?: number;
  appUserId?: string;
}

export interface SeedConsumer {
  stats(): { claimed: number; done: number; failed: number; polls: number };
  stop(): Promise<void>;
}

const CLAIM_SQL = `
  UPDATE events SET status = 'processing', processed_at = now()
   WHERE id IN (
     SELECT id FROM events
      WHERE source = $1 AND status = 'pending'
      ORDER BY created_at
      LIMIT $2
      FOR UPDATE SKIP LOCKED)
  RETURNING id::text AS id, source, event_type, external_id, payload, 0 AS attempts, created_at`;

export async function startSeedConsumer(opts: SeedConsumerOptions): Promise<SeedConsumer> {
  const db = new Client({ connectionString: opts.databaseUrl });
  db.on('error', (err) => opts.logger.warn({ error: err.message }, 'seed consumer connection failed'));
  await db.connect();
  const batchSize = opts.batchSize ?? 10;
  const pollIntervalMs = opts.pollIntervalMs ?? 5000;
  const ingress = createIngress({ sessions: opts.sessions, logger: opts.logger, appUserId: opts.appUserId });
  const counts = { claimed: 0, done: 0, failed: 0, polls: 0 };
  let stopped = false;
  let wakeSleep: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeSleep = undefined;
        resolve();
      }
      wakeSleep = done;
    });

  const loop = (async () => {
    while (!stopped) {
      counts.polls++;
      const { rows } = await db.query(CLAIM_SQL, [GATEWAY_SOURCE, batchSize]);
      counts.claimed += rows.length;
      if (rows.length === 0) {
        await sleep(pollIntervalMs);
        continue;
      }
      for (const raw of rows) {
        const row = eventRowSchema.parse({ ...raw, attempts: Number(raw.attempts) });
        try {
          const reading = readEventRow(row);
          if (!reading.ok) throw new Error(reading.error);
          await ingress.handle(reading.event, { source: 'ingest', receivedAt: row.created_at });
          await db.query(`UPDATE events SET status = 'done', processed_at = now() WHERE id = $1`, [row.id]);
          counts.done++;
        } catch (err) {
          await db.query(`UPDATE events SET status = 'failed', processed_at = now(), error = $1 WHERE id = $2`, [
            err instanceof Error ? err.message : String(err),
            row.id,
          ]);
          counts.failed++;
        }
      }
    }
  })();
  loop.catch((err) => opts.logger.error({ err }, 'seed consumer stopped'));

  return {
    stats: () => ({ ...counts }),
    async stop() {
      stopped = true;
      wakeSleep?.();
      await loop.catch(() => undefined);
      await db.end().catch(() => undefined);
    },
  };
}
