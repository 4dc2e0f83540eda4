// The benchmark's pieces, run with tiny counts against the test Temporal server and the local
// PostgreSQL: every figure of the results comes out, as a finite number. No timing is asserted.
import { defaultConfig } from '../../src/config/schema';
import { migrate } from '../../src/ingest';
import { openBenchContext, type BenchContext } from '../../src/bench/context';
import type { BenchDatabase } from '../../src/bench/database';
import { runBenchSuite, type BenchResults } from '../../src/bench';
import { formatTable } from '../../src/bench/table';
import { temporalAddress, workflowBundle } from '../harness/temporal';
import { createTestDatabase, type TestDatabase } from '../ingest/pg';

jest.setTimeout(300_000);

/** Every leaf of the results: [path, value]. */
function leaves(value: unknown, path = ''): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  return [[path, value]];
}

describe('kai bench', () => {
  let ctx: BenchContext;
  let testDb: TestDatabase;
  let db: BenchDatabase;

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

  it('measures every figure of the benchmark, each a finite number, with nothing lost or duplicated', async () => {
    const suite = await runBenchSuite(ctx, db, {
      latency: { sessions: 5, ratePerSecond: 10, seedPollIntervalMs: 1000 },
      acceptance: { deliveries: 5, concurrency: [1, 16, 64], ingesters: [1, 4], claimEvents: 5 },
      sessions: { requestRuns: 1, historyEvents: [20, 200, 2000] },
      worker: { concurrency: [1, 10, 20].map((n) => Math.min(n, 2)), memoryEvents: 10, crashEvents: 40 },
    });
    const results: BenchResults = {
      meta: { startedAt: new Date().toISOString(), seconds: 1, quick: true, node: process.version, platform: 'test', cpus: 1, cpuModel: 'test', memoryGb: 1, temporal: ctx.temporalAddress },
      ...suite,
    };

    // The structure is complete: every path, level and size the table reports.
    for (const path of ['direct', 'gatewayNotify', 'seedPolling'] as const) {
      expect(Object.keys(results.ackLatency[path]).sort()).toEqual(['max', 'mean', 'n', 'p50', 'p95', 'p99', 'rejected']);
      expect(results.ackLatency[path].n).toBe(5);
      expect(results.ackLatency[path].rejected).toBe(0);
    }
    expect(results.acceptance.direct.map((l) => l.concurrency)).toEqual([1, 16, 64]);
    expect(results.acceptance.gateway.map((l) => l.concurrency)).toEqual([1, 16, 64]);
    expect(results.acceptance.ingesterClaims.map((c) => c.consumers)).toEqual([1, 4]);
    expect(results.acceptance.seedConsumerClaims.map((c) => c.consumers)).toEqual([1, 4]);
    for (const level of [...results.acceptance.direct, ...results.acceptance.gateway]) {
      expect(level.accepted).toBe(level.deliveries);
      expect(level).toMatchObject({ lost: 0, duplicated: 0 });
    }
    for (const run of [...results.acceptance.ingesterClaims, ...results.acceptance.seedConsumerClaims]) expect(run).toMatchObject({ lost: 0, duplicated: 0 });
    expect(results.historyEvents.map((h) => h.engineEvents)).toEqual([20, 200, 2000]);
    expect(results.worker.memory.map((m) => m.sessions)).toEqual([1, 2, 2]);
    expect(results.worker.resume).toMatchObject({ finalResponses: 1, pullRequests: 1 });

    const numbers = leaves(results).filter(([path]) => !path.startsWith('meta.') && path !== 'ackLatency.unit');
    expect(numbers.length).toBeGreaterThan(60);
    for (const [path, value] of numbers) {
      expect([path, typeof value]).toEqual([path, 'number']);
      expect([path, Number.isFinite(value as number)]).toEqual([path, true]);
    }
    expect(formatTable(results).join('\n')).toContain('Acknowledgement latency');
  });
});
