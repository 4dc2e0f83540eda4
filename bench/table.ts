// The benchmark's printed table: every figure beside the baseline measured in the same run.
import type { BenchResults } from './results';

type Row = [string, string, string, string];

export function formatTable(r: BenchResults): string[] {
  const rows: Array<Row | string> = [];
  const section = (title: string) => rows.push(title);
  const row = (figure: string, kai: string | number, baseline: string | number, baselineName: string) =>
    rows.push([figure, String(kai), String(baseline), baselineName]);

  const lat = r.ackLatency;
  section(`1. Acknowledgement latency, webhook sent -> ack stored at the Linear emulator (ms; ${lat.sessions} sessions per path, ${lat.deliveriesPerSecond}/s)`);
  const seedName = `seed: gateway + poll ${lat.seedPollIntervalS} s, batch ${lat.seedBatchSize}`;
  for (const p of ['p50', 'p95', 'p99'] as const) {
    row(`  ${p}  kai direct webhook`, lat.direct[p], lat.seedPolling[p], seedName);
    row(`  ${p}  kai gateway + ingester (NOTIFY)`, lat.gatewayNotify[p], lat.seedPolling[p], seedName);
  }
  row('  rejected deliveries (direct / NOTIFY)', `${lat.direct.rejected} / ${lat.gatewayNotify.rejected}`, lat.seedPolling.rejected, seedName);

  const acc = r.acceptance;
  section('2. Webhook acceptance: deliveries/s answered 200 (lost / duplicated workflow effects)');
  for (const [i, d] of acc.direct.entries()) {
    const g = acc.gateway[i]!;
    row(
      `  concurrency ${d.concurrency}: direct (${d.accepted}/${d.deliveries} accepted)`,
      `${d.perSecond} (${d.lost}/${d.duplicated})`,
      `${g.perSecond} (${g.lost}/${g.duplicated})`,
      `gateway insert, as the seed's kai-gateway (${g.accepted}/${g.deliveries})`,
    );
  }
  for (const [i, k] of acc.ingesterClaims.entries()) {
    const s = acc.seedConsumerClaims[i];
    row(
      `  ingester claims/s, ${k.consumers} ingester(s), ${k.events} events`,
      `${k.perSecond} (${k.lost}/${k.duplicated})`,
      s ? `${s.perSecond} (${s.lost}/${s.duplicated})` : '-',
      `seed polling consumer x${s?.consumers ?? '-'}`,
    );
  }

  const req = r.linearRequests;
  section(`3. Linear requests per session (engine emits ${req.engineEvents} events; mean of ${req.runs})`);
  row(
    `  coalesced (ephemeral ${req.coalesceSettings.ephemeral_activity_coalesce_s} s, plan ${req.coalesceSettings.plan_coalesce_s} s)`,
    req.coalesced,
    req.uncoalesced,
    'coalescing off (0 s, 0 s)',
  );

  section('4. Temporal history events per session (should stay flat)');
  const first = r.historyEvents[0];
  for (const h of r.historyEvents) {
    row(`  engine stream of ${h.engineEvents} events (${h.linearRequests} Linear requests, ${h.sessionSeconds} s)`, h.historyEvents, first?.historyEvents ?? '-', `the ${first?.engineEvents}-event session`);
  }

  const w = r.worker;
  section('5. Worker (child process) memory and crash recovery');
  for (const m of w.memory) row(`  peak RSS with ${m.sessions} concurrent session(s) (MB)`, m.peakRssMb, w.idleRssMb, 'idle worker RSS (MB)');
  const c = w.resume;
  row(`  SIGKILL mid-engine -> retried engine progress (s; heartbeat timeout ${c.engineHeartbeatTimeoutS} s)`, c.killToResumedS, '-', '');
  row('  SIGKILL mid-engine -> final response (s)', c.killToFinalS, '-', '');
  row('  whole session with the crash (s)', c.crashedSessionS, c.uninterruptedSessionS, 'the same session, no crash (s)');
  row('  new worker ready after the kill (s)', c.killToNewWorkerReadyS, '-', '');
  row('  final responses / pull requests of the crashed session', `${c.finalResponses} / ${c.pullRequests}`, '1 / 1', 'expected');

  const sp = r.spread;
  section(`6. Engine runs spread over worker processes (cap ${sp.perWorkerCap} engine runs per worker, ${sp.engineSeconds} s engines)`);
  const one = sp.levels[0];
  for (const l of sp.levels) {
    const where = l.perWorker.map((t, i) => `w${i + 1}:${t}`).join(' ') + (l.unattributed ? ` ?:${l.unattributed}` : '');
    row(`  ${l.workers} worker(s): turns/s, ${l.turns} turns (${where})`, l.turnsPerSecond, one?.turnsPerSecond ?? '-', `${one?.workers} worker(s)`);
  }

  const raw = r.ceiling.levels;
  const ceiling = Math.max(...raw.map((l) => l.perSecond));
  const ratio = (kai: number, server: number) => (server > 0 ? (kai / server).toFixed(2) : '-');
  section('7. The server\'s ceiling: raw signal-with-start/s from a bare client to the same server (no kai code)');
  for (const l of raw) {
    const d = acc.direct.find((x) => x.concurrency === l.concurrency);
    row(
      `  concurrency ${l.concurrency}: kai direct webhook/s${d ? ` (ratio ${ratio(d.perSecond, l.perSecond)})` : ''}`,
      d?.perSecond ?? '-',
      l.perSecond,
      `raw signal-with-start/s (${l.failed} failed)`,
    );
  }
  for (const k of acc.ingesterClaims) {
    row(`  ${k.consumers} ingester(s): claims/s (ratio ${ratio(k.perSecond, ceiling)})`, k.perSecond, ceiling, 'best raw signal-with-start/s');
  }

  const st = r.stop;
  section(`8. Stop -> final response (ms; ${st.n} stops mid-engine, heartbeat timeout ${st.engineHeartbeatTimeoutS} s)`);
  row('  p50', st.p50, '-', '');
  row('  p95', st.p95, 2000, 'target: well under 2 s');
  row('  stopped sessions with exactly one final activity', `${st.oneFinal}/${st.n}`, `${st.n}/${st.n}`, 'expected');

  const header: Row = ['figure', 'kai', 'baseline', 'baseline is'];
  const tableRows = rows.filter((x): x is Row => Array.isArray(x));
  const widths = header.map((h, i) => Math.max(h.length, ...tableRows.map((t) => t[i]!.length)));
  const fmt = (t: Row) => t.map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [
    `kai bench${r.meta.quick ? ' --quick' : ''}: ${r.meta.cpus} x ${r.meta.cpuModel}, ${r.meta.memoryGb} GB, Node ${r.meta.node}, ${r.meta.seconds} s`,
    fmt(header),
    '-'.repeat(widths.reduce((a, b) => a + b + 2, -2)),
  ];
  for (const x of rows) out.push(typeof x === 'string' ? x : fmt(x));
  return out;
}
