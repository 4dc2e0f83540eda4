// 8. Stop to final response: sessions whose engine is streaming are stopped from Linear's menu
// (a `prompted` webhook with `signal: "stop"`), a few at a time, with the configured (default)
// engine heartbeat timeout. Timed at the Linear emulator, from the stop prompt's creation to
// the session's final activity (response or error); each stopped session must end with
// exactly one.
import type { BenchContext } from '../context';
import { benchTitle } from '../engine-script';
import { distribution, waitUntil, type Distribution } from '../stats';
import { startBenchWorld, type BenchSession, type BenchWorld } from '../world';

export interface StopResult extends Distribution {
  unit: 'ms';
  engineHeartbeatTimeoutS: number;
  /** Stopped sessions that ended with exactly one final activity. */
  oneFinal: number;
}

export interface StopOptions {
  stops: number;
  /** Sessions running (and stopped) at once. */
  concurrent: number;
}

const FINAL = new Set(['response', 'error']);

export async function benchStop(ctx: BenchContext, opts: StopOptions): Promise<StopResult> {
  const world = await startBenchWorld(ctx, { name: 'stop', limits: { concurrent_engine_runs: Math.max(4, opts.concurrent) } });
  world.linear.setWebhookUrl(world.webhookUrl);
  try {
    const times: number[] = [];
    let oneFinal = 0;
    for (let done = 0; done < opts.stops; ) {
      const n = Math.min(opts.concurrent, opts.stops - done);
      // Engines that stream for a minute: only the stop ends them within the scenario.
      const list = Array.from({ length: n }, (_, i) => world.newSession(benchTitle(`Stop ${done + i}`, 600, 100)));
      await Promise.all(list.map((s) => world.deliver(world.webhookUrl!, s)));
      await waitUntil(`${n} engines streaming`, () => list.every((s) => streaming(world, s)), 120_000, 25);
      const stops = await Promise.all(list.map((s) => world.linear.stopSession(s.session.id)));
      await waitUntil(`${n} final responses after Stop`, () => list.every((s) => finals(world, s).length > 0), 60_000, 10);
      for (const [i, s] of list.entries()) {
        times.push(finals(world, s)[0]! - Date.parse(stops[i]!.activity.createdAt));
      }
      await world.terminateAll();
      // Counted once the workflows are gone, so nothing can still arrive.
      for (const s of list) if (finals(world, s).length === 1) oneFinal++;
      done += n;
    }
    return { unit: 'ms', engineHeartbeatTimeoutS: world.config.limits.engine_heartbeat_timeout_s, oneFinal, ...distribution(times) };
  } finally {
    await world.stop();
  }
}

/** The engine has posted progress of its own (not only kai's acknowledgement). */
function streaming(world: BenchWorld, s: BenchSession): boolean {
  const store = world.linear.state;
  return (store.sessionActivities.get(s.session.id) ?? []).some((id) => /Thinking about step|run step/.test(JSON.stringify(store.activities.get(id)?.content ?? {})));
}

/** When each final activity (response or error) of the session was stored (epoch ms). */
function finals(world: BenchWorld, s: BenchSession): number[] {
  const store = world.linear.state;
  return (store.sessionActivities.get(s.session.id) ?? [])
    .map((id) => store.activities.get(id))
    .filter((a) => a !== undefined && FINAL.has(a.content.type))
    .map((a) => Date.parse(a!.createdAt));
}
