// 5. Worker memory and crash recovery, with the worker in a child process so the RSS is the
// worker's own (engines are its children and not counted).
// Memory: RSS when idle, then the peak while 1, 10 and 20 sessions run at once (each engine
// streams 200 events over about 8 s; then commit, push, PR). Crash: a session runs once
// undisturbed (the baseline), then again with the worker SIGKILLed mid-engine and a new
// worker started at once; timed from the kill to the retried engine's first progress in
// Linear and to the final response.
import { issueWorkflowId } from '../../src/names';
import type { BenchContext } from '../context';
import { startWorkerChild, type WorkerChild } from '../child';
import { benchTitle } from '../engine-script';
import { sleep } from '../../src/util';
import { round, waitUntil } from '../stats';
import { startBenchWorld, type BenchSession, type BenchWorld } from '../world';

export interface MemoryRow {
  sessions: number;
  peakRssMb: number;
}

export interface WorkerResult {
  idleRssMb: number;
  memory: MemoryRow[];
  resume: {
    engineHeartbeatTimeoutS: number;
    /** Baseline: the same session without a crash, delivery to final response. */
    uninterruptedSessionS: number;
    /** Delivery to final response with the worker killed mid-engine. */
    crashedSessionS: number;
    killToNewWorkerReadyS: number;
    /** Kill to the retried engine's first progress posted to Linear. */
    killToResumedS: number;
    killToFinalS: number;
    finalResponses: number;
    pullRequests: number;
  };
}

export interface WorkerOptions {
  concurrency: number[];
  memoryEvents: number;
  crashEvents: number;
  /** How long each memory session's engine streams (default 8 s). */
  memoryStreamS?: number;
  /** How long the crash session's engine streams (default 10 s), so the kill lands mid-stream. */
  crashStreamS?: number;
  /** The engine activity's heartbeat timeout: how soon a dead worker's run is retried (default 10 s). */
  heartbeatTimeoutS?: number;
}

export async function benchWorker(ctx: BenchContext, opts: WorkerOptions): Promise<WorkerResult> {
  const maxSessions = Math.max(...opts.concurrency);
  const heartbeatTimeoutS = opts.heartbeatTimeoutS ?? 10;
  const streamMs = (opts.memoryStreamS ?? 8) * 1000;
  const world = await startBenchWorld(ctx, {
    name: 'worker',
    workers: false,
    limits: { concurrent_engine_runs: Math.max(4, maxSessions), engine_heartbeat_timeout_s: heartbeatTimeoutS },
  });
  const children: WorkerChild[] = [];
  const spawn = async () => {
    const c = await startWorkerChild(ctx, world);
    children.push(c);
    return c;
  };
  try {
    let worker = await spawn();
    // Warm the worker (first workflow sandbox, first engine spawn) before measuring.
    await runSessions(world, 1, 20, 'Warm-up', streamMs);
    await sleep(1000);
    const idleRssMb = mb(worker.rss());
    const memory: MemoryRow[] = [];
    for (const n of opts.concurrency) {
      worker.resetPeak();
      await runSessions(world, n, opts.memoryEvents, `Memory ${n}`, streamMs);
      memory.push({ sessions: n, peakRssMb: mb(worker.peak()) });
      await world.terminateAll();
    }

    // Crash recovery.
    // An engine of at least crashStreamS, so the kill lands mid-stream whatever the event count.
    const gap = Math.max(50, Math.ceil(((opts.crashStreamS ?? 10) * 1000) / opts.crashEvents));
    const base = world.newSession(benchTitle('Crash baseline', opts.crashEvents, gap));
    const t0 = Date.now();
    await world.deliver(world.webhookUrl!, base);
    const baseFinal = await waitUntil('the baseline session', () => world.finalAt(base.session.id), 120_000);

    const s = world.newSession(benchTitle('Crash', opts.crashEvents, gap));
    const t1 = Date.now();
    await world.deliver(world.webhookUrl!, s);
    // Mid-engine: the engine run has started (its activity is running and has heartbeaten) and
    // has a good part of its stream left. Progress in Linear is not the signal: the lasting
    // record is posted seldom, so it may first appear near the end of a short stream.
    const handle = ctx.client.workflow.getHandle(issueWorkflowId(s.issue.id));
    await waitUntil(
      'the engine run to start',
      async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'engineRun' && a.lastHeartbeatTime) || undefined,
      60_000,
    );
    await sleep(1000);
    if (world.finalAt(s.session.id) !== undefined) throw new Error('bench: the crash session finished before the worker could be killed');
    const before = engineActivities(world, s).length;
    const killedAt = Date.now();
    await worker.kill('SIGKILL');
    worker = await spawn();
    const readyAt = Date.now();
    const resumedAt = await waitUntil('the retried engine', () => (engineActivities(world, s).length > before ? Date.now() : undefined), 120_000, 20);
    const finalAt = await waitUntil('the final response after the crash', () => world.finalAt(s.session.id), 180_000);
    await sleep(500);
    const snap = world.linear.snapshot().sessions.find((x) => x.id === s.session.id);
    const finals = snap?.activities.filter((a) => a.type === 'response').length ?? 0;
    const prs = await pullRequestsFor(world, s.issue.identifier);
    return {
      idleRssMb,
      memory,
      resume: {
        engineHeartbeatTimeoutS: heartbeatTimeoutS,
        uninterruptedSessionS: round((baseFinal - t0) / 1000),
        crashedSessionS: round((finalAt - t1) / 1000),
        killToNewWorkerReadyS: round((readyAt - killedAt) / 1000),
        killToResumedS: round((resumedAt - killedAt) / 1000),
        killToFinalS: round((finalAt - killedAt) / 1000),
        finalResponses: finals,
        pullRequests: prs,
      },
    };
  } finally {
    for (const c of children) await c.kill('SIGTERM').catch(() => undefined);
    await world.stop();
  }
}

/** Pull requests at the GitHub emulator whose title names the issue. */
async function pullRequestsFor(world: BenchWorld, identifier: string): Promise<number> {
  const res = await fetch(`${world.config.github.api_url.replace(/\/$/, '')}/_emulator/state`);
  const state = (await res.json()) as { repos: Record<string, { pulls: Array<{ title?: string }> }> };
  return Object.values(state.repos)
    .flatMap((r) => r.pulls)
    .filter((p) => (p.title ?? '').startsWith(`${identifier}:`)).length;
}

/** Progress posted by the engine (not kai's own acknowledgement): its thoughts and actions. */
function engineActivities(world: BenchWorld, s: BenchSession): string[] {
  const store = world.linear.state;
  return (store.sessionActivities.get(s.session.id) ?? []).filter((id) => {
    const a = store.activities.get(id);
    const text = JSON.stringify(a?.content ?? {});
    return /Thinking about step|run step/.test(text);
  });
}

async function runSessions(world: BenchWorld, n: number, events: number, label: string, streamMs: number): Promise<void> {
  const list = Array.from({ length: n }, (_, i) => world.newSession(benchTitle(`${label} ${i}`, events, Math.max(1, Math.floor(streamMs / events)))));
  await Promise.all(list.map((s) => world.deliver(world.webhookUrl!, s)));
  await waitUntil(`${n} concurrent sessions`, () => list.every((s) => world.finalAt(s.session.id) !== undefined), 180_000, 50);
}

function mb(bytes: number): number {
  return round(bytes / (1024 * 1024));
}
