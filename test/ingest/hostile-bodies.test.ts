// Signed bodies PostgreSQL's jsonb cannot hold as they are (a \u0000 in a string, nesting far
// deeper than its parser allows) are accepted by the gateway exactly when the direct webhook
// accepts them: the gateway stores the signed bytes, and the ingester signals what the webhook
// signals. Before, the gateway answered 503 to each retry until Linear gave up.
import { randomUUID } from 'node:crypto';
import { migrate, startGatewayServer, startIngester, type Ingester } from '../../src/ingest';
import type { RunningServer } from '../../src/ingress/http';
import { startWebhookServer, type StartedWebhookServer } from '../../src/webhook';
import { waitFor } from '../harness/temporal';
import { APP_USER_ID, RecordingSink, SECRET, agentSessionCreated, commentCreated, postRaw, sign, silentLogger } from '../webhook/helpers';
import { createTestDatabase, type TestDatabase } from './pg';

const PATH = '/webhooks/linear';
let db: TestDatabase;
let webhook: StartedWebhookServer;
let gateway: RunningServer;
let ingester: Ingester;
const direct = new RecordingSink();
const ingested = new RecordingSink();

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool);
  webhook = await startWebhookServer({ secret: SECRET, sessions: direct, logger: silentLogger(), appUserId: APP_USER_ID, bodyLimitBytes: 2 * 1024 * 1024 }, { host: '127.0.0.1', port: 0 });
  gateway = await startGatewayServer({ pool: db.pool, secret: SECRET, logger: silentLogger(), bodyLimitBytes: 2 * 1024 * 1024 }, { host: '127.0.0.1', port: 0 });
  ingester = startIngester({ pool: db.pool, sessions: ingested, logger: silentLogger(), appUserId: APP_USER_ID, pollIntervalMs: 200 });
});
afterAll(async () => {
  await ingester?.stop();
  await webhook?.close();
  await gateway?.close();
  await db?.drop();
});

/** Posts the same signed bytes to both paths (each with its own delivery id). */
async function both(raw: string) {
  const headers = () => ({ 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw) });
  const w = await postRaw(webhook.url + PATH, raw, headers());
  const g = await postRaw(gateway.url + PATH, raw, headers());
  return { w, g };
}

const withoutTime = (s: RecordingSink['sent'][number]) => {
  const { at: _a, ifRunning: _i, ...rest } = s;
  const { receivedAt: _r, ...payload } = s.payload as unknown as Record<string, unknown>;
  return { ...rest, payload };
};

async function sameSignal(key: (s: RecordingSink['sent'][number]) => boolean) {
  await waitFor('the ingester to signal it', () => ingested.sent.some(key));
  const a = direct.sent.filter(key).map(withoutTime);
  const b = ingested.sent.filter(key).map(withoutTime);
  expect(a).toHaveLength(1);
  expect(b).toEqual(a);
}

test('a \\u0000 in the message: both paths accept it and signal the same prompt', async () => {
  const sessionId = randomUUID();
  const body = agentSessionCreated({ issueId: randomUUID(), sessionId, title: 'NUL in here', description: 'before\u0000after' });
  const raw = JSON.stringify({ ...body, webhookTimestamp: Date.now() });
  expect(raw).toContain('\\u0000');
  const { w, g } = await both(raw);
  expect([w.status, g.status]).toEqual([200, 200]);
  const stored = (await db.pool.query(`SELECT payload FROM events WHERE event_key = $1`, [`session:${sessionId}:created`])).rows[0];
  expect(stored.payload).toEqual({ kaiSignedBody: Buffer.from(raw).toString('base64') });
  await sameSignal((s) => s.payload.agentSessionId === sessionId);
  expect(direct.sent.find((s) => s.payload.agentSessionId === sessionId)!.payload).toMatchObject({ body: 'NUL in here\n\nbefore\u0000after' });
});

test('a \\u0000 in a comment on a running issue: both paths signal it', async () => {
  const issueId = randomUUID();
  direct.running.add(issueId);
  ingested.running.add(issueId);
  const commentId = randomUUID();
  const raw = JSON.stringify({ ...commentCreated({ issueId, commentId, body: 'nul \u0000 here' }), webhookTimestamp: Date.now() });
  const { w, g } = await both(raw);
  expect([w.status, g.status]).toEqual([200, 200]);
  await sameSignal((s) => s.type === 'prompt' && s.payload.commentId === commentId);
});

test('nesting 100,000 levels deep in a field kai does not read: both paths accept it', async () => {
  const sessionId = randomUUID();
  const depth = 100_000;
  const body = agentSessionCreated({ issueId: randomUUID(), sessionId });
  const inner = JSON.stringify({ ...body, webhookTimestamp: Date.now() });
  const raw = `${inner.slice(0, -1)},"sourceMetadata":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  JSON.parse(raw); // valid JSON
  const { w, g } = await both(raw);
  expect([w.status, g.status]).toEqual([200, 200]);
  await sameSignal((s) => s.payload.agentSessionId === sessionId);
});

test('a raw control character inside a string is not JSON: both paths refuse it the same way', async () => {
  const body = agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID(), description: 'PLACEHOLDER' });
  const raw = JSON.stringify({ ...body, webhookTimestamp: Date.now() }).replace('PLACEHOLDER', 'a\u0000b');
  const { w, g } = await both(raw);
  expect(w.status).toBe(400);
  expect(g.status).toBe(w.status);
  expect(g.body).toBe(w.body);
});
