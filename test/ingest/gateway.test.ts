// Migrations, the gateway (kai-gateway compatible) and the ingester end to end through the real
// workflow: the same delivery through webhook and gateway has one effect.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'pg';
import type { SessionClient } from '../../src/client';
import { createGatewayHandler, migrate, SEED_EVENTS_DDL, startGatewayServer, startIngester, type Ingester } from '../../src/ingest';
import { listen, type RunningServer } from '../../src/ingress/http';
import { startWebhookServer, type StartedWebhookServer } from '../../src/webhook';
import type { KaiWorkers } from '../../src/worker';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, waitForSettled, type TestEnv } from '../harness/temporal';
import { SECRET, agentSessionCreated, deliver, postRaw, sign, silentLogger } from '../webhook/helpers';
import { createTestDatabase, type TestDatabase } from './pg';

const PATH = '/webhooks/linear';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  test('create the seed table, add kai columns, and are idempotent (also concurrently)', async () => {
    const results = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 4]);
    expect((await migrate(db.pool)).applied).toEqual([]);
    const { rows } = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position`);
    expect(rows.map((r) => r.column_name)).toEqual([
      'id', 'source', 'event_type', 'external_id', 'payload', 'status', 'created_at', 'processed_at', 'error',
      'attempts', 'claimed_at', 'claimed_by', 'next_attempt_at', 'issue_id', 'priority', 'in_current_cycle', 'outcome', 'priority_rank', 'event_key',
    ]);
    const idx = await db.pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname`);
    expect(idx.rows.map((r) => r.indexname)).toEqual(expect.arrayContaining(['idx_events_status', 'idx_events_source', 'idx_events_external_id']));
  });

  test('adopt a table the original kai-gateway created, which keeps accepting its inserts', async () => {
    const other = await createTestDatabase();
    try {
      await other.pool.query(SEED_EVENTS_DDL);
      await other.pool.query(`INSERT INTO events (source, event_type, payload) VALUES ('linear', 'agentsessionevent.created', '{"x":1}')`);
      expect((await migrate(other.pool)).applied.map((a) => a.version)).toEqual([1, 2, 3, 4]);
      // The original gateway's INSERT still works, even with a payload the derive trigger cannot read.
      await other.pool.query(`INSERT INTO events (source, event_type, external_id, payload) VALUES ('linear', 'x', 'd1', '"just a string"')`);
      const { rows } = await other.pool.query(`SELECT status, attempts FROM events ORDER BY created_at`);
      expect(rows).toEqual([{ status: 'pending', attempts: 0 }, { status: 'pending', attempts: 0 }]);
    } finally {
      await other.drop();
    }
  });
});

describe('gateway', () => {
  let db: TestDatabase;
  let server: RunningServer;
  let url: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    server = await startGatewayServer({ pool: db.pool, secret: SECRET, logger: silentLogger(), bodyLimitBytes: 64 * 1024 }, { host: '127.0.0.1', port: 0 });
    url = server.url + PATH;
  });
  afterAll(async () => {
    await server?.close();
    await db.drop();
  });
  const count = async () => Number((await db.pool.query('SELECT count(*) FROM events')).rows[0].count);

  test('refusals store nothing: 405, 401, 401 stale, 400, 413', async () => {
    const body = agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() });
    const raw = JSON.stringify(body);
    expect((await postRaw(url, '', {}, 'GET')).status).toBe(405);
    expect((await postRaw(url, raw, { 'Linear-Delivery': 'a' })).status).toBe(401);
    expect((await postRaw(url, raw, { 'Linear-Delivery': 'a', 'Linear-Signature': sign(raw, 'nope') })).status).toBe(401);
    const stale = JSON.stringify({ ...body, webhookTimestamp: Date.now() - 120_000 });
    expect((await postRaw(url, stale, { 'Linear-Delivery': 'a', 'Linear-Signature': sign(stale) })).status).toBe(401);
    expect((await postRaw(url, '{nope', { 'Linear-Delivery': 'a', 'Linear-Signature': sign('{nope') })).status).toBe(400);
    expect((await deliver(url, { ...body, agentSession: null })).status).toBe(400);
    const big = JSON.stringify({ ...body, pad: 'x'.repeat(80 * 1024) });
    expect((await postRaw(url, big, { 'Linear-Delivery': 'a', 'Linear-Signature': sign(big) })).status).toBe(413);
    expect(await count()).toBe(0);
  });

  test('a delivery is stored once however often (and concurrently) it comes', async () => {
    const deliveryId = randomUUID();
    const body = agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() });
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(url, { ...body, webhookTimestamp: Date.now() }, deliveryId)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const { rows } = await db.pool.query('SELECT source, event_type, external_id, payload, status FROM events WHERE external_id = $1', [deliveryId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: 'linear', event_type: 'AgentSessionEvent', status: 'pending' });
    expect(rows[0].payload.agentSession.id).toBe(body.agentSession.id);
  });

  test('the plain (req, res) handler serves as a function; a database that is down is 503', async () => {
    const dead = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    dead.on('error', () => undefined);
    const handler = createGatewayHandler({ pool: dead, secret: SECRET, logger: silentLogger() });
    const fn = await listen(createServer((req, res) => void handler(req, res)), '127.0.0.1', 0);
    try {
      expect((await deliver(fn.url + '/api/anything', agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }))).status).toBe(503);
      expect((await postRaw(fn.url, '', {}, 'GET')).status).toBe(405);
    } finally {
      await fn.close();
      await dead.end();
    }
  });

  test('/readyz checks the database and the secret', async () => {
    const res = await fetch(server.url + '/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, database: 'ok', secret: 'configured' });
  });
});

describe('gateway + ingester + webhook through the real workflow', () => {
  let db: TestDatabase;
  let env: TestEnv;
  let fakes: FakeActivities;
  let workers: KaiWorkers;
  let running: Promise<void>;
  let sessions: SessionClient;
  let gateway: RunningServer;
  let webhook: StartedWebhookServer;
  let ingester: Ingester;

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    env = await connectTestEnv();
    const tq = uniqueTaskQueue('ingest');
    fakes = new FakeActivities();
    workers = await startTestWorkers(env, tq, fakes.activities());
    running = workers.run();
    sessions = sessionClient(env, tq, { idleTimeoutMs: 60_000 });
    gateway = await startGatewayServer({ pool: db.pool, secret: SECRET, logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    webhook = await startWebhookServer({ secret: SECRET, sessions, logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    ingester = startIngester({ pool: db.pool, sessions, logger: silentLogger(), pollIntervalMs: 5000 });
  });

  afterAll(async () => {
    await ingester?.stop();
    await gateway?.close();
    await webhook?.close();
    workers?.shutdown();
    await running;
    await env?.close();
    await db?.drop();
  });

  test('the same delivery through webhook and gateway (several times each) has one effect', async () => {
    const issueId = randomUUID();
    const sessionId = randomUUID();
    const deliveryId = randomUUID();
    const body = agentSessionCreated({ issueId, sessionId });
    const sends = [];
    for (let i = 0; i < 5; i++) {
      sends.push(deliver(gateway.url + PATH, { ...body, webhookTimestamp: Date.now() }, deliveryId));
      sends.push(deliver(webhook.url + PATH, { ...body, webhookTimestamp: Date.now() }, deliveryId));
    }
    expect((await Promise.all(sends)).map((r) => r.status)).toEqual(Array(10).fill(200));
    // the gateway answered 200 once its rows were written: when they are all done, every copy
    // has been signalled, and the settled workflow has seen them all
    await waitFor('the rows done', async () => {
      const { rows } = await db.pool.query(`SELECT status FROM events WHERE external_id = $1`, [deliveryId]);
      return rows.length > 0 && rows.every((r) => r.status === 'done');
    });
    await waitFor('the response', () => fakes.finals().some((f) => f.agentSessionId === sessionId));
    await waitForSettled(() => sessions.status(issueId));
    expect(fakes.named('linearAcknowledge').filter((c) => c.input.agentSessionId === sessionId)).toHaveLength(1);
    expect(fakes.named('engineRun').filter((c) => c.input.agentSessionId === sessionId)).toHaveLength(1);
  });
});
