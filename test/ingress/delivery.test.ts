// Ingress against the real workflow on the test Temporal server and the Linear emulator:
// "signal only if running" is one atomic call; a signed body replayed under a new
// Linear-Delivery runs once; kai knows its app user id from config or one viewer query.
import { randomUUID } from 'node:crypto';
import { SessionClient } from '../../src/client';
import { defaultConfig, type KaiConfig } from '../../src/config/schema';
import { startLinearEmulator, type LinearEmulator } from '../../src/emulator/linear';
import { linearIdentity } from '../../src/ingress/linear-identity';
import { issueWorkflowId } from '../../src/names';
import { startWebhookServer, webhookDepsFromConfig, type StartedWebhookServer } from '../../src/webhook';
import type { KaiWorkers } from '../../src/worker';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';
import { APP_USER_ID, SECRET, agentSessionCreated, commentCreated, deliver, postRaw, sign, silentLogger } from '../webhook/helpers';

const PATH = '/webhooks/linear';
let env: TestEnv;
let fakes: FakeActivities;
let workers: KaiWorkers;
let running: Promise<void>;
let sessions: SessionClient;
let server: StartedWebhookServer;

beforeAll(async () => {
  env = await connectTestEnv();
  const tq = uniqueTaskQueue('ingress');
  fakes = new FakeActivities();
  workers = await startTestWorkers(env, tq, fakes.activities());
  running = workers.run();
  sessions = sessionClient(env, tq, { idleTimeoutMs: 60_000 });
  server = await startWebhookServer({ secret: SECRET, sessions, logger: silentLogger(), appUserId: APP_USER_ID }, { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
  workers?.shutdown();
  await running;
  await env?.close();
});

const acksFor = (sessionId: string) => fakes.named('linearAcknowledge').filter((c) => c.input.agentSessionId === sessionId);

describe('sendIfRunning', () => {
  const stop = (issueId: string) => ({ type: 'stop' as const, issueId, payload: { deliveryId: randomUUID(), agentSessionId: '' } });

  test('is one signal call (no describe first): false without a workflow, true while it runs, false once it ended', async () => {
    const workflow = sessions.client.workflow;
    const getHandle = workflow.getHandle.bind(workflow);
    const describes = jest.fn();
    const spy = jest.spyOn(workflow, 'getHandle').mockImplementation((...args: Parameters<typeof getHandle>) => {
      const handle = getHandle(...args);
      const original = handle.describe.bind(handle);
      handle.describe = (...a: Parameters<typeof original>) => (describes(), original(...a));
      return handle;
    });
    try {
      const missing = randomUUID();
      expect(await sessions.sendIfRunning(stop(missing))).toBe(false);
      await expect(sessions.client.workflow.getHandle(issueWorkflowId(missing)).describe()).rejects.toThrow();
      describes.mockClear();

      const issueId = randomUUID();
      const sessionId = randomUUID();
      await sessions.send({ type: 'prompt', issueId, payload: { deliveryId: randomUUID(), agentSessionId: sessionId, body: 'hi', receivedAt: new Date().toISOString(), source: 'created' } });
      await waitFor('the first answer', () => fakes.finals().some((f) => f.agentSessionId === sessionId));
      expect(await sessions.sendIfRunning(stop(issueId))).toBe(true);

      await sessions.client.workflow.getHandle(issueWorkflowId(issueId)).terminate('test: the workflow ended');
      expect(await sessions.sendIfRunning(stop(issueId))).toBe(false);
      expect(describes).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('dedupe on what Linear signed', () => {
  test('the same signed body under a new Linear-Delivery (a replay within the window) runs once', async () => {
    const issueId = randomUUID();
    const sessionId = randomUUID();
    const raw = JSON.stringify({ ...agentSessionCreated({ issueId, sessionId }), webhookTimestamp: Date.now() });
    const headers = (delivery: string) => ({ 'Linear-Delivery': delivery, 'Linear-Event': 'AgentSessionEvent', 'Linear-Signature': sign(raw) });
    const first = await postRaw(server.url + PATH, raw, headers(randomUUID()));
    expect(JSON.parse(first.body).outcome).toBe('signalled');
    const replays = await Promise.all([1, 2, 3].map(() => postRaw(server.url + PATH, raw, headers(randomUUID()))));
    expect(replays.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replays.map((r) => JSON.parse(r.body).outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    await waitFor('the answer', () => fakes.finals().some((f) => f.agentSessionId === sessionId));
    expect(acksFor(sessionId)).toHaveLength(1);
    expect(fakes.named('engineRun').filter((c) => c.input.agentSessionId === sessionId)).toHaveLength(1);
  });

  test('a second webhook server (another replica) that never saw the first delivery leaves the dedupe to the workflow', async () => {
    const other = await startWebhookServer({ secret: SECRET, sessions, logger: silentLogger(), appUserId: APP_USER_ID }, { host: '127.0.0.1', port: 0 });
    try {
      const issueId = randomUUID();
      const sessionId = randomUUID();
      const body = agentSessionCreated({ issueId, sessionId });
      expect((await deliver(server.url + PATH, body)).status).toBe(200);
      const second = await deliver(other.url + PATH, { ...body, webhookTimestamp: Date.now() });
      expect(JSON.parse(second.body).outcome).toBe('signalled');
      await waitFor('the answer', () => fakes.finals().some((f) => f.agentSessionId === sessionId));
      await waitFor('the workflow idle with nothing queued', async () => {
        const s = await sessions.status(issueId);
        return s.phase === 'idle' && s.queuedPrompts === 0 && s.turns === 1;
      });
      expect(acksFor(sessionId)).toHaveLength(1);
      expect(fakes.named('engineRun').filter((c) => c.input.agentSessionId === sessionId)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});

describe("kai's app user id in every process from the start", () => {
  let emulator: LinearEmulator;
  const config = (over: Partial<KaiConfig['transports']['linear']> = {}): KaiConfig => {
    const c = defaultConfig();
    c.linear.api_url = emulator.url;
    c.transports.linear = { ...c.transports.linear, oauth_token: 'test-token', webhook_signing_secret: SECRET, ...over };
    return c;
  };

  beforeAll(async () => {
    emulator = await startLinearEmulator({ seed: true });
  });
  afterAll(() => emulator?.stop());

  test('from one viewer query at start-up when app_id is not configured; kai’s own comment is then dropped', async () => {
    emulator.clearRequests();
    const s = await startWebhookServer(webhookDepsFromConfig(config(), sessions, { logger: silentLogger() }), { host: '127.0.0.1', port: 0 });
    try {
      expect(s.ingress.appUserId).toBe(emulator.state.appUser.id);
      expect(emulator.requests().filter((r) => r.rootFields.includes('viewer'))).toHaveLength(1);
      const own = await deliver(s.url + PATH, commentCreated({ issueId: randomUUID(), body: 'Done.', userId: emulator.state.appUser.id }));
      expect(JSON.parse(own.body)).toMatchObject({ outcome: 'ignored', detail: "kai's own comment" });
    } finally {
      await s.close();
    }
  });

  test('app_id (or LINEAR_APP_ID) is used as it is, without asking Linear', async () => {
    emulator.clearRequests();
    const configured = linearIdentity(config({ app_id: 'configured-app-user' }), silentLogger());
    expect(await configured.appUserId()).toBe('configured-app-user');
    const fromEnv = linearIdentity(config(), silentLogger(), { LINEAR_APP_ID: 'env-app-user' });
    expect(await fromEnv.appUserId()).toBe('env-app-user');
    expect(emulator.requests().filter((r) => r.rootFields.includes('viewer'))).toHaveLength(0);
  });
});
