// A smoke run of each benchmark scenario with tiny counts, against the test Temporal server and
// the local PostgreSQL: each produces every figure it reports, as a finite number, with nothing
// lost or duplicated. No timing is asserted; the full benchmark is `npm run bench`.
import { defaultConfig } from '../../src/config/schema';
import { migrate } from '../../src/ingest';
import { openBenchContext, type BenchContext } from '../../bench/context';
import type { BenchDatabase } from '../../bench/database';
import type { BenchResults } from '../../bench/results';
import { benchAcceptance } from '../../bench/scenarios/acceptance';
import { benchCeiling } from '../../bench/scenarios/ceiling';
import { benchAckLatency } from '../../bench/scenarios/latency';
import { benchSessionCost } from '../../bench/scenarios/sessions';
import { benchSpread } from '../../bench/scenarios/spread';
import { benchStop } from '../../bench/scenarios/stop';
import { benchWorker } from '../../bench/scenarios/worker';
import { formatTable } from '../../bench/table';
import { temporalAddress, workflowBundle } from '../harness/temporal';
import { createTestDatabase, type TestDatabase } from '../ingest/pg';

// Generous: a worker child compiles kai from source at start-up, slow on a loaded machine. No timing is asserted.
jest.setTimeout(300_000);

/** Every leaf of a result: [path, value]. */
function leaves(value: unknown, path = ''): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  return [[path, value]];
}

/** Every figure of `result` is a finite number (the unit label aside); returns how many there are. */
function expectFiniteFigures(result: object): number {
  const numbers = leaves(result).filter(([path]) => path !== 'unit');
  for (const [path, value] of numbers) {
    expect([path, typeof value]).toEqual([path, 'number']);
    expect([path, Number.isFinite(value as number)]).toEqual([path, true]);
  }
  return numbers.length;
}

describe('kai bench: a smoke run of each scenario', () => {
  let ctx: BenchContext;
  let testDb: TestDatabase;
  let db: BenchDatabase;
  const results: Partial<BenchResults> = {};

  beforeAll(async () => {
    ctx = await openBenchContext({ baseConfig: defaultConfig(), temporalAddress: temporalAddress(), workflowBundle: workflowBundle() });
    testDb = await createTestDatabase();
    await migrate(testDb.pool);
    db = {
      url: testDb.url,
      pool: (max) => testDb.newPool(max),
      truncate: async () => void (await testDb.pool.query('TRUNCATE events')),
      drop: () => testDb.drop(),
    };
  });

  afterAll(async () => {
    await db?.drop();
    await ctx?.close();
  });

  it('acknowledgement latency: every delivery on every path is acknowledged and measured', async () => {
    const lat = await benchAckLatency(ctx, db, { sessions: 3, ratePerSecond: 20, seedPollIntervalMs: 500 });
    for (const path of ['direct', 'gatewayNotify', 'seedPolling'] as const) {
      expect(Object.keys(lat[path]).sort()).toEqual(['max', 'mean', 'n', 'p50', 'p95', 'p99', 'rejected']);
      expect(lat[path]).toMatchObject({ n: 3, rejected: 0 });
    }
    expect(expectFiniteFigures(lat)).toBe(2 + 3 * 7 + 2);
    results.ackLatency = lat;
  });

  it('acceptance: every webhook and gateway delivery, and every claimed row, signals its workflow exactly once', async () => {
    const acc = await benchAcceptance(ctx, db, { deliveries: 4, concurrency: [1, 4], ingesters: [1, 2], claimEvents: 4 });
    expect(acc.direct.map((l) => l.concurrency)).toEqual([1, 4]);
    expect(acc.gateway.map((l) => l.concurrency)).toEqual([1, 4]);
    for (const level of [...acc.direct, ...acc.gateway]) expect(level).toMatchObject({ accepted: level.deliveries, lost: 0, duplicated: 0 });
    expect(acc.ingesterClaims.map((c) => c.consumers)).toEqual([1, 2]);
    expect(acc.seedConsumerClaims.map((c) => c.consumers)).toEqual([1, 2]);
    for (const run of [...acc.ingesterClaims, ...acc.seedConsumerClaims]) expect(run).toMatchObject({ events: 4, lost: 0, duplicated: 0 });
    expectFiniteFigures(acc);
    results.acceptance = acc;
  });

  it('session cost: Linear requests are counted with and without coalescing, and history events per session size', async () => {
    const cost = await benchSessionCost(ctx, { requestRuns: 1, standardEvents: 40, historyEvents: [20] });
    expect(cost.requests).toMatchObject({ engineEvents: 40, runs: 1 });
    expect(cost.requests.coalesced).toBeGreaterThan(0);
    expect(cost.requests.uncoalesced).toBeGreaterThan(0);
    expect(cost.history.map((h) => h.engineEvents)).toEqual([20]);
    expect(cost.history[0]!.historyEvents).toBeGreaterThan(0);
    expectFiniteFigures(cost);
    results.linearRequests = cost.requests;
    results.historyEvents = cost.history;
  });

  it('worker: memory is sampled and a session whose worker is killed mid-engine ends with one response and one PR', async () => {
    const worker = await benchWorker(ctx, { concurrency: [1], memoryEvents: 10, memoryStreamS: 1, crashEvents: 40, heartbeatTimeoutS: 5 });
    expect(worker.memory.map((m) => m.sessions)).toEqual([1]);
    expect(worker.idleRssMb).toBeGreaterThan(0);
    expect(worker.resume).toMatchObject({ finalResponses: 1, pullRequests: 1 });
    expectFiniteFigures(worker);
    results.worker = worker;
  });

  it('spread: every turn of every level ends, and each is counted on the worker process its engine ran on', async () => {
    const spread = await benchSpread(ctx, { workers: [1, 2], turns: 4, perWorkerCap: 2, engineSeconds: 1 });
    expect(spread.levels.map((l) => [l.workers, l.perWorker.length, l.unattributed])).toEqual([
      [1, 1, 0],
      [2, 2, 0],
    ]);
    for (const l of spread.levels) expect(l.perWorker.reduce((a, b) => a + b, 0)).toBe(4);
    expectFiniteFigures(spread);
    results.spread = spread;
  });

  it('ceiling: a bare client signals-with-start every call it makes', async () => {
    const ceiling = await benchCeiling(ctx, { calls: 5, concurrency: [1, 4] });
    expect(ceiling.levels.map((l) => [l.concurrency, l.calls, l.failed])).toEqual([
      [1, 5, 0],
      [4, 5, 0],
    ]);
    expectFiniteFigures(ceiling);
    results.ceiling = ceiling;
  });

  it('stop: every session stopped mid-engine ends with exactly one final activity, and each is timed', async () => {
    const stop = await benchStop(ctx, { stops: 3, concurrent: 3 });
    expect(stop).toMatchObject({ n: 3, oneFinal: 3 });
    expectFiniteFigures(stop);
    results.stop = stop;
  });

  it('the table shows every section of the results', () => {
    const table = formatTable({
      meta: { startedAt: new Date().toISOString(), seconds: 1, quick: true, node: process.version, platform: 'test', cpus: 1, cpuModel: 'test', memoryGb: 1, temporal: ctx.temporalAddress },
      ...(results as Omit<BenchResults, 'meta'>),
    }).join('\n');
    for (const section of ['1. Acknowledgement latency', '2. Webhook acceptance', '3. Linear requests per session', '4. Temporal history events', '5. Worker', '6. Engine runs spread', "7. The server's ceiling", '8. Stop']) {
      expect(table).toContain(section);
    }
  });
});
