// 1. Acknowledgement latency: from the moment the emulator posts a `created` webhook to the
// moment kai's acknowledgement is stored at the emulator. The same paced deliveries go through
// (a) kai's webhook server, (b) kai's gateway + ingester (woken by NOTIFY), and (c) the seed's
// design: the same gateway, drained by a consumer polling every 5 s, 10 rows at a time.
// Sessions ask "/help", so what is timed is ingress and acknowledgement rather than git.
import { startIngester, ingesterDepsFromConfig } from '../../src/ingest';
import type { RunningServer } from '../../src/webhook';
import type { BenchContext } from '../context';
import type { BenchDatabase } from '../database';
import { startSeedConsumer } from '../seed-consumer';
import { sleep } from '../../src/util';
import { distribution, waitUntil, type Distribution } from '../stats';
import { startBenchGateway, startBenchWorld, type BenchWorld } from '../world';

export interface LatencyPath extends Distribution {
  /** Deliveries that were not answered 200. */
  rejected: number;
}

export interface LatencyResult {
  sessions: number;
  deliveriesPerSecond: number;
  unit: 'ms';
  direct: LatencyPath;
  gatewayNotify: LatencyPath;
  seedPolling: LatencyPath;
  seedPollIntervalS: number;
  seedBatchSize: number;
}

export interface LatencyOptions {
  sessions: number;
  ratePerSecond: number;
  /** The seed's poll_interval and poll_batch_size. */
  seedPollIntervalMs?: number;
  seedBatchSize?: number;
}

export async function benchAckLatency(ctx: BenchContext, db: BenchDatabase, opts: LatencyOptions): Promise<LatencyResult> {
  const pollMs = opts.seedPollIntervalMs ?? 5000;
  const batch = opts.seedBatchSize ?? 10;
  const world = await startBenchWorld(ctx, { name: 'latency' });
  const pool = db.pool(10);
  let gateway: RunningServer | undefined;
  try {
    await db.truncate();
    const started = await startBenchGateway(ctx, world, pool);
    gateway = started.server;
    const gatewayUrl = started.url;
    // Warm up: the first workflow on a fresh worker pays for its sandbox.
    await runPath(world, world.webhookUrl!, 3, 20, 'warm-up');

    const direct = await runPath(world, world.webhookUrl!, opts.sessions, opts.ratePerSecond, 'direct');

    const ingestPool = db.pool(4);
    const ingester = startIngester(
      ingesterDepsFromConfig(world.config, ingestPool, world.sessions, {
        logger: ctx.logger,
        appUserId: world.linear.state.appUser.id,
        pollIntervalMs: pollMs,
        batchSize: batch,
      }),
    );
    await waitUntil('the ingester to LISTEN', () => ingester.stats().listening, 10_000);
    let gatewayNotify: LatencyPath;
    try {
      gatewayNotify = await runPath(world, gatewayUrl, opts.sessions, opts.ratePerSecond, 'notify');
    } finally {
      await ingester.stop();
    }

    const seed = await startSeedConsumer({
      databaseUrl: db.url,
      sessions: world.sessions,
      logger: ctx.logger,
      batchSize: batch,
      pollIntervalMs: pollMs,
      appUserId: world.linear.state.appUser.id,
    });
    let seedPolling: LatencyPath;
    try {
      seedPolling = await runPath(world, gatewayUrl, opts.sessions, opts.ratePerSecond, 'seed');
    } finally {
      await seed.stop();
    }
    return {
      sessions: opts.sessions,
      deliveriesPerSecond: opts.ratePerSecond,
      unit: 'ms',
      direct,
      gatewayNotify,
      seedPolling,
      seedPollIntervalS: pollMs / 1000,
      seedBatchSize: batch,
    };
  } finally {
    await gateway?.close().catch(() => undefined);
    await world.stop();
  }
}

/** Sends `count` sessions' `created` webhooks to `url`, `rate` per second, and times each ack. */
async function runPath(world: BenchWorld, url: string, count: number, rate: number, label: string): Promise<LatencyPath> {
  const sessions = Array.from({ length: count }, (_, i) => world.newSession(`Latency ${label} ${i}`, { mention: '/help' }));
  const sentAt = new Map<string, number>();
  let rejected = 0;
  const start = Date.now() + 50;
  await Promise.all(
    sessions.map(async (s, i) => {
      const due = start + (i * 1000) / rate;
      await sleep(Math.max(0, due - Date.now()));
      sentAt.set(s.session.id, Date.now());
      const res = await world.deliver(url, s);
      if (res.status !== 200) rejected++;
    }),
  );
  await waitUntil(
    `${label}: acknowledgements of ${count} sessions`,
    () => sessions.every((s) => world.ackAt(s.session.id) !== undefined),
    60_000 + count * 200,
    20,
  );
  const latencies = sessions.map((s) => world.ackAt(s.session.id)! - sentAt.get(s.session.id)!);
  // Let the help answers land so the next path starts on a quiet worker.
  await waitUntil(`${label}: answers`, () => sessions.every((s) => world.finalAt(s.session.id) !== undefined), 60_000, 50).catch(() => undefined);
  await world.terminateAll();
  return { ...distribution(latencies), rejected };
}

