// The direct webhook server against the real workflow on the test Temporal server.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Connection, Client } from '@temporalio/client';
import { SessionClient } from '../../src/client';
import { startWebhookServer, type StartedWebhookServer } from '../../src/webhook';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, waitForSettled, type TestEnv } from '../harness/temporal';
import type { KaiWorkers } from '../../src/worker';
import {
  APP_USER_ID,
  RecordingSink,
  SECRET,
  agentSessionCreated,
  agentSessionPrompted,
  commentCreated,
  deliver,
  issueUpdated,
  oauthRevoked,
  permissionChange,
  postRaw,
  reactionCreated,
  sign,
  silentLogger,
} from './helpers';
import { appUserNotification } from '../fixtures/webhooks/linear-payloads';

const PATH = '/webhooks/linear';

describe('webhook server: refusals (nothing reaches Temporal)', () => {
  let server: StartedWebhookServer;
  let sink: RecordingSink;
  let url: string;

  beforeAll(async () => {
    sink = new RecordingSink();
    server = await startWebhookServer(
      { secret: SECRET, sessions: sink, logger: silentLogger(), bodyLimitBytes: 64 * 1024, appUserId: APP_USER_ID },
      { host: '127.0.0.1', port: 0 },
    );
    url = server.url + PATH;
  });
  afterAll(() => server.close());
  afterEach(() => expect(sink.sent).toHaveLength(0));

  const valid = () => agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() });

  test('a wrong method is 405', async () => {
    expect((await postRaw(url, '', {}, 'GET')).status).toBe(405);
    expect((await postRaw(url, '{}', {}, 'PUT')).status).toBe(405);
  });

  test('a missing signature is 401', async () => {
    const raw = JSON.stringify(valid());
    expect((await postRaw(url, raw, { 'Linear-Delivery': randomUUID() })).status).toBe(401);
  });

  test('a bad signature is 401', async () => {
    const raw = JSON.stringify(valid());
    expect((await postRaw(url, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw, 'another-secret') })).status).toBe(401);
    expect((await postRaw(url, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': 'zz' })).status).toBe(401);
  });

  test('a body changed after signing is 401', async () => {
    const raw = JSON.stringify(valid());
    const signature = sign(raw);
    expect((await postRaw(url, raw.replace('Add a greeting', 'Add a farewell'), { 'Linear-Delivery': randomUUID(), 'Linear-Signature': signature })).status).toBe(401);
  });

  test('a webhookTimestamp older than 60 s (a replay) is 401', async () => {
    const raw = JSON.stringify({ ...valid(), webhookTimestamp: Date.now() - 61_000 });
    const res = await postRaw(url, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw) });
    expect(res.status).toBe(401);
    expect(res.body).toMatch(/timestamp/i);
  });

  test('malformed JSON, even signed, is 400', async () => {
    const raw = '{"type": "AgentSessionEvent", ';
    expect((await postRaw(url, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw) })).status).toBe(400);
  });

  test('a signed body that does not match its schema is 400', async () => {
    const broken = valid() as Record<string, unknown>;
    broken.agentSession = { ...(broken.agentSession as object), id: 42 };
    const res = await deliver(url, broken);
    expect(res.status).toBe(400);
    expect(res.body).toContain('agentSession.id');
    const prompted = agentSessionPrompted({ issueId: randomUUID(), sessionId: randomUUID(), body: 'hi' }) as Record<string, unknown>;
    delete prompted.agentActivity;
    expect((await deliver(url, prompted)).status).toBe(400);
  });

  test('a signed delivery without Linear-Delivery is 400', async () => {
    const raw = JSON.stringify(valid());
    expect((await postRaw(url, raw, { 'Linear-Signature': sign(raw) })).status).toBe(400);
  });

  test('a body over the limit is 413 (declared length: refused before reading)', async () => {
    const raw = JSON.stringify({ ...valid(), padding: 'x'.repeat(70 * 1024) });
    const res = await postRaw(url, raw, { 'Linear-Delivery': randomUUID(), 'Linear-Signature': sign(raw) });
    expect(res.status).toBe(413);
  });

  test('a chunked body over the limit is 413, without reading all of it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'Transfer-Encoding': 'chunked', 'Linear-Signature': 'x', 'Linear-Delivery': 'd' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        // 10 MiB offered; the server answers long before.
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  test('/healthz answers; /readyz is ready with a secret and Temporal reachable', async () => {
    expect((await fetch(server.url + '/healthz')).status).toBe(200);
    const ready = await fetch(server.url + '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, secret: 'configured', temporal: 'ok' });
  });

  test('without a signing secret deliveries are 503 and /readyz says why', async () => {
    const s = await startWebhookServer({ secret: undefined, sessions: sink, logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    try {
      expect((await deliver(s.url + PATH, valid())).status).toBe(503);
      const ready = await fetch(s.url + '/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, secret: 'missing' });
    } finally {
      await s.close();
    }
  });
});

describe('webhook server: Temporal unreachable', () => {
  test('a valid delivery is 503 (so Linear retries) and /readyz is not ready', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const client = new Client({ connection });
    const sessions = new SessionClient(client, { taskQueue: 'nowhere' });
    const server = await startWebhookServer(
      {
        secret: SECRET,
        sessions,
        logger: silentLogger(),
        signalTimeoutMs: 1000,
      },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const res = await deliver(server.url + PATH, agentSessionCreated({ issueId: randomUUID(), sessionId: randomUUID() }));
      expect(res.status).toBe(503);
      expect(res.ms).toBeLessThan(4500);
      const ready = await fetch(server.url + '/readyz');
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).temporal).toMatch(/unreachable/);
    } finally {
      await server.close();
      // The connection is left to the process: the Temporal client keeps retrying an
      // UNAVAILABLE call in the background (after our deadline answered 503), and closing the
      // channel under it throws from its retry timer.
    }
  });
});

describe('webhook server: deliveries reach the issue workflow', () => {
  let env: TestEnv;
  let fakes: FakeActivities;
  let workers: KaiWorkers;
  let running: Promise<void>;
  let server: StartedWebhookServer;
  let url: string;
  let sessions: SessionClient;

  beforeAll(async () => {
    env = await connectTestEnv();
    const tq = uniqueTaskQueue('webhook');
    fakes = new FakeActivities();
    workers = await startTestWorkers(env, tq, fakes.activities());
    running = workers.run();
    // comments without a session event run after a short grace (the default is 5 s each)
    sessions = sessionClient(env, tq, { idleTimeoutMs: 60_000, commentGraceMs: 500 });
    server = await startWebhookServer(
      {
        secret: SECRET,
        sessions,
        logger: silentLogger(),
        appUserId: APP_USER_ID,
      },
      { host: '127.0.0.1', port: 0 },
    );
    url = server.url + PATH;
  });

  afterAll(async () => {
    await server?.close();
    workers?.shutdown();
    await running;
    await env?.close();
  });

  const acksFor = (sessionId: string) => fakes.named('linearAcknowledge').filter((c) => c.input.agentSessionId === sessionId);

  test('a created delivery starts the workflow with the prompt, context and issue', async () => {
    const issueId = randomUUID();
    const sessionId = randomUUID();
    const res = await deliver(url, agentSessionCreated({ issueId, sessionId, description: 'See ![shot](https://uploads.linear.app/a/b/shot.png)' }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'signalled' });
    await waitFor('the acknowledgement', () => acksFor(sessionId).length === 1);
    const status = await sessions.status(issueId);
    expect(status.issueId).toBe(issueId);
    await waitFor('the engine run', () => fakes.named('engineResolve').find((c) => c.input.promptContext?.includes('Add a greeting')));
    const dl = fakes.named('filesDownloadAttachments').at(-1);
    expect(dl?.input.attachments).toEqual([{ url: 'https://uploads.linear.app/a/b/shot.png', name: 'shot' }]);
  });

  test('the same delivery 10 times, then 10 times at once, has one effect', async () => {
    const issueId = randomUUID();
    const sessionId = randomUUID();
    const deliveryId = randomUUID();
    const payload = agentSessionCreated({ issueId, sessionId });
    for (let i = 0; i < 10; i++) expect((await deliver(url, { ...payload, webhookTimestamp: Date.now() }, deliveryId)).status).toBe(200);
    const all = await Promise.all(Array.from({ length: 10 }, () => deliver(url, { ...payload, webhookTimestamp: Date.now() }, deliveryId)));
    expect(all.map((r) => r.status)).toEqual(Array(10).fill(200));
    await waitFor('the response', () => fakes.finals().some((f) => f.agentSessionId === sessionId));
    // every delivery was answered 200, so its signal is in the history the status query sees
    await waitForSettled(() => sessions.status(issueId));
    expect(acksFor(sessionId)).toHaveLength(1);
    expect(fakes.finals().filter((f) => f.agentSessionId === sessionId)).toHaveLength(1);
  });

  test('Stop in the session (agentActivity.signal "stop") stops the running turn', async () => {
    const issueId = randomUUID();
    const sessionId = randomUUID();
    fakes.hold();
    try {
      expect((await deliver(url, agentSessionCreated({ issueId, sessionId }))).status).toBe(200);
      await waitFor('the engine to run', async () => (await sessions.status(issueId)).phase === 'running');
      const res = await deliver(url, agentSessionPrompted({ issueId, sessionId, body: '', signal: 'stop' }));
      expect(res.status).toBe(200);
      await waitFor('the cancelled engine run', () => fakes.named('engineRun:cancelled').some((c) => c.input.issueId === issueId));
      await waitFor('the stop response', () => fakes.finals().some((f) => f.agentSessionId === sessionId && f.kind === 'response'));
    } finally {
      fakes.release();
    }
  });

  test('"stop" typed as a message, an Issue update removing kai as delegate, and inbox notifications all stop', async () => {
    for (const how of ['typed', 'undelegated', 'canceled', 'unassigned-notification', 'completed-notification'] as const) {
      const issueId = randomUUID();
      const sessionId = randomUUID();
      fakes.hold();
      try {
        await deliver(url, agentSessionCreated({ issueId, sessionId }));
        await waitFor('the engine to run', async () => (await sessions.status(issueId)).phase === 'running');
        const payload =
          how === 'typed'
            ? agentSessionPrompted({ issueId, sessionId, body: 'cancel' })
            : how === 'undelegated'
              ? issueUpdated({ issueId, updatedFrom: { delegateId: APP_USER_ID }, delegateId: null })
              : how === 'canceled'
                ? issueUpdated({ issueId, updatedFrom: { stateId: 'state-started' }, delegateId: APP_USER_ID, stateType: 'canceled' })
                : how === 'unassigned-notification'
                  ? appUserNotification({ id: issueId, identifier: 'ENG-1', title: 'Add a greeting', description: null }, 'issueUnassignedFromYou')
                  : appUserNotification({ id: issueId, identifier: 'ENG-1', title: 'Add a greeting', description: null }, 'issueStatusChanged', { issueStatusType: 'completed' });
        expect((await deliver(url, payload)).status).toBe(200);
        await waitFor(`the cancelled engine run (${how})`, () => fakes.named('engineRun:cancelled').some((c) => c.input.issueId === issueId));
      } finally {
        fakes.release();
      }
    }
  });

  test('each comment on a running issue is its own message with its comment and thread ids; kai’s own are ignored', async () => {
    const issueId = randomUUID();
    const sessionId = randomUUID();
    await deliver(url, agentSessionCreated({ issueId, sessionId }));
    await waitFor('the first turn', () => fakes.finals().some((f) => f.agentSessionId === sessionId));
    const before = fakes.named('engineResolve').length;
    const rootId = randomUUID();
    const results = await Promise.all([
      deliver(url, commentCreated({ issueId, commentId: rootId, body: 'Also greet in French' })),
      deliver(url, commentCreated({ issueId, parentId: rootId, body: 'and in German' })),
      deliver(url, commentCreated({ issueId, body: 'I am kai', userId: APP_USER_ID })),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => JSON.parse(r.body).outcome)).toEqual(['signalled', 'signalled', 'ignored']);
    // They answer in the issue's agent session; kai's own comment starts nothing.
    await waitFor('the follow-up responses', () => fakes.finals().filter((f) => f.agentSessionId === sessionId).length >= 3);
    await waitForSettled(() => sessions.status(issueId));
    expect(fakes.finals().filter((f) => f.agentSessionId === sessionId)).toHaveLength(3);
    const followUps = fakes.named('engineResolve').slice(before);
    expect(followUps.map((c) => c.input.body).sort()).toEqual(['Also greet in French', 'and in German']);
    expect(followUps.every((c) => c.input.followUp === true)).toBe(true);
  });

  test('a comment on an issue without a kai workflow is answered 200 and starts nothing', async () => {
    const issueId = randomUUID();
    const res = await deliver(url, commentCreated({ issueId, body: 'hello?' }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).outcome).toBe('not-running');
    await expect(sessions.status(issueId)).rejects.toThrow();
  });

  test('OAuthApp revoked and PermissionChange are logged and shown in /readyz; other types are counted', async () => {
    expect((await deliver(url, reactionCreated())).status).toBe(200);
    expect((await deliver(url, permissionChange(['team-9']))).status).toBe(200);
    let ready = (await (await fetch(server.url + '/readyz')).json()) as any;
    expect(ready.events['Reaction.create']).toBe(1);
    expect(ready.notices).toEqual([expect.objectContaining({ kind: 'permission-change', removedTeamIds: ['team-9'] })]);
    expect((await deliver(url, oauthRevoked())).status).toBe(200);
    const res = await fetch(server.url + '/readyz');
    ready = (await res.json()) as any;
    expect(res.status).toBe(503);
    expect(ready.linearAuthorization).toBe('revoked');
  });
});
