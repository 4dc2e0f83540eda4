// /metrics of the webhook server, the gateway and the ingester after real traffic: the series
// docs/deploy.md names, with their labels and counts. Real Temporal (test harness) and real
// PostgreSQL (a database of this file's own).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SessionClient } from '../../src/client';
import { migrate, startGatewayServer, startIngester, type Ingester } from '../../src/ingest';
import { createKaiMetrics, kaiMetrics, METRIC_NAMES, type KaiMetrics } from '../../src/observability';
import { startWebhookServer, type StartedWebhookServer } from '../../src/webhook';
import type { RunningServer } from '../../src/ingress/http';
import type { KaiWorkers } from '../../src/worker';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';
import { createTestDatabase, type TestDatabase } from '../ingest/pg';
import {
  RecordingSink,
  SECRET,
  agentSessionCreated,
  deliver,
  permissionChange,
  postRaw,
  reactionCreated,
  sign,
  silentLogger,
} from '../webhook/helpers';
import { sample, scrape, series } from './prom';

const PATH = '/webhooks/linear';

/** The names docs/deploy.md lists for kai's own metrics, read from the page itself. */
function documentedMetricNames(): string[] {
  const doc = readFileSync(join(__dirname, '../../docs/deploy.md'), 'utf8');
  const section = doc.slice(doc.indexOf("kai's own metrics"), doc.indexOf('Logs are JSON lines'));
  return [...section.matchAll(/`(kai_[a-z_]+)(?:\{[^}]*\})?`/g)].map((m) => m[1]!);
}

let env: TestEnv;
let db: TestDatabase;
let fakes: FakeActivities;
let workers: KaiWorkers;
let running: Promise<void>;
let sessions: SessionClient;

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool);
  env = await connectTestEnv();
  const tq = uniqueTaskQueue('metrics');
  fakes = new FakeActivities();
  workers = await startTestWorkers(env, tq, fakes.activities());
  running = workers.run();
  sessions = sessionClient(env, tq, { idleTimeoutMs: 60_000 });
});

afterAll(async () => {
  workers?.shutdown();
  await running;
  await env?.close();
  await db?.drop();
});

describe('webhook server /metrics', () => {
  let server: StartedWebhookServer;
  let metrics: KaiMetrics;
  let url: string;

  beforeAll(async () => {
    metrics = createKaiMetrics();
    server = await startWebhookServer(
      { secret: SECRET, sessions, logger: silentLogger(), metrics },
      { host: '127.0.0.1', port: 0 },
    );
    url = server.url + PATH;
  });
  afterAll(() => server?.close());

  test('counts deliveries by type and outcome, drops duplicates, counts verify failures and times signals', async () => {
    const first = agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() });
    const firstId = randomUUID();
    expect((await deliver(url, first, firstId)).status).toBe(200);
    expect((await deliver(url, agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }))).status).toBe(200);
    // Linear's redeliveries of the first: answered 200, nothing sent to Temporal again.
    const again = await deliver(url, { ...first, webhookTimestamp: Date.now() }, firstId);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).outcome).toBe('duplicate');
    expect((await deliver(url, { ...first, webhookTimestamp: Date.now() }, firstId)).status).toBe(200);
    expect((await deliver(url, reactionCreated())).status).toBe(200);
    expect((await deliver(url, permissionChange(['team-7']))).status).toBe(200);

    const raw = JSON.stringify(agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }));
    expect((await postRaw(url, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw, 'not-the-secret') })).status).toBe(401);
    const stale = JSON.stringify({ ...JSON.parse(raw), webhookTimestamp: Date.now() - 120_000 });
    expect((await postRaw(url, stale, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(stale) })).status).toBe(401);
    expect((await postRaw(url, raw, { 'Linear-Delivery': randomUUID() })).status).toBe(401);
    expect((await postRaw(url, '{"type": ', { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign('{"type": ') })).status).toBe(400);
    expect((await postRaw(url, '', {}, 'GET')).status).toBe(405);

    const text = await scrape(server.url);
    expect(series(text, 'kai_deliveries_total')).toEqual([
      'outcome=duplicate,source=webhook,type=AgentSessionEvent 2',
      'outcome=ignored,source=webhook,type=PermissionChange 1',
      'outcome=ignored,source=webhook,type=Reaction 1',
      'outcome=rejected,source=webhook,type=unknown 5',
      'outcome=signaled,source=webhook,type=AgentSessionEvent 2',
    ]);
    expect(series(text, 'kai_duplicate_deliveries_dropped_total')).toEqual(['source=webhook 2']);
    expect(series(text, 'kai_webhook_verify_failures_total')).toEqual([
      'reason=malformed 1',
      'reason=missing_header 1',
      'reason=signature 1',
      'reason=stale 1',
    ]);
    const ok = { source: 'webhook', signal: 'prompt', outcome: 'ok' };
    expect(sample(text, 'kai_signal_latency_seconds_count', ok)).toBe(2);
    expect(sample(text, 'kai_signal_latency_seconds_bucket', { ...ok, le: '+Inf' })).toBe(2);
    expect(sample(text, 'kai_signal_latency_seconds_bucket', { ...ok, le: '10' })).toBe(2); // well under Linear's 5 s
    expect(sample(text, 'kai_signal_latency_seconds_sum', ok)).toBeGreaterThan(0);
    // The webhook's old, undocumented series are gone.
    expect(text).not.toMatch(/kai_webhook_deliveries_total|kai_webhook_signal_seconds/);

    // /readyz keeps its details next to the shared handler.
    const ready = (await (await fetch(server.url + '/readyz')).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({ ready: true, temporal: 'ok', secret: 'configured', linearAuthorization: 'ok' });
    expect(ready.notices).toEqual([expect.objectContaining({ kind: 'permission-change', removedTeamIds: ['team-7'] })]);
    expect((await fetch(server.url + '/healthz')).status).toBe(200);
  });

  test('without injected metrics the server records into the process-wide registry', async () => {
    const s = await startWebhookServer({ secret: SECRET, sessions, logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    try {
      const before = sample(await kaiMetrics().registry.metrics(), 'kai_webhook_verify_failures_total', { reason: 'signature' }) ?? 0;
      const raw = JSON.stringify(reactionCreated());
      expect((await postRaw(s.url + PATH, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': 'bad' })).status).toBe(401);
      const text = await scrape(s.url);
      expect(sample(text, 'kai_webhook_verify_failures_total', { reason: 'signature' })).toBe(before + 1);
      expect(text).toBe(await kaiMetrics().registry.metrics());
    } finally {
      await s.close();
    }
  });

  test('Temporal unreachable: the delivery is counted failed and its signal an error', async () => {
    const m = createKaiMetrics();
    const unreachable = new SessionClient(new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), { taskQueue: 'nowhere' });
    const s = await startWebhookServer(
      { secret: SECRET, sessions: unreachable, logger: silentLogger(), signalTimeoutMs: 1000, metrics: m },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      expect((await deliver(s.url + PATH, agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }))).status).toBe(503);
      const text = await scrape(s.url);
      expect(series(text, 'kai_deliveries_total')).toEqual(['outcome=failed,source=webhook,type=AgentSessionEvent 1']);
      expect(sample(text, 'kai_signal_latency_seconds_count', { source: 'webhook', signal: 'prompt', outcome: 'error' })).toBe(1);
      expect(sample(text, 'kai_signal_latency_seconds_count', { source: 'webhook', signal: 'prompt', outcome: 'ok' })).toBeUndefined();
    } finally {
      await s.close();
    }
  });
});

describe('gateway and ingester /metrics', () => {
  let gateway: RunningServer;
  let gatewayMetrics: KaiMetrics;
  let ingester: Ingester;
  let ingestMetrics: KaiMetrics;
  let ingestUrl: string;

  beforeAll(async () => {
    await db.pool.query('DELETE FROM events');
    gatewayMetrics = createKaiMetrics();
    ingestMetrics = createKaiMetrics();
    gateway = await startGatewayServer({ pool: db.pool, secret: SECRET, logger: silentLogger(), metrics: gatewayMetrics }, { host: '127.0.0.1', port: 0 });
    ingester = startIngester({
      pool: db.pool,
      sessions,
      logger: silentLogger(),
      metrics: ingestMetrics,
      pollIntervalMs: 200,
      backlogIntervalMs: 100,
      ops: { host: '127.0.0.1', port: 0 },
    });
    const ops = await ingester.opsServer;
    if (!ops) throw new Error('the ingester did not serve its ops endpoints');
    ingestUrl = ops.url;
  });
  afterAll(async () => {
    await ingester?.stop();
    await gateway?.close();
    await db.pool.query('DELETE FROM events');
  });

  test('the gateway counts stored, duplicate and refused deliveries; the ingester signals, times and drains them', async () => {
    const a = agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() });
    const aId = randomUUID();
    for (let i = 0; i < 3; i++) expect((await deliver(gateway.url + PATH, { ...a, webhookTimestamp: Date.now() }, aId)).status).toBe(200);
    expect((await deliver(gateway.url + PATH, agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }))).status).toBe(200);
    expect((await deliver(gateway.url + PATH, reactionCreated())).status).toBe(200);
    const raw = JSON.stringify(reactionCreated());
    expect((await postRaw(gateway.url + PATH, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw, 'wrong') })).status).toBe(401);

    const g = await scrape(gateway.url);
    expect(series(g, 'kai_deliveries_total')).toEqual([
      'outcome=duplicate,source=gateway,type=AgentSessionEvent 2',
      'outcome=rejected,source=gateway,type=unknown 1',
      'outcome=signaled,source=gateway,type=AgentSessionEvent 2',
      'outcome=signaled,source=gateway,type=Reaction 1',
    ]);
    expect(series(g, 'kai_duplicate_deliveries_dropped_total')).toEqual(['source=gateway 2']);
    expect(series(g, 'kai_webhook_verify_failures_total')).toEqual(['reason=signature 1']);

    await waitFor('three rows done', async () => (await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE status = 'done'`)).rows[0].n === 3);
    const i = await waitFor('an empty backlog measured', async () => {
      const text = await scrape(ingestUrl);
      return sample(text, 'kai_ingest_backlog_events') === 0 && sample(text, 'kai_deliveries_total', { type: 'Reaction' }) === 1 ? text : undefined;
    });
    expect(series(i, 'kai_deliveries_total')).toEqual([
      'outcome=ignored,source=ingest,type=Reaction 1',
      'outcome=signaled,source=ingest,type=AgentSessionEvent 2',
    ]);
    expect(sample(i, 'kai_signal_latency_seconds_count', { source: 'ingest', signal: 'prompt', outcome: 'ok' })).toBe(2);
    expect(sample(i, 'kai_ingest_lag_seconds')).toBe(0);
  });

  test('backlog and lag report the pending rows and the age of the oldest', async () => {
    // Rows waiting out a retry backoff: pending, not claimable for an hour.
    for (let n = 0; n < 3; n++) {
      await db.pool.query(
        `INSERT INTO events (source, event_type, external_id, payload, created_at, next_attempt_at)
         VALUES ('linear', 'Reaction', $1, $2::jsonb, now() - interval '30 seconds', now() + interval '1 hour')`,
        [randomUUID(), JSON.stringify(reactionCreated())],
      );
    }
    ingester.wake();
    const text = await waitFor('the backlog measured', async () => {
      const t = await scrape(ingestUrl);
      return sample(t, 'kai_ingest_backlog_events') === 3 ? t : undefined;
    });
    expect(sample(text, 'kai_ingest_lag_seconds')).toBeGreaterThanOrEqual(30);
    expect(sample(text, 'kai_ingest_lag_seconds')).toBeLessThan(120);
    await db.pool.query('DELETE FROM events WHERE next_attempt_at > now()');
  });

  test('the ingester answers /healthz and a detailed /readyz on its ops port', async () => {
    expect((await fetch(ingestUrl + '/healthz')).status).toBe(200);
    const res = await fetch(ingestUrl + '/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, database: 'ok', listening: true });
  });

  test('an unreadable row is counted rejected; a row failing its last attempt failed, its signal an error', async () => {
    const m = createKaiMetrics();
    const failing = new RecordingSink();
    failing.failWith = new Error('Temporal said no');
    const source = 'metrics-failing';
    await db.pool.query(
      `INSERT INTO events (source, event_type, external_id, payload) VALUES ($1, 'AgentSessionEvent', $2, $3::jsonb), ($1, 'mystery', $4, '{"hello": 1}')`,
      [source, randomUUID(), JSON.stringify(agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() })), randomUUID()],
    );
    const other = startIngester({ pool: db.pool, sessions: failing, logger: silentLogger(), metrics: m, source, maxAttempts: 1, pollIntervalMs: 100 });
    try {
      await waitFor('both rows failed', async () => (await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE source = $1 AND status = 'failed'`, [source])).rows[0].n === 2);
      const text = await m.registry.metrics();
      expect(series(text, 'kai_deliveries_total')).toEqual([
        'outcome=failed,source=ingest,type=AgentSessionEvent 1',
        'outcome=rejected,source=ingest,type=unknown 1',
      ]);
      expect(sample(text, 'kai_signal_latency_seconds_count', { source: 'ingest', signal: 'prompt', outcome: 'error' })).toBe(1);
    } finally {
      await other.stop();
    }
  });
});

describe('webhook and ingester in one process share one registry', () => {
  test('a delivery the webhook handed over is dropped by the ingester as a duplicate', async () => {
    await db.pool.query('DELETE FROM events');
    const m = createKaiMetrics();
    const gateway = await startGatewayServer({ pool: db.pool, secret: SECRET, logger: silentLogger(), metrics: createKaiMetrics() }, { host: '127.0.0.1', port: 0 });
    const webhook = await startWebhookServer({ secret: SECRET, sessions, logger: silentLogger(), metrics: m }, { host: '127.0.0.1', port: 0 });
    const ingester = startIngester({ pool: db.pool, sessions, logger: silentLogger(), metrics: m, ingress: webhook.ingress, pollIntervalMs: 200 });
    try {
      const body = agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() });
      const id = randomUUID();
      expect((await deliver(webhook.url + PATH, body, id)).status).toBe(200);
      expect((await deliver(gateway.url + PATH, { ...body, webhookTimestamp: Date.now() }, id)).status).toBe(200);
      await waitFor('the row done', async () => (await db.pool.query(`SELECT status FROM events WHERE external_id = $1`, [id])).rows[0]?.status === 'done');
      const text = await scrape(webhook.url);
      expect(series(text, 'kai_deliveries_total')).toEqual([
        'outcome=duplicate,source=ingest,type=AgentSessionEvent 1',
        'outcome=signaled,source=webhook,type=AgentSessionEvent 1',
      ]);
      expect(series(text, 'kai_duplicate_deliveries_dropped_total')).toEqual(['source=ingest 1']);
      expect(sample(text, 'kai_signal_latency_seconds_count', { source: 'webhook', signal: 'prompt', outcome: 'ok' })).toBe(1);
      expect(sample(text, 'kai_signal_latency_seconds_count', { source: 'ingest', signal: 'prompt', outcome: 'ok' })).toBeUndefined();
    } finally {
      await ingester.stop();
      await webhook.close();
      await gateway.close();
    }
  });
});

describe('docs/deploy.md', () => {
  test("lists exactly kai's metrics, as exposed", async () => {
    const exposed = [...new Set(
      (await createKaiMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name),
    )].sort();
    expect(documentedMetricNames().sort()).toEqual(exposed);
    expect(exposed).toEqual(Object.values(METRIC_NAMES).sort());
  });
});
