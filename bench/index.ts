// `npm run bench` (`kai bench` in a checkout): measures kai against the seed's design on this machine, in one
// run, and prints a table and bench/results.json. Loads go to 127.0.0.1 only and every
// measurement is bounded in count and time. See each scenario for what exactly is timed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { KaiConfig } from '../src/config/schema';
import { setLogger } from '../src/log';
import { openBenchContext, type BenchContext } from './context';
import { createBenchDatabase, type BenchDatabase } from './database';
import { benchAcceptance, type AcceptanceOptions } from './scenarios/acceptance';
import { benchCeiling, type CeilingOptions } from './scenarios/ceiling';
import { benchAckLatency, type LatencyOptions } from './scenarios/latency';
import { benchSessionCost, type SessionCostOptions } from './scenarios/sessions';
import { benchSpread, type SpreadOptions } from './scenarios/spread';
import { benchStop, type StopOptions } from './scenarios/stop';
import { benchWorker, type WorkerOptions } from './scenarios/worker';
import type { BenchResults } from './results';
import { formatTable } from './table';

export type { BenchResults } from './results';

export interface BenchOptions {
  config: KaiConfig;
  quick: boolean;
  /** Where results.json goes (default ./bench/results.json). */
  outFile?: string;
  print?: (line: string) => void;
}

export interface BenchCounts {
  latency: LatencyOptions;
  acceptance: AcceptanceOptions;
  sessions: SessionCostOptions;
  worker: WorkerOptions;
  spread: SpreadOptions;
  ceiling: CeilingOptions;
  stop: StopOptions;
}

export const FULL_COUNTS: BenchCounts = {
  latency: { sessions: 200, ratePerSecond: 10 },
  acceptance: { deliveries: 400, concurrency: [1, 16, 64], ingesters: [1, 4], claimEvents: 1000 },
  sessions: { requestRuns: 2, historyEvents: [20, 200, 2000] },
  worker: { concurrency: [1, 10, 20], memoryEvents: 200, crashEvents: 200 },
  spread: { workers: [1, 2, 3], turns: 12, perWorkerCap: 2 },
  ceiling: { calls: 400, concurrency: [1, 16, 64] },
  stop: { stops: 20, concurrent: 4 },
};

export const QUICK_COUNTS: BenchCounts = {
  latency: { sessions: 20, ratePerSecond: 10 },
  acceptance: { deliveries: 40, concurrency: [1, 16, 64], ingesters: [1, 4], claimEvents: 40 },
  sessions: { requestRuns: 1, historyEvents: [20, 200, 2000] },
  worker: { concurrency: [1, 2, 3], memoryEvents: 40, crashEvents: 60 },
  spread: { workers: [1, 2, 3], turns: 6, perWorkerCap: 2 },
  ceiling: { calls: 40, concurrency: [1, 16, 64] },
  stop: { stops: 8, concurrent: 4 },
};

/** Runs every scenario in turn on an open context and database. */
export async function runBenchSuite(ctx: BenchContext, db: BenchDatabase, counts: BenchCounts, say: (line: string) => void = () => undefined): Promise<Omit<BenchResults, 'meta'>> {
  say(`1/8 acknowledgement latency: ${counts.latency.sessions} sessions per path at ${counts.latency.ratePerSecond}/s (direct, gateway+NOTIFY, seed polling)...`);
  const ackLatency = await benchAckLatency(ctx, db, counts.latency);
  say(`2/8 webhook acceptance (${counts.acceptance.deliveries} deliveries per level) and ingester claims (${counts.acceptance.claimEvents} events)...`);
  const acceptance = await benchAcceptance(ctx, db, counts.acceptance);
  say('3/8 + 4/8 Linear requests and history events per session...');
  const cost = await benchSessionCost(ctx, counts.sessions);
  say('5/8 worker memory and crash recovery (worker in a child process)...');
  const worker = await benchWorker(ctx, counts.worker);
  say(`6/8 engine runs spread over ${counts.spread.workers.join(', ')} worker processes (cap ${counts.spread.perWorkerCap} each, ${counts.spread.turns} turns)...`);
  const spread = await benchSpread(ctx, counts.spread);
  say(`7/8 the server's ceiling: raw signal-with-start from a bare client (${counts.ceiling.calls} calls per level)...`);
  const ceiling = await benchCeiling(ctx, counts.ceiling);
  say(`8/8 Stop to final response (${counts.stop.stops} stops, ${counts.stop.concurrent} at a time)...`);
  const stop = await benchStop(ctx, counts.stop);
  return { ackLatency, acceptance, linearRequests: cost.requests, historyEvents: cost.history, worker, spread, ceiling, stop };
}

export async function runBench(opts: BenchOptions): Promise<number> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const counts = opts.quick ? QUICK_COUNTS : FULL_COUNTS;
  const startedAt = new Date();
  const ctx = await openBenchContext({ baseConfig: opts.config, say });
  setLogger(ctx.logger);
  let db: BenchDatabase | undefined;
  try {
    db = await createBenchDatabase(ctx.pgAdminUrl);
    const suite = await runBenchSuite(ctx, db, counts, say);
    const results: BenchResults = {
      meta: {
        startedAt: startedAt.toISOString(),
        seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        quick: opts.quick,
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 1024 ** 3),
        temporal: ctx.temporalAddress,
      },
      ...suite,
    };
    const out = resolve(opts.outFile ?? 'bench/results.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    for (const line of formatTable(results)) print(line);
    print('');
    print(`Results written to ${out}.`);
    return 0;
  } finally {
    await db?.drop().catch((err) => say(`bench: could not drop the bench database: ${(err as Error).message}`));
    await ctx.close();
  }
}
