// The Linear emulator as kai and its tests see it: GraphQL through the real SDK, Linear-like
// errors and limits, uploads, webhooks signed as Linear signs them, and the /_emulator views.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LinearClient } from '@linear/sdk';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { startLinearEmulator, type LinearEmulator, type EmulatorSnapshot } from '../../../src/emulator/linear';
import { createLinearGateway, createLinearUploader } from '../../../src/activities/linear';

const TOKEN = 'lin_oauth_emulator_test';
let emulator: LinearEmulator;
let receiver: { url: string; received: Array<{ headers: IncomingMessage['headers']; raw: string }>; close(): Promise<void> } | undefined;

afterEach(async () => {
  await emulator?.stop();
  await receiver?.close();
  receiver = undefined;
});

async function startReceiver() {
  const received: Array<{ headers: IncomingMessage['headers']; raw: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/linear`;
  return {
    url,
    received,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const client = () => new LinearClient({ apiUrl: emulator.url, accessToken: TOKEN });

test('answers the SDK mutations and kai-shaped queries over HTTP on loopback', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true });
  expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  const sdk = client();
  const { issue, team } = emulator.workspace!;
  const res = await sdk.client.rawRequest<{ viewer: { id: string; app: boolean }; issue: { identifier: string; state: { type: string }; team: { states: { nodes: unknown[] } } } }, Record<string, unknown>>(
    'query q($id: String!) { viewer { id app } issue(id: $id) { identifier state { type } team { states { nodes { id name type position } } } } }',
    { id: issue.id },
  );
  expect(res.data!.viewer).toEqual({ id: emulator.state.appUser.id, app: true });
  expect(res.data!.issue).toMatchObject({ identifier: 'ENG-1', state: { type: 'backlog' } });
  expect(res.data!.issue.team.states.nodes).toHaveLength(7);
  const created = await sdk.createIssue({ teamId: team.id, title: 'Child', parentId: issue.id });
  expect(created.success).toBe(true);
  expect(emulator.snapshot().issues.find((i) => i.id === created.issueId)).toMatchObject({ identifier: 'ENG-2', parentId: issue.id });
  const label = await sdk.createIssueLabel({ name: 'bug', teamId: team.id });
  await sdk.updateIssue(issue.id, { addedLabelIds: [label.issueLabelId!], estimate: 3, priority: 1 });
  expect(emulator.snapshot().issues[0]).toMatchObject({ labels: ['bug'], estimate: 3, priority: 1 });
});

test('a field or operation outside Linear’s schema fails with a GraphQL error naming it', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true });
  const sdk = client();
  await expect(sdk.client.rawRequest('query { issue(id: "x") { id madeUpField } }', {})).rejects.toThrow(/Cannot query field "madeUpField" on type "Issue"/);
  await expect(sdk.client.rawRequest('mutation { agentSessionTeleport(id: "x") { success } }', {})).rejects.toThrow(/agentSessionTeleport/);
  // The SDK's own full-fragment queries ask for far more than kai uses; the emulator does not
  // pretend to have those fields.
  await expect(sdk.viewer).rejects.toThrow(/Cannot query field/);
});

test('missing entities are user errors shaped like Linear’s', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true });
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      query: 'mutation m($input: AgentActivityCreateInput!) { agentActivityCreate(input: $input) { success } }',
      variables: { input: { agentSessionId: 'gone', content: { type: 'thought', body: 'x' } } },
    }),
  });
  const body = (await res.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
  expect(body.errors[0]).toMatchObject({
    message: 'Entity not found: AgentSession',
    extensions: { code: 'INPUT_ERROR', type: 'invalid input', userError: true },
  });
});

test('requests without the access token are refused', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN });
  const sdk = new LinearClient({ apiUrl: emulator.url, accessToken: 'wrong' });
  await expect(sdk.client.rawRequest('query { viewer { id } }', {})).rejects.toThrow(/Authentication required/);
});

test('the rate limit answers RATELIMITED with X-RateLimit headers until the window resets', async () => {
  // A window long enough that a loaded machine cannot roll it over between the three posts.
  emulator = await startLinearEmulator({ accessToken: TOKEN, rateLimit: { limit: 2, windowMs: 2_000 } });
  const post = () =>
    fetch(emulator.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: TOKEN },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
  const ok1 = await post();
  expect(ok1.headers.get('x-ratelimit-requests-remaining')).toBe('1');
  await post();
  const limited = await post();
  expect(limited.status).toBe(400);
  expect(((await limited.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('RATELIMITED');
  expect(limited.headers.get('x-ratelimit-requests-remaining')).toBe('0');
  const reset = Number(limited.headers.get('x-ratelimit-requests-reset'));
  expect(reset).toBeGreaterThan(Date.now() - 50);
  await new Promise((r) => setTimeout(r, Math.max(0, reset - Date.now()) + 20));
  expect((await post()).status).toBe(200);
});

test('injected 5xx bursts and slow responses hit only the named operations, then stop', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true });
  emulator.injectFaults({ status: 503, count: 1, operations: ['issueUpdate'] });
  emulator.injectLatency({ ms: 150, count: 1, operations: ['viewer'] });
  const sdk = client();
  const t0 = Date.now();
  await sdk.client.rawRequest('{ viewer { id } }', {});
  expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  await expect(sdk.updateIssue(emulator.workspace!.issue.id, { priority: 2 })).rejects.toMatchObject({ status: 503 });
  await expect(sdk.updateIssue(emulator.workspace!.issue.id, { priority: 2 })).resolves.toMatchObject({ success: true });
  expect(emulator.requests().map((r) => [r.rootFields[0], r.outcome])).toEqual([
    ['viewer', 'ok'],
    ['issueUpdate', 'fault'],
    ['issueUpdate', 'ok'],
  ]);
});

test('agentActivityCreate refuses a repeated client id, and an ephemeral activity is replaced by the next', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true });
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id, send: false });
  const sdk = client();
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
  await sdk.createAgentActivity({ id, agentSessionId: session.id, content: { type: 'thought', body: 'working' }, ephemeral: true });
  await expect(sdk.createAgentActivity({ id, agentSessionId: session.id, content: { type: 'thought', body: 'working' }, ephemeral: true })).rejects.toThrow(/already exists/);
  expect(emulator.snapshot().sessions[0]!.activities).toHaveLength(1);
  await sdk.createAgentActivity({ agentSessionId: session.id, content: { type: 'response', body: 'done' } });
  await expect(sdk.createAgentActivity({ agentSessionId: session.id, content: { type: 'response', body: 'x' }, ephemeral: true })).rejects.toThrow(/Only thought and action/);
  await expect(sdk.updateAgentSession(session.id, { plan: [{ content: 'a', status: 'doing' }] as never })).rejects.toThrow(/plan\[0\]/);
  const s = emulator.snapshot().sessions[0]!;
  expect(s.activities.map((a) => a.type)).toEqual(['response']);
  expect(s.replacedActivities.map((a) => a.id)).toEqual([id]);
  expect(s.status).toBe('complete');
});

test('fileUpload gives an upload URL that accepts a PUT and an asset URL that serves the bytes to the token holder', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN });
  const uploader = createLinearUploader(createLinearGateway({ apiUrl: emulator.url, accessToken: TOKEN }));
  const data = Buffer.from('hello, linear');
  const assetUrl = await uploader.upload({ data, filename: 'hello.txt', contentType: 'text/plain' });
  expect(assetUrl.startsWith(emulator.baseUrl)).toBe(true);
  expect((await fetch(assetUrl)).status).toBe(401);
  const got = await fetch(assetUrl, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(Buffer.from(await got.arrayBuffer())).toEqual(data);
  expect(emulator.snapshot().uploads).toEqual([expect.objectContaining({ filename: 'hello.txt', size: data.length, uploaded: true })]);
});

test('webhooks are signed like Linear’s and verify with the SDK’s LinearWebhookClient', async () => {
  receiver = await startReceiver();
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true, webhookSecret: 'whsec', webhookUrl: receiver.url });
  const { issue } = emulator.workspace!;
  const { session, delivery } = await emulator.startSession({ issueId: issue.id, commentBody: '@kai please do it' });
  expect(delivery!.status).toBe(200);
  const got = receiver.received[0]!;
  expect(got.headers['linear-event']).toBe('AgentSessionEvent');
  expect(got.headers['linear-delivery']).toBe(delivery!.deliveryId);
  const verifier = new LinearWebhookClient('whsec');
  const payload = verifier.parseData(Buffer.from(got.raw), String(got.headers['linear-signature'])) as unknown as Record<string, any>;
  expect(payload).toMatchObject({
    type: 'AgentSessionEvent',
    action: 'created',
    appUserId: emulator.state.appUser.id,
    organizationId: emulator.state.organization.id,
    agentSession: {
      id: session.id,
      issue: { id: issue.id, identifier: 'ENG-1', title: issue.title, description: issue.description, team: { key: 'ENG' } },
      comment: { body: '@kai please do it' },
      creator: { name: 'Ada Lovelace' },
    },
  });
  expect(typeof payload.webhookTimestamp).toBe('number');
  expect(payload.promptContext).toContain('<issue identifier="ENG-1">');
  expect(payload.promptContext).toContain(issue.title);
  expect(() => verifier.parseData(Buffer.from(got.raw), 'f'.repeat(64))).toThrow();
});

test('prompted and stop events carry the user message and the stop signal; redelivery repeats the delivery id', async () => {
  receiver = await startReceiver();
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true, webhookSecret: 'whsec', webhookUrl: receiver.url });
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id });
  const prompted = await emulator.prompt(session.id, 'also update the docs');
  await emulator.stopSession(session.id);
  const again = await emulator.redeliver(prompted.delivery!.deliveryId);
  const [, p, stop, redelivered] = receiver.received.filter((r) => r.headers['linear-event'] === 'AgentSessionEvent').map((r) => ({ ...r, body: JSON.parse(r.raw) }));
  expect(p!.body).toMatchObject({ action: 'prompted', agentActivity: { content: { type: 'prompt', body: 'also update the docs' }, agentSessionId: session.id } });
  expect(stop!.body).toMatchObject({ action: 'prompted', agentActivity: { signal: 'stop' } });
  expect(again.deliveryId).toBe(prompted.delivery!.deliveryId);
  expect(redelivered!.headers['linear-delivery']).toBe(p!.headers['linear-delivery']);
  expect(redelivered!.body.agentActivity.id).toBe(p!.body.agentActivity.id);
  const verifier = new LinearWebhookClient('whsec');
  expect(() => verifier.parseData(Buffer.from(redelivered!.raw), String(redelivered!.headers['linear-signature']))).not.toThrow();
});

test('Comment and Issue webhooks have Linear’s entity payload shape', async () => {
  receiver = await startReceiver();
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true, webhookSecret: 'whsec', webhookUrl: receiver.url });
  const { issue } = emulator.workspace!;
  await emulator.comment(issue.id, 'any update?');
  await emulator.userUpdatesIssue(issue.id, { stateName: 'Canceled', delegateId: null });
  const all = receiver.received.map((r) => ({ event: r.headers['linear-event'], body: JSON.parse(r.raw) }));
  const c = all.find((r) => r.event === 'Comment');
  const i = all.find((r) => r.event === 'Issue');
  expect(c).toMatchObject({ event: 'Comment', body: { type: 'Comment', action: 'create', data: { body: 'any update?', issueId: issue.id, issue: { identifier: 'ENG-1' } } } });
  expect(i).toMatchObject({
    event: 'Issue',
    body: { type: 'Issue', action: 'update', data: { id: issue.id, state: { type: 'canceled', name: 'Canceled' }, delegateId: null }, updatedFrom: { delegateId: emulator.state.appUser.id } },
  });
  expect(i!.body.updatedFrom.stateId).toBeDefined();
});

test('GET /_emulator/state and /_emulator/requests show what happened, in order', async () => {
  emulator = await startLinearEmulator({ accessToken: TOKEN });
  await fetch(`${emulator.baseUrl}/_emulator/seed`, { method: 'POST', body: '{}' });
  const issueId = emulator.state.issues.values().next().value!.id;
  const started = (await (await fetch(`${emulator.baseUrl}/_emulator/sessions`, { method: 'POST', body: JSON.stringify({ issueId }) })).json()) as { session: { id: string } };
  const sdk = client();
  await sdk.createAgentActivity({ agentSessionId: started.session.id, content: { type: 'thought', body: 'one' } });
  await sdk.updateAgentSession(started.session.id, { plan: [{ content: 'step', status: 'inProgress' }] as never, addedExternalUrls: [{ label: 'Run', url: 'http://x/run' }] });
  await sdk.createAgentActivity({ agentSessionId: started.session.id, content: { type: 'action', action: 'Ran', parameter: 'ls', result: 'ok' } });
  const state = (await (await fetch(`${emulator.baseUrl}/_emulator/state`)).json()) as EmulatorSnapshot;
  expect(state.sessions[0]).toMatchObject({
    status: 'active',
    plan: [{ content: 'step', status: 'inProgress' }],
    externalUrls: [{ label: 'Run', url: 'http://x/run' }],
    activities: [{ type: 'thought' }, { type: 'action' }],
  });
  expect(state.issues[0]).toMatchObject({ identifier: 'ENG-1', state: { type: 'backlog' }, labels: [], attachments: [] });
  const { requests } = (await (await fetch(`${emulator.baseUrl}/_emulator/requests`)).json()) as { requests: Array<{ operationName: string; at: string }> };
  expect(requests.map((r) => r.operationName)).toEqual(['createAgentActivity', 'updateAgentSession', 'createAgentActivity']);
  expect(requests.every((r) => !Number.isNaN(Date.parse(r.at)))).toBe(true);
});

test('refuses to listen anywhere but loopback', async () => {
  await expect(startLinearEmulator({ host: '0.0.0.0' as never })).rejects.toThrow(/loopback/);
});
