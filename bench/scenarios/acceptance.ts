// 2. Webhook acceptance and ingester throughput.
// Deliveries per second answered 200 at concurrency 1, 16 and 64, through kai's webhook server
// (each becomes a signal-with-start) and kai's gateway (each becomes a row). One delivery in ten
// is sent a second time with the same Linear-Delivery, as Linear's retries are. No worker polls
// the task queue, so the figure is ingress alone; afterwards every delivery's workflow is read
// back: exactly one signal each (nothing lost, nothing duplicated). The gateway's rows are then
// drained by 1 and by 4 of kai's ingesters, and, as the baseline, by 1 and 4 of the seed's
// polling consumers, each over fresh rows; their workflows are checked the same way.
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import { startIngester, ingesterDepsFromConfig, type Ingester } from '../../src/ingest';
import type { RunningServer } from '../../src/webhook';
import type { BenchContext } from '../context';
import type { BenchDatabase } from '../database';
import { startSeedConsumer, type SeedConsumer } from '../seed-consumer';
import { round, runPool, waitUntil } from '../stats';
import { startBenchGateway, startBenchWorld, type BenchSession, type BenchWorld } from '../world';

export interface AcceptanceLevel {
  concurrency: number;
  /** Deliveries sent, redeliveries included. */
  deliveries: number;
  unique: number;
  accepted: number;
  perSecond: number;
  /** Deliveries with no effect (no workflow signal, or no row). */
  lost: number;
  /** Effects beyond one per delivery. */
  duplicated: number;
}

export interface ClaimRun {
  consumers: number;
  events: number;
  perSecond: number;
  lost: number;
  duplicated: number;
}

export interface AcceptanceResult {
  direct: AcceptanceLevel[];
  gateway: AcceptanceLevel[];
  /** kai's ingesters (NOTIFY + SKIP LOCKED claims, rows of one batch side by side). */
  ingesterClaims: ClaimRun[];
  /** Baseline: the seed's polling consumer (batch 10, one row at a time, 5 s sleep when empty). */
  seedConsumerClaims: ClaimRun[];
}

export interface AcceptanceOptions {
  deliveries: number;
  concurrency: number[];
  ingesters: number[];
  claimEvents: number;
}

const SIGNALED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;

export async function benchAcceptance(ctx: BenchContext, db: BenchDatabase, opts: AcceptanceOptions): Promise<AcceptanceResult> {
  const world = await startBenchWorld(ctx, { name: 'accept', workers: false });
  const pool = db.pool(10);
  let gateway: RunningServer | undefined;
  try {
    await db.truncate();
    const started = await startBenchGateway(ctx, world, pool);
    gateway = started.server;
    const gatewayUrl = started.url;

    const direct: AcceptanceLevel[] = [];
    for (const c of opts.concurrency) {
      const run = await blast(world, world.webhookUrl!, opts.deliveries, c);
      const effects = await signalCounts(world, run.sessions);
      direct.push({ ...run.level, ...effects });
      await world.terminateAll();
    }

    const gatewayLevels: AcceptanceLevel[] = [];
    for (const c of opts.concurrency) {
      const run = await blast(world, gatewayUrl, opts.deliveries, c);
      const effects = await rowCounts(pool, run.sessions);
      gatewayLevels.push({ ...run.level, ...effects });
      await db.truncate();
    }

    const ingesterClaims: ClaimRun[] = [];
    for (const n of opts.ingesters) {
      ingesterClaims.push(
        await drain(world, db, gatewayUrl, opts.claimEvents, n, async () => {
          const list: Ingester[] = [];
          for (let i = 0; i < n; i++) {
            list.push(
              startIngester(
                ingesterDepsFromConfig(world.config, db.pool(4), world.sessions, {
                  logger: ctx.logger,
                  appUserId: world.linear.state.appUser.id,
                  ingesterId: `bench-${i}`,
                }),
              ),
            );
          }
          return async () => void (await Promise.all(list.map((x) => x.stop())));
        }),
      );
    }
    const seedConsumerClaims: ClaimRun[] = [];
    for (const n of opts.ingesters) {
      seedConsumerClaims.push(
        await drain(world, db, gatewayUrl, opts.claimEvents, n, async () => {
          const list: SeedConsumer[] = [];
          for (let i = 0; i < n; i++) {
            list.push(await startSeedConsumer({ databaseUrl: db.url, sessions: world.sessions, logger: ctx.logger, appUserId: world.linear.state.appUser.id }));
          }
          return async () => void (await Promise.all(list.map((x) => x.stop())));
        }),
      );
    }
    return { direct, gateway: gatewayLevels, ingesterClaims, seedConsumerClaims };
  } finally {
    await gateway?.close().catch(() => undefined);
    await world.stop();
  }
}

/** Sends `count` new sessions' deliveries plus a redelivery of every tenth, `concurrency` at a time. */
async function blast(world: BenchWorld, url: string, count: number, concurrency: number) {
  const sessions = Array.from({ length: count }, (_, i) => world.newSession(`Accept c${concurrency} ${i}`));
  const jobs: Array<() => Promise<number | null>> = sessions.map((s) => async () => (await world.deliver(url, s)).status);
  for (let i = 0; i < count; i += 10) {
    const s = sessions[i]!;
    // The same Linear-Delivery again, re-stamped and re-signed as Linear's retries are; a few
    // places later, so at higher concurrency some race their original.
    jobs.splice(Math.min(jobs.length, i + 1 + Math.floor(concurrency / 2)), 0, async () => (await world.deliver(url, s)).status);
  }
  let accepted = 0;
  const started = process.hrtime.bigint();
  await runPool(jobs.length, concurrency, async (i) => {
    if ((await jobs[i]!()) === 200) accepted++;
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    sessions,
    level: { concurrency, deliveries: jobs.length, unique: count, accepted, perSecond: round(jobs.length / seconds) },
  };
}

/** Reads each session's workflow history: one signal per delivery is the only right answer. */
async function signalCounts(world: BenchWorld, sessions: BenchSession[]): Promise<{ lost: number; duplicated: number }> {
  let lost = 0;
  let duplicated = 0;
  await runPool(sessions.length, 16, async (i) => {
    const s = sessions[i]!;
    let signals = 0;
    try {
      const history = await world.handle(s.issue.id).fetchHistory();
      signals = (history.events ?? []).filter((e) => e.eventType === SIGNALED).length;
    } catch {
      signals = 0;
    }
    if (signals === 0) lost++;
    if (signals > 1) duplicated += signals - 1;
  });
  return { lost, duplicated };
}

async function rowCounts(pool: Pool, sessions: BenchSession[]): Promise<{ lost: number; duplicated: number }> {
  const { rows } = await pool.query<{ external_id: string; n: string }>(
    'SELECT external_id, count(*) AS n FROM events WHERE external_id = ANY($1) GROUP BY external_id',
    [sessions.map((s) => s.deliveryId)],
  );
  const byId = new Map(rows.map((r) => [r.external_id, Number(r.n)]));
  let lost = 0;
  let duplicated = 0;
  for (const s of sessions) {
    const n = byId.get(s.deliveryId) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
  }
  return { lost, duplicated };
}

/** Fills the table through the gateway, then times `consumers` draining it and checks the workflows. */
async function drain(
  world: BenchWorld,
  db: BenchDatabase,
  gatewayUrl: string,
  events: number,
  consumers: number,
  start: () => Promise<() => Promise<void>>,
): Promise<ClaimRun> {
  await db.truncate();
  const fill = await blast(world, gatewayUrl, events, 32);
  const pool = db.pool(2);
  const pending = async () => Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE status IN ('pending', 'processing')")).rows[0]!.n);
  const started = process.hrtime.bigint();
  const stop = await start();
  try {
    await waitUntil(`${consumers} consumer(s) to drain ${events} events`, async () => (await pending()) === 0, 120_000, 20);
  } finally {
    await stop();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const effects = await signalCounts(world, fill.sessions);
  await world.terminateAll();
  await pool.end();
  return { consumers, events, perSecond: round(events / seconds), ...effects };
}
