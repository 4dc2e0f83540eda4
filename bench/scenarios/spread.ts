// 6. Engine runs spread over N worker processes (N = 1, 2, 3), each capped at the same number of
// concurrent engine runs (`limits.concurrent_engine_runs`), as pods of one deployment are. For
// each N: a world of its own (task queue, emulators), N worker children polling it, one warm-up
// session per worker, then the same burst of sessions delivered at once. Timed from the first
// delivery to the last final response; the engine's answer names the worker it ran on (each
// child's configuration sets BENCH_WORKER in its engine env), so each turn's worker is counted.
import type { KaiConfig } from '../../src/config/schema';
import type { BenchContext } from '../context';
import { startWorkerChild, type WorkerChild } from '../child';
import { benchTitle, benchWorkerOf } from '../engine-script';
import { round, waitUntil } from '../stats';
import { startBenchWorld, type BenchSession, type BenchWorld } from '../world';

export interface SpreadLevel {
  workers: number;
  turns: number;
  seconds: number;
  turnsPerSecond: number;
  /** Turns whose engine ran on each worker (w1, w2, ...), in worker order. */
  perWorker: number[];
  /** Turns whose worker could not be read from the answer (should be 0). */
  unattributed: number;
}

export interface SpreadResult {
  /** `limits.concurrent_engine_runs` of every worker. */
  perWorkerCap: number;
  /** How long each engine streams (s). */
  engineSeconds: number;
  levels: SpreadLevel[];
}

export interface SpreadOptions {
  workers: number[];
  turns: number;
  perWorkerCap: number;
  /** Engine stream length (default 2 s, 20 events). */
  engineSeconds?: number;
}

export async function benchSpread(ctx: BenchContext, opts: SpreadOptions): Promise<SpreadResult> {
  const engineSeconds = opts.engineSeconds ?? 2;
  const levels: SpreadLevel[] = [];
  for (const n of opts.workers) levels.push(await runLevel(ctx, n, opts.turns, opts.perWorkerCap, engineSeconds));
  return { perWorkerCap: opts.perWorkerCap, engineSeconds, levels };
}

async function runLevel(ctx: BenchContext, n: number, turns: number, cap: number, engineSeconds: number): Promise<SpreadLevel> {
  const world = await startBenchWorld(ctx, { name: `spread${n}`, workers: false, limits: { concurrent_engine_runs: cap } });
  const children: WorkerChild[] = [];
  try {
    const labels = Array.from({ length: n }, (_, i) => `w${i + 1}`);
    // In parallel: each child compiles kai from source at start-up.
    children.push(...(await Promise.all(labels.map((label) => startWorkerChild(ctx, world, { label, config: labelled(world.config, label) })))));
    const gap = Math.max(1, Math.round((engineSeconds * 1000) / 20));
    await runBurst(world, n, (i) => benchTitle(`Spread warm-up ${n}.${i}`, 20, 1));
    const started = Date.now();
    const burst = await runBurst(world, turns, (i) => benchTitle(`Spread ${n}.${i}`, 20, gap));
    const seconds = (Math.max(...burst.map((s) => world.finalAt(s.session.id)!)) - started) / 1000;
    const perWorker = labels.map(() => 0);
    let unattributed = 0;
    for (const s of burst) {
      const worker = benchWorkerOf(finalBody(world, s));
      const index = worker ? labels.indexOf(worker) : -1;
      if (index < 0) unattributed++;
      else perWorker[index]!++;
    }
    return { workers: n, turns, seconds: round(seconds), turnsPerSecond: round(turns / seconds, 2), perWorker, unattributed };
  } finally {
    await Promise.all(children.map((c) => c.kill('SIGTERM').catch(() => undefined)));
    await world.stop();
  }
}

/** The world's configuration for worker `label`: its engines say where they ran. */
function labelled(config: KaiConfig, label: string): KaiConfig {
  const script = config.engines.script!;
  return { ...config, engines: { ...config.engines, script: { ...script, env: { ...script.env, BENCH_WORKER: label } } } };
}

async function runBurst(world: BenchWorld, count: number, title: (i: number) => string): Promise<BenchSession[]> {
  const list = Array.from({ length: count }, (_, i) => world.newSession(title(i)));
  await Promise.all(list.map((s) => world.deliver(world.webhookUrl!, s)));
  await waitUntil(`${count} sessions' final responses`, () => list.every((s) => world.finalAt(s.session.id) !== undefined), 180_000, 50);
  return list;
}

/** The body of the session's final response. */
function finalBody(world: BenchWorld, s: BenchSession): string {
  const store = world.linear.state;
  for (const id of store.sessionActivities.get(s.session.id) ?? []) {
    const a = store.activities.get(id);
    if (a && (a.content.type === 'response' || a.content.type === 'error')) return String((a.content as { body?: unknown }).body ?? '');
  }
  return '';
}
