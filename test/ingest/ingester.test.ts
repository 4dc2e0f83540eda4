// The ingester against the real PostgreSQL, signals counted by a recording sink.
import { randomUUID } from 'node:crypto';
import { migrate, startIngester, type Ingester, type IngesterDeps } from '../../src/ingest';
import { RecordingSink, agentSessionCreated, agentSessionPrompted, issueUpdated, silentLogger } from '../webhook/helpers';
import { waitFor } from '../harness/temporal';
import { createTestDatabase, type TestDatabase } from './pg';

let db: TestDatabase;
const started: Ingester[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((i) => i.stop()));
  await db.pool.query('DELETE FROM events');
});
afterAll(() => db.drop());

function start(deps: Partial<IngesterDeps> & { sessions: IngesterDeps['sessions'] }): Ingester {
  const ing = startIngester({ pool: db.pool, logger: silentLogger(), pollIntervalMs: 200, ...deps });
  started.push(ing);
  return ing;
}

async function insert(body: object, externalId: string | null = randomUUID(), eventType = 'AgentSessionEvent'): Promise<string> {
  const { rows } = await db.pool.query(
    `INSERT INTO events (source, event_type, external_id, payload) VALUES ('linear', $1, $2, $3::jsonb) RETURNING id::text`,
    [eventType, externalId, JSON.stringify(body)],
  );
  return rows[0].id;
}

const statuses = async () => (await db.pool.query(`SELECT status, count(*)::int AS n FROM events GROUP BY status`)).rows;

test('2,000 rows, 4 concurrent ingesters: every row signalled exactly once', async () => {
  const sink = new RecordingSink();
  const values: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < 2000; i++) {
    params.push(`d-${i}`, JSON.stringify(agentSessionCreated({ issueId: `issue-${i % 300}`, sessionId: `s-${i}` })));
    values.push(`('linear', 'AgentSessionEvent', $${params.length - 1}, $${params.length}::jsonb)`);
  }
  await db.pool.query(`INSERT INTO events (source, event_type, external_id, payload) VALUES ${values.join(',')}`, params);
  const t0 = Date.now();
  const pools = [0, 1, 2, 3].map(() => db.newPool(4));
  const ingesters = pools.map((pool, i) => start({ pool, sessions: sink, batchSize: 10, ingesterId: `ing-${i}` }));
  await waitFor('all rows done', async () => (await statuses()).every((r) => r.status === 'done'), 60_000, 100);
  console.log(`2,000 rows by 4 ingesters in ${Date.now() - t0} ms`);
  expect(sink.sent).toHaveLength(2000);
  expect([...sink.byDelivery().values()].every((n) => n === 1)).toBe(true);
  expect(sink.byDelivery().size).toBe(2000);
  const per = ingesters.map((i) => i.stats().done);
  expect(per.reduce((a, b) => a + b, 0)).toBe(2000);
  expect(per.filter((n) => n > 0).length).toBeGreaterThan(1);
  const attempts = await db.pool.query(`SELECT max(attempts) AS m FROM events`);
  expect(attempts.rows[0].m).toBe(1);
});

test('NOTIFY wakes the ingester at once instead of waiting for the poll', async () => {
  const sink = new RecordingSink();
  // a poll far beyond the wait below: the row can only be found through NOTIFY
  const ing = start({ sessions: sink, pollIntervalMs: 60 * 60_000 });
  await waitFor('listening', () => ing.stats().listening);
  await new Promise((r) => setTimeout(r, 300)); // past the catch-up claim after LISTEN
  await insert(agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }));
  await waitFor('the signal', () => sink.sent.length > 0);
  expect(sink.sent).toHaveLength(1);
});

test('a row left in processing by a crashed ingester is reclaimed after the lease', async () => {
  const sink = new RecordingSink();
  const id = await insert(agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }));
  // What a crash mid-row leaves behind.
  await db.pool.query(`UPDATE events SET status = 'processing', claimed_at = now() - interval '10 minutes', claimed_by = 'dead-ingester', attempts = 1 WHERE id = $1`, [id]);
  start({ sessions: sink, leaseMs: 2_000 });
  await waitFor('the reclaimed row done', async () => (await db.pool.query(`SELECT status FROM events WHERE id = $1`, [id])).rows[0].status === 'done');
  expect(sink.sent).toHaveLength(1);
  const row = (await db.pool.query(`SELECT attempts, claimed_by, error FROM events WHERE id = $1`, [id])).rows[0];
  expect(row.attempts).toBe(2);
  expect(row.error).toBeNull();
});

test('failing rows back off and end failed with their error kept', async () => {
  const sink = new RecordingSink();
  sink.failWith = new Error('Temporal said no');
  const id = await insert(agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }));
  const ing = start({ sessions: sink, maxAttempts: 3, retryBaseMs: 300, retryMaxMs: 2000, pollIntervalMs: 100 });
  // The first attempt's result written (attempts counts claims, so it is 1 while still processing).
  await waitFor('first failure', async () => {
    const r = (await db.pool.query(`SELECT attempts, status FROM events WHERE id = $1`, [id])).rows[0];
    return r.attempts === 1 && r.status !== 'processing';
  });
  const pending = (await db.pool.query(`SELECT status, error, next_attempt_at > now() AS later FROM events WHERE id = $1`, [id])).rows[0];
  expect(pending).toMatchObject({ status: 'pending', later: true });
  expect(pending.error).toContain('Temporal said no');
  await waitFor('failed', async () => (await db.pool.query(`SELECT status FROM events WHERE id = $1`, [id])).rows[0].status === 'failed', 15_000);
  const row = (await db.pool.query(`SELECT attempts, error, processed_at FROM events WHERE id = $1`, [id])).rows[0];
  expect(row.attempts).toBe(3);
  expect(row.error).toBe('attempt 3/3: Temporal said no');
  expect(row.processed_at).not.toBeNull();
  expect(ing.stats()).toMatchObject({ retried: 2, failed: 1 });
});

test('prioritised: urgent before low, no priority last, current cycle first among equals', async () => {
  const sink = new RecordingSink();
  const now = Date.now();
  const current = { startsAt: new Date(now - 86_400_000).toISOString(), endsAt: new Date(now + 86_400_000).toISOString() };
  const past = { startsAt: new Date(now - 20 * 86_400_000).toISOString(), endsAt: new Date(now - 10 * 86_400_000).toISOString() };
  const order = [
    ['p0', 0, current],
    ['p4', 4, current],
    ['p2-old-cycle', 2, past],
    ['p1', 1, past],
    ['p2-current', 2, current],
  ] as const;
  for (const [name, priority, cycle] of order) {
    sink.running.add(name);
    await insert(issueUpdated({ issueId: name, updatedFrom: { stateId: 'x' }, stateType: 'canceled', priority, cycle }), `d-${name}`, 'Issue');
  }
  start({ sessions: sink, prioritize: true, batchSize: 1 });
  await waitFor('all signalled', () => sink.sent.length === order.length);
  expect(sink.sent.map((s) => s.issueId)).toEqual(['p1', 'p2-current', 'p2-old-cycle', 'p4', 'p0']);
});

test('current_cycle_only marks rows of other cycles skipped (kept, not signalled)', async () => {
  const sink = new RecordingSink();
  sink.running.add('in').add('out');
  const now = Date.now();
  const current = { startsAt: new Date(now - 86_400_000).toISOString(), endsAt: new Date(now + 86_400_000).toISOString() };
  await insert(issueUpdated({ issueId: 'in', updatedFrom: { stateId: 'x' }, stateType: 'canceled', cycle: current }), 'd-in', 'Issue');
  await insert(issueUpdated({ issueId: 'out', updatedFrom: { stateId: 'x' }, stateType: 'canceled', cycle: null }), 'd-out', 'Issue');
  start({ sessions: sink, currentCycleOnly: true });
  await waitFor('processed', async () => (await statuses()).every((r) => r.status !== 'pending' && r.status !== 'processing'));
  expect(sink.sent.map((s) => s.issueId)).toEqual(['in']);
  const out = (await db.pool.query(`SELECT status, outcome FROM events WHERE external_id = 'd-out'`)).rows[0];
  expect(out.status).toBe('skipped');
  expect(out.outcome).toMatch(/current cycle/);
});

test('rows written by the original kai-gateway are understood; unreadable ones fail with a clear error', async () => {
  const sink = new RecordingSink();
  const issueId = randomUUID();
  const raw = agentSessionCreated({ issueId, sessionId: 's-wrapped' });
  // Wrapped raw body, as the original gateway may store it.
  await insert({ payload: raw, receivedAt: new Date().toISOString() }, 'legacy-1', 'agentsessionevent.created');
  // Normalized, snake_case, no external id.
  await insert(
    { agent_session: { id: 's-norm', issue: { id: issueId, title: 'Old style' } }, agent_activity: { body: 'please continue' } },
    null,
    'agentsessionevent.prompted',
  );
  // A prompted body stored as a JSON string.
  await insert(JSON.stringify(agentSessionPrompted({ issueId, sessionId: 's-str', body: '/reset' })) as unknown as object, 'legacy-3', 'AgentSessionEvent');
  const bad = await insert({ hello: 'world' }, 'legacy-bad', 'mystery.event');
  start({ sessions: sink });
  await waitFor('processed', async () => (await statuses()).every((r) => r.status === 'done' || r.status === 'failed'));
  const byType = sink.sent.map((s) => [s.type, s.payload.agentSessionId, s.type === 'prompt' ? s.payload.body : undefined]);
  expect(byType).toEqual(
    expect.arrayContaining([
      ['prompt', 's-wrapped', 'Add a greeting'],
      ['prompt', 's-norm', 'please continue'],
      ['reset', 's-str', undefined],
    ]),
  );
  const norm = sink.sent.find((s) => s.payload.agentSessionId === 's-norm')!;
  // No activity id in the row: a key of its own, per row.
  expect(norm.payload.deliveryId).toMatch(/^activity:legacy:/);
  const failed = (await db.pool.query(`SELECT status, error, attempts FROM events WHERE id = $1`, [bad])).rows[0];
  expect(failed.status).toBe('failed');
  expect(failed.error).toMatch(/cannot understand this row: event_type "mystery.event"/);
  expect(failed.attempts).toBe(1);
});
