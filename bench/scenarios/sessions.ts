// 3. Linear requests per session, and 4. Temporal history events per session.
// A standard session (the engine emits 200 events over about 4 s, then kai commits, pushes and
// opens a PR) runs once with kai's coalescing and once with coalescing off
// (ephemeral_activity_coalesce_s = 0, plan_coalesce_s = 0); every request the Linear emulator
// received for it is counted. Then sessions whose engine emits 20, 200 and 2,000 events are run
// and their workflow histories counted: progress goes straight to Linear, not through history.
import type { BenchContext } from '../context';
import { benchTitle } from '../engine-script';
import { sleep } from '../../src/util';
import { round, waitUntil } from '../stats';
import { startBenchWorld, type BenchWorld } from '../world';

export interface RequestsResult {
  engineEvents: number;
  runs: number;
  /** Mean Linear requests per session with kai's default coalescing. */
  coalesced: number;
  /** The same session with coalescing off (the baseline). */
  uncoalesced: number;
  coalesceSettings: { ephemeral_activity_coalesce_s: number; plan_coalesce_s: number };
}

export interface HistoryRow {
  engineEvents: number;
  historyEvents: number;
  linearRequests: number;
  sessionSeconds: number;
}

export interface SessionCostOptions {
  requestRuns: number;
  /** Engine events of the standard session whose Linear requests are counted (default 200). */
  standardEvents?: number;
  historyEvents: number[];
}

/** Spacing of engine events: a stream of about 4 s at most, so the run stays short. */
function gapFor(events: number): number {
  return Math.max(2, Math.min(50, Math.floor(4000 / events)));
}

async function runOne(world: BenchWorld, events: number): Promise<{ requests: number; history: number; seconds: number }> {
  world.linear.clearRequests();
  const s = world.newSession(benchTitle('Bench session', events, gapFor(events)));
  const t0 = Date.now();
  const res = await world.deliver(world.webhookUrl!, s);
  if (res.status !== 200) throw new Error(`bench: the webhook answered ${res.status} ${res.body}`);
  const final = await waitUntil(`the final response of a ${events}-event session`, () => world.finalAt(s.session.id), 120_000, 25);
  await sleep(500); // anything posted after the response still counts
  const kinds = world.linear.state.sessionActivities.get(s.session.id)?.map((id) => world.linear.state.activities.get(id)?.content.type);
  if (!kinds?.includes('response')) throw new Error(`bench: the ${events}-event session ended in an error: ${JSON.stringify(world.linear.snapshot().sessions.find((x) => x.id === s.session.id)?.activities.slice(-1))}`);
  const history = await world.handle(s.issue.id).fetchHistory();
  return { requests: world.linear.requests().length, history: history.events?.length ?? 0, seconds: (final - t0) / 1000 };
}

export async function benchSessionCost(ctx: BenchContext, opts: SessionCostOptions): Promise<{ requests: RequestsResult; history: HistoryRow[] }> {
  const standard = opts.standardEvents ?? 200;
  const coalescedWorld = await startBenchWorld(ctx, { name: 'coalesced' });
  const coalesced: number[] = [];
  const history: HistoryRow[] = [];
  try {
    for (let i = 0; i < opts.requestRuns; i++) coalesced.push((await runOne(coalescedWorld, standard)).requests);
    for (const events of opts.historyEvents) {
      const r = await runOne(coalescedWorld, events);
      history.push({ engineEvents: events, historyEvents: r.history, linearRequests: r.requests, sessionSeconds: round(r.seconds) });
    }
  } finally {
    await coalescedWorld.stop();
  }
  const off = { ephemeral_activity_coalesce_s: 0, plan_coalesce_s: 0 };
  const rawWorld = await startBenchWorld(ctx, { name: 'uncoalesced', transport: off });
  const uncoalesced: number[] = [];
  try {
    for (let i = 0; i < opts.requestRuns; i++) uncoalesced.push((await runOne(rawWorld, standard)).requests);
  } finally {
    await rawWorld.stop();
  }
  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const t = coalescedWorld.config.transports.linear;
  return {
    requests: {
      engineEvents: standard,
      runs: opts.requestRuns,
      coalesced: mean(coalesced),
      uncoalesced: mean(uncoalesced),
      coalesceSettings: { ephemeral_activity_coalesce_s: t.ephemeral_activity_coalesce_s, plan_coalesce_s: t.plan_coalesce_s },
    },
    history,
  };
}
