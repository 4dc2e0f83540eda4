// The emulator behaves as Linear does where kai has been wrong before (docs/linear.md names the
// source of each rule): the delegation marker, mentions in replies, kai's own final activities
// coming back as Comment webhooks, both webhooks of a user message in either order, inbox
// notifications for unassignment and state changes, UUID v4 client ids, refused repeats.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { LinearClient } from '@linear/sdk';
import { startLinearEmulator, type LinearEmulator, type LinearEmulatorOptions } from '../../../src/emulator/linear';

const TOKEN = 'lin_oauth_truth_test';
const V5_ID = '2ed6657d-e927-568b-95e1-2665a8aea6a2';

interface Received {
  event: string;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let emulator: LinearEmulator;
let closeReceiver: (() => Promise<void>) | undefined;
let received: Received[] = [];

afterEach(async () => {
  await emulator?.stop();
  await closeReceiver?.();
  closeReceiver = undefined;
  received = [];
});

async function start(opts: LinearEmulatorOptions = {}): Promise<LinearEmulator> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ event: String(req.headers['linear-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closeReceiver = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/linear`;
  emulator = await startLinearEmulator({ accessToken: TOKEN, seed: true, webhookUrl: url, ...opts });
  return emulator;
}

const sdk = () => new LinearClient({ apiUrl: emulator.url, accessToken: TOKEN });
const events = (type: string) => received.filter((r) => r.event === type).map((r) => r.body);

async function gql(query: string, variables: Record<string, unknown>) {
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
}

const CREATE_ACTIVITY = 'mutation m($input: AgentActivityCreateInput!) { agentActivityCreate(input: $input) { success } }';

test('a delegation opens a session under Linear’s own marker comment, which has no author', async () => {
  await start();
  const { issue } = emulator.workspace!;
  const { session } = await emulator.startSession({ issueId: issue.id });
  expect(received.map((r) => r.event)).toEqual(['AgentSessionEvent']);
  const created = events('AgentSessionEvent')[0]!;
  expect(created.action).toBe('created');
  expect(created.agentSession.comment).toMatchObject({ body: 'This thread is for an agent session with kai.', userId: null });
  expect(created.agentSession.commentId).toBe(created.agentSession.comment.id);
  expect(created.agentSession.sourceCommentId).toBe(created.agentSession.comment.id);
  expect(created.previousComments).toEqual([]);
  expect(emulator.state.sessions.get(session.id)!.commentId).toBe(created.agentSession.comment.id);
});

test('a mention in a reply: comment is the thread root, the mention is in sourceCommentId, previousComments and promptContext', async () => {
  await start();
  const { issue, user } = emulator.workspace!;
  await emulator.comment(issue.id, 'Should we cache this?', { send: false });
  const root = [...emulator.state.comments.values()][0]!;
  const { session, comment, delivery, commentDelivery } = await emulator.mention(issue.id, '@kai what does the cache key include?', { parentId: root.id });
  expect(delivery!.status).toBe(200);
  expect(commentDelivery!.status).toBe(200);
  expect(received.map((r) => r.event)).toEqual(['AgentSessionEvent', 'Comment']);
  const created = events('AgentSessionEvent')[0]!;
  expect(created.agentSession).toMatchObject({ id: session.id, commentId: root.id, comment: { id: root.id, body: 'Should we cache this?' }, sourceCommentId: comment.id, creatorId: user.id });
  expect(created.previousComments).toEqual([expect.objectContaining({ id: comment.id, body: '@kai what does the cache key include?' })]);
  expect(created.promptContext).toContain('@kai what does the cache key include?');
  const c = events('Comment')[0]!;
  expect(c.data).toMatchObject({ id: comment.id, parentId: root.id, userId: user.id, body: '@kai what does the cache key include?' });
});

test('every response, error and elicitation becomes one comment by the app user in the session thread, with one Comment webhook each', async () => {
  await start();
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id });
  const client = sdk();
  await client.createAgentActivity({ agentSessionId: session.id, content: { type: 'thought', body: 'thinking' } });
  await client.createAgentActivity({ agentSessionId: session.id, content: { type: 'action', action: 'Ran', parameter: 'ls' } });
  await client.createAgentActivity({ agentSessionId: session.id, content: { type: 'response', body: 'Answer one' } });
  await client.createAgentActivity({ agentSessionId: session.id, content: { type: 'error', body: 'It broke' } });
  await gql(CREATE_ACTIVITY, { input: { agentSessionId: session.id, content: { type: 'elicitation', body: 'Which repo?' }, signal: 'select', signalMetadata: { options: [{ value: 'api' }, { value: 'web' }] } } });
  await emulator.settled();
  const app = emulator.state.appUser.id;
  const root = emulator.state.sessions.get(session.id)!.commentId;
  const comments = events('Comment');
  expect(comments.map((c) => c.data.body)).toEqual(['Answer one', 'It broke', 'Which repo?']);
  expect(comments.every((c) => c.action === 'create' && c.data.userId === app && c.data.parentId === root)).toBe(true);
  expect(new Set(comments.map((c) => c.data.id)).size).toBe(3);
  const kaiComments = [...emulator.state.comments.values()].filter((c) => c.userId === app);
  expect(kaiComments).toHaveLength(3);
  expect(emulator.snapshot().sessions[0]!.status).toBe('awaitingInput');
});

test('a user message sends a Comment and an AgentSessionEvent webhook, in the configured order, carrying the same comment id', async () => {
  await start({ userMessage: { order: 'comment-first', gapMs: 200 } });
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id });
  received = [];
  const out = await emulator.prompt(session.id, 'also update the docs');
  expect(received.map((r) => r.event)).toEqual(['Comment', 'AgentSessionEvent']);
  const [comment, prompted] = [events('Comment')[0]!, events('AgentSessionEvent')[0]!];
  expect(prompted.action).toBe('prompted');
  expect(prompted.agentActivity.sourceCommentId).toBe(comment.data.id);
  expect(comment.data).toMatchObject({ id: out.comment!.id, body: 'also update the docs', parentId: emulator.state.sessions.get(session.id)!.commentId });

  emulator.setUserMessageDelivery({ order: 'session-first', gapMs: 0 });
  received = [];
  await emulator.prompt(session.id, 'and the changelog');
  expect(received.map((r) => r.event)).toEqual(['AgentSessionEvent', 'Comment']);

  // Stop comes from Linear's menu: a prompted event with the stop signal and no comment.
  received = [];
  await emulator.stopSession(session.id);
  expect(received.map((r) => r.event)).toEqual(['AgentSessionEvent']);
  expect(events('AgentSessionEvent')[0]!.agentActivity).toMatchObject({ signal: 'stop', sourceCommentId: null });
});

test('unassignment and state changes reach the app as AppUserNotification; Issue webhooks only when that category is enabled', async () => {
  await start({ webhookCategories: ['AgentSessionEvent', 'Comment', 'AppUserNotification'] });
  const { issue } = emulator.workspace!;
  await emulator.userUpdatesIssue(issue.id, { stateName: 'Canceled' });
  await emulator.userUpdatesIssue(issue.id, { delegateId: null });
  // No longer held by the app: its state changes are not the app's notifications any more.
  await emulator.userUpdatesIssue(issue.id, { stateName: 'Todo' });
  expect(received.map((r) => r.event)).toEqual(['AppUserNotification', 'AppUserNotification']);
  const [status, unassigned] = events('AppUserNotification');
  expect(status).toMatchObject({
    type: 'AppUserNotification',
    action: 'issueStatusChanged',
    appUserId: emulator.state.appUser.id,
    notification: { type: 'issueStatusChanged', issueId: issue.id, issue: { identifier: 'ENG-1', teamId: issue.teamId }, userId: emulator.state.appUser.id },
  });
  expect(unassigned).toMatchObject({ action: 'issueUnassignedFromYou', notification: { type: 'issueUnassignedFromYou', issueId: issue.id, actor: { name: 'Ada Lovelace' } } });
  expect(typeof unassigned!.oauthClientId).toBe('string');

  emulator.setWebhookCategories(['AgentSessionEvent', 'Comment', 'AppUserNotification', 'Issue']);
  received = [];
  await emulator.userUpdatesIssue(issue.id, { delegateId: emulator.state.appUser.id });
  await emulator.userUpdatesIssue(issue.id, { stateName: 'Done' });
  expect(received.map((r) => r.event)).toEqual(['AppUserNotification', 'Issue', 'AppUserNotification', 'Issue']);
  expect(events('AppUserNotification').map((n) => n.action)).toEqual(['issueAssignedToYou', 'issueStatusChanged']);
});

test('client ids that are not UUID v4 are refused with INPUT_ERROR; a repeated activity id is refused', async () => {
  await start();
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id, send: false });
  for (const id of [V5_ID, 'not-a-uuid', 'part-1']) {
    const { body } = await gql(CREATE_ACTIVITY, { input: { id, agentSessionId: session.id, content: { type: 'response', body: 'x' } } });
    expect(body.errors![0]!.extensions).toMatchObject({ code: 'INPUT_ERROR', userError: true });
  }
  const issueCreate = await gql('mutation m($input: IssueCreateInput!) { issueCreate(input: $input) { success } }', {
    input: { id: V5_ID, teamId: emulator.workspace!.team.id, title: 'Child' },
  });
  expect(issueCreate.body.errors![0]!.extensions).toMatchObject({ code: 'INPUT_ERROR', userError: true });
  const id = randomUUID();
  const first = await gql(CREATE_ACTIVITY, { input: { id, agentSessionId: session.id, content: { type: 'response', body: 'once' } } });
  expect(first.body.errors).toBeUndefined();
  const again = await gql(CREATE_ACTIVITY, { input: { id, agentSessionId: session.id, content: { type: 'response', body: 'once' } } });
  expect(again.body.errors![0]!.message).toMatch(/already exists/);
  expect(again.body.errors![0]!.extensions).toMatchObject({ code: 'INPUT_ERROR', userError: true });
  expect(emulator.snapshot().sessions[0]!.activities).toHaveLength(1);
  expect([...emulator.state.comments.values()].filter((c) => c.body === 'once')).toHaveLength(1);
});

test('signals are checked as Linear documents them: select needs options on an elicitation, stop is for prompts', async () => {
  await start();
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id, send: false });
  const noOptions = await gql(CREATE_ACTIVITY, { input: { agentSessionId: session.id, content: { type: 'elicitation', body: 'Which?' }, signal: 'select' } });
  expect(noOptions.body.errors![0]!.message).toMatch(/select signal needs signalMetadata.options/);
  const onResponse = await gql(CREATE_ACTIVITY, { input: { agentSessionId: session.id, content: { type: 'response', body: 'x' }, signal: 'stop' } });
  expect(onResponse.body.errors![0]!.message).toMatch(/stop signal applies to prompt/);
  expect(emulator.snapshot().sessions[0]!.activities).toHaveLength(0);
});

test('a refused token can be answered as HTTP 400 with AUTHENTICATION_ERROR, as Linear does; a rotated token is refused', async () => {
  await start({ authFailureStatus: 400 });
  emulator.setAccessToken('lin_oauth_rotated');
  const res = await gql('query { viewer { id } }', {});
  expect(res.status).toBe(400);
  expect(res.body.errors![0]!.extensions).toMatchObject({ code: 'AUTHENTICATION_ERROR', type: 'authentication error', userError: true });
  expect(emulator.requests().at(-1)!.outcome).toBe('unauthorized');
});

test('a lost response: the write happens, the client sees a 5xx', async () => {
  await start();
  const { session } = await emulator.startSession({ issueId: emulator.workspace!.issue.id, send: false });
  emulator.injectFaults({ status: 502, count: 1, operations: ['agentActivityCreate'], lostResponse: true });
  const id = randomUUID();
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query: CREATE_ACTIVITY, variables: { input: { id, agentSessionId: session.id, content: { type: 'thought', body: 'x' } } } }),
  });
  expect(res.status).toBe(502);
  expect(emulator.snapshot().sessions[0]!.activities.map((a) => a.id)).toEqual([id]);
});
