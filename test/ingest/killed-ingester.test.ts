// An ingester killed (SIGKILL) while it holds a claim: while it lives, no other ingester takes a
// newer row of the same issue; once it is dead its row comes back within the lease (seconds,
// renewed by a heartbeat while alive) and the issue's rows are signalled in their order.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { migrate, startIngester, type Ingester } from '../../src/ingest';
import { waitFor } from '../harness/temporal';
import { APP_USER_ID, RecordingSink, agentSessionCreated, agentSessionPrompted, silentLogger } from '../webhook/helpers';
import { createTestDatabase, type TestDatabase } from './pg';

jest.setTimeout(90_000);
// Long enough that a loaded machine still renews in time (production: 20 s).
const LEASE_MS = 5000;
let db: TestDatabase;
let child: ChildProcess | undefined;
let ingester: Ingester | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool);
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await ingester?.stop();
  await db?.drop();
});

async function insert(body: object): Promise<string> {
  const { rows } = await db.pool.query(
    `INSERT INTO events (source, event_type, external_id, payload) VALUES ('linear', 'AgentSessionEvent', $1, $2::jsonb) RETURNING id::text`,
    [randomUUID(), JSON.stringify(body)],
  );
  return rows[0].id;
}
const rowStatus = async (id: string) => (await db.pool.query(`SELECT status, claimed_by FROM events WHERE id = $1`, [id])).rows[0];

test('a killed ingester’s claim comes back within the lease and the issue’s newer row waits for it', async () => {
  const issueId = randomUUID();
  const sessionId = randomUUID();
  const first = agentSessionCreated({ issueId, sessionId });
  const second = agentSessionPrompted({ issueId, sessionId, body: 'and in German' });
  const firstRow = await insert(first);

  // The other ingester holds the first row, hanging in its signal.
  const claimed: string[] = [];
  child = spawn(process.execPath, [join(__dirname, 'child-ingester.js')], {
    env: { ...process.env, KAI_TEST_DB_URL: db.url, KAI_TEST_LEASE_MS: String(LEASE_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.on('data', (d: Buffer) => claimed.push(...d.toString().trim().split('\n')));
  await waitFor("the child to claim the first row", () => claimed.length === 1, 60_000);
  expect((await rowStatus(firstRow)).claimed_by).toBe('child-ingester');
  const secondRow = await insert(second);

  // A second ingester runs meanwhile: it works (it signals another issue's row) but leaves the
  // newer row of the held issue alone, for longer than the lease (the child renews it).
  const sink = new RecordingSink();
  sink.running.add(issueId);
  ingester = startIngester({ pool: db.newPool(4), sessions: sink, logger: silentLogger(), appUserId: APP_USER_ID, leaseMs: LEASE_MS, pollIntervalMs: 100 });
  const otherIssue = randomUUID();
  await insert(agentSessionCreated({ issueId: otherIssue, sessionId: randomUUID() }));
  await waitFor('the other issue signalled', () => sink.sent.some((s) => s.issueId === otherIssue));
  // The child's heartbeat renews its claim past the first lease: a fact in the row itself.
  const claimedAt = async () => (await db.pool.query(`SELECT claimed_at FROM events WHERE id = $1`, [firstRow])).rows[0].claimed_at as Date;
  const firstClaim = await claimedAt();
  await waitFor('the claim renewed past its first lease', async () => (await claimedAt()).getTime() > firstClaim.getTime() + 2 * LEASE_MS, 40_000, 200);
  expect(sink.sent.filter((s) => s.issueId === issueId)).toHaveLength(0);
  expect((await rowStatus(secondRow)).status).toBe('pending');
  expect((await rowStatus(firstRow)).claimed_by).toBe('child-ingester');

  // Killed: its claim is handed back and both rows go, in order.
  child.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  await waitFor('both rows of the issue signalled', () => sink.sent.filter((s) => s.issueId === issueId).length >= 2, 30_000);
  expect(sink.sent.filter((s) => s.issueId === issueId).map((s) => s.type)).toEqual(['prompt', 'prompt']);
  expect(sink.sent.filter((s) => s.issueId === issueId).map((s) => s.payload.deliveryId)).toEqual([
    `session:${sessionId}:created`,
    `activity:${second.agentActivity.id}`,
  ]);
  expect(claimed).toEqual([`claimed session:${sessionId}:created`]);
  await waitFor('both rows done', async () => (await rowStatus(firstRow)).status === 'done' && (await rowStatus(secondRow)).status === 'done');
  expect(ingester.stats().reclaimed).toBe(1);
});
