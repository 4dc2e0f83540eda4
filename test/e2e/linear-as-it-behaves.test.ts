// Issue 12, end to end: everything reaches kai as the Linear emulator's own webhooks (kai's
// echoed answers included), delivered over HTTP to two webhook servers in turn, one of which is
// restarted in the middle of a session; a real worker runs each turn (script engine, git, the
// GitHub emulator). Each test counts what a Linear user would see, read from the emulator's store:
// one turn per message, one final activity per turn, nothing after Stop, no comment answered twice.
import { issueWorkflowId } from '../../src/names';
import { noIssueKey } from '../../src/domain/issue';
import { statusQuery } from '../../src/workflows/signals';
import type { ActivityRec, IssueRec } from '../../src/emulator/linear/store';
import { UUID_V4 } from '../../src/emulator/linear/store';
import { ALL_WEBHOOK_CATEGORIES } from '../../src/emulator/linear';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoRepository } from '../../src/app/stack';
import { waitFor } from '../harness/temporal';
import { startCluster, type Cluster } from './replicas';

jest.setTimeout(60_000);

const WEB_UI = 'http://temporal.example:8233';
const MARKER = /This thread is for an agent session/;

let c: Cluster;
/** A second configured repository: an issue in no mapped project could go to either. */
const other = makeDemoRepository(mkdtempSync(join(tmpdir(), 'kai-e2e-other-')));
/** Issues whose workflows this file started (ended in afterAll). */
const issues: IssueRec[] = [];
/** Sessions Linear refused every call for (so they could get no answer). */
const unanswerable = new Set<string>();

beforeAll(async () => {
  c = await startCluster({
    adjust: (config) => ({
      ...config,
      limits: { ...config.limits, keep_alive_s: 1 },
      projects: { ...config.projects, other: { path: other.repoPath } },
      temporal: { ...config.temporal, web_ui_url: WEB_UI },
      plugins: { ...config.plugins, linear: { ...config.plugins.linear, auto_labels_enabled: true } },
    }),
  });
}, 60_000);

afterAll(async () => {
  if (!c) return;
  for (const issue of issues) await c.stack.client.workflow.getHandle(issueWorkflowId(issue.id)).terminate('test over').catch(() => undefined);
  await c.stop();
});

// ---------------------------------------------------------------- reading what Linear shows

const store = () => c.world.linear.state;
const app = () => store().appUser.id;

function newIssue(title: string, opts: { description?: string; delegated?: boolean; stateType?: 'backlog' | 'unstarted'; inProject?: boolean } = {}): IssueRec {
  const ws = c.world.workspace;
  const issue = store().addIssue({
    teamId: ws.team.id,
    title,
    description: opts.description ?? 'Made by the end-to-end test.',
    stateType: opts.stateType ?? 'backlog',
    projectId: opts.inProject === false ? undefined : ws.project.id,
    creatorId: ws.user.id,
    delegateId: opts.delegated === false ? ws.user.id : app(),
  });
  issues.push(issue);
  return issue;
}

/** Every activity of a session as Linear recorded it, replaced ephemeral ones included. */
function activities(sessionId: string): ActivityRec[] {
  return (store().sessionActivities.get(sessionId) ?? []).map((id) => store().activities.get(id)!);
}
const kai = (sessionId: string) => activities(sessionId).filter((a) => a.userId === app());
const finals = (sessionId: string) => kai(sessionId).filter((a) => a.content.type === 'response' || a.content.type === 'error');
const responses = (sessionId: string) => kai(sessionId).filter((a) => a.content.type === 'response');
const runsOf = (sessionId: string) => c.runs().filter((r) => r.agentSessionId === sessionId);
/** Comments kai's app user wrote on an issue. */
const kaiComments = (issueId: string) => [...store().comments.values()].filter((x) => x.issueId === issueId && x.userId === app());

async function answered(sessionId: string, count = 1): Promise<ActivityRec[]> {
  return waitFor(`${count} final activities in session ${sessionId}`, () => finals(sessionId).length >= count && finals(sessionId));
}

/** The issue's workflow has nothing running, queued, held or left to post, and every webhook
 *  the emulator sent meanwhile (kai's echoes) was answered. */
async function quiet(issueId: string): Promise<void> {
  await waitFor(`issue ${issueId} to be quiet`, async () => {
    const s = await c.sessions.status(issueId);
    return s.phase === 'idle' && s.queuedPrompts === 0 && s.pendingPosts === 0 && s.heldComments === 0;
  });
  await c.world.linear.settled();
}

/** Every signal delivered to the workflow so far has been handled by a workflow task. */
async function signalsHandled(workflowId: string): Promise<void> {
  await waitFor(`the signals of ${workflowId} to be handled`, async () => {
    const events = (await c.stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const lastSignal = events.map((e, i) => (e.workflowExecutionSignaledEventAttributes ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    return events.slice(lastSignal + 1).some((e) => e.workflowTaskCompletedEventAttributes);
  });
}

// ---------------------------------------------------------------- the tests

test('both webhook servers know kai’s app user id from the start: one from config, one from one viewer query', () => {
  const [configured, viewer] = c.replicas;
  expect(configured!.server.ingress.appUserId).toBe(app());
  expect(viewer!.server.ingress.appUserId).toBe(app());
  expect(c.world.linear.requests().filter((r) => r.rootFields.includes('viewer'))).toHaveLength(1);
});

test('the delegation’s request is the issue’s title and description, not Linear’s marker', async () => {
  const issue = newIssue('Greet the reader', { description: 'Add a friendly greeting at the top of the README.' });
  const { session } = await c.world.linear.startSession({ issueId: issue.id });
  expect(store().comments.get(session.commentId!)!.body).toMatch(MARKER);
  await answered(session.id);
  await quiet(issue.id);
  const [run, ...more] = runsOf(session.id);
  expect(more).toEqual([]);
  expect(run!.prompt).toContain('Greet the reader');
  expect(run!.prompt).toContain('Add a friendly greeting at the top of the README.');
  // Linear's promptContext may quote the thread (marker included) as context; the request is not it.
  expect(run!.prompt.replace(/<comment-thread>[\s\S]*<\/comment-thread>/, '')).not.toMatch(MARKER);
  // The message the workflow took in is the issue itself.
  const history = await c.stack.client.workflow.getHandle(issueWorkflowId(issue.id)).fetchHistory();
  const bodies = (history.events ?? [])
    .flatMap((e) => e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? [])
    .map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as { body?: string });
  expect(bodies.map((b) => b.body)).toEqual(['Greet the reader\n\nAdd a friendly greeting at the top of the README.']);
  expect(responses(session.id)).toHaveLength(1);
});

test('kai’s own answers come back as Comment webhooks to both servers and are never answered', async () => {
  const issue = newIssue('Answer three questions');
  const { session } = await c.world.linear.startSession({ issueId: issue.id });
  await answered(session.id, 1);
  for (const [i, body] of ['What changed?', 'And why?', 'Anything else?'].entries()) {
    await c.world.linear.prompt(session.id, body);
    await answered(session.id, i + 2);
  }
  await quiet(issue.id);
  expect(runsOf(session.id)).toHaveLength(4);
  expect(finals(session.id)).toHaveLength(4);
  // Each final became one comment by kai in the session thread, and each came back as a webhook.
  const mine = kaiComments(issue.id);
  expect(mine).toHaveLength(4);
  expect(mine.every((m) => m.parentId === session.commentId)).toBe(true);
  const echoes = c.deliveries.filter((d) => d.fromApp);
  expect(echoes.length).toBeGreaterThanOrEqual(4);
  expect(echoes.every((d) => d.status === 200 && d.outcome === 'ignored')).toBe(true);
  expect(new Set(echoes.map((d) => d.replica))).toEqual(new Set(['configured', 'viewer']));
});

test('a reply in a session runs once, in that session, for both webhook orders and a 0–5 s gap, across a webhook server restart mid-turn', async () => {
  const issue = newIssue('Keep going');
  const { linear } = c.world;
  const { session } = await linear.startSession({ issueId: issue.id });
  await answered(session.id, 1);
  const before = c.replicas.find((r) => r.name === 'viewer')!.restarts;
  // The first reply keeps the engine busy for 2 s; the viewer-id server restarts meanwhile
  // while three more replies arrive, each with its own order and gap.
  await linear.prompt(session.id, 'First reply PAUSE-WORK', { delivery: { order: 'session-first', gapMs: 0 } });
  await waitFor('the first reply to run', () => runsOf(session.id).length === 2);
  const replies = [
    { body: 'Second reply', delivery: { order: 'comment-first', gapMs: 0 } },
    { body: 'Third reply', delivery: { order: 'comment-first', gapMs: 4500 } },
    { body: 'Fourth reply', delivery: { order: 'session-first', gapMs: 4500 } },
  ] as const;
  let restartedAt = -1;
  await Promise.all([
    c.restart('viewer').then(() => void (restartedAt = c.deliveries.length)),
    ...replies.map((r) => linear.prompt(session.id, r.body, { delivery: r.delivery })),
  ]);
  expect(c.replicas.find((r) => r.name === 'viewer')!.restarts).toBe(before + 1);
  await answered(session.id, 5);
  await quiet(issue.id);
  const followUps = runsOf(session.id).map((r) => r.prompt).filter((p) => /reply/.test(p));
  expect(followUps.sort()).toEqual(['First reply PAUSE-WORK', 'Fourth reply', 'Second reply', 'Third reply']);
  expect(runsOf(session.id)).toHaveLength(5);
  expect(finals(session.id)).toHaveLength(5);
  expect((await c.sessions.status(issue.id)).turns).toBe(5);
  expect(kaiComments(issue.id)).toHaveLength(5);
  // The restarted server took its share of this session's deliveries again.
  expect(c.deliveries.slice(restartedAt).some((d) => d.replica === 'viewer')).toBe(true);
});

test('a mention in a reply runs once, in its own thread, for both webhook orders and a 0–5 s gap', async () => {
  const { linear } = c.world;
  const cases = [
    { order: 'session-first', gapMs: 0 },
    { order: 'comment-first', gapMs: 0 },
    { order: 'comment-first', gapMs: 4500 },
    { order: 'session-first', gapMs: 4500 },
  ] as const;
  const outcomes = await Promise.all(
    cases.map(async (delivery, i) => {
      const issue = newIssue(`Mention case ${i}`);
      // A colleague's thread, written before kai had anything running on the issue.
      await linear.comment(issue.id, `Should we rename the greeting? (thread ${i})`);
      const root = [...store().comments.values()].find((x) => x.issueId === issue.id && x.body.includes(`(thread ${i})`))!;
      // kai is already working on the issue (its workflow runs) when the mention comes.
      const { session: delegated } = await linear.startSession({ issueId: issue.id });
      const text = `@kai what would you call it? (mention ${i})`;
      const { session, comment } = await linear.mention(issue.id, text, { parentId: root.id, delivery });
      await answered(delegated.id);
      await answered(session.id);
      await quiet(issue.id);
      return { issue, root, delegated, session, comment, text };
    }),
  );
  for (const o of outcomes) {
    expect(o.session.commentId).toBe(o.root.id);
    expect(o.session.sourceCommentId).toBe(o.comment.id);
    const [run, ...more] = runsOf(o.session.id);
    expect(more).toEqual([]);
    expect(run!.prompt).toContain(o.text);
    expect(runsOf(o.delegated.id)).toHaveLength(1);
    expect(finals(o.session.id)).toHaveLength(1);
    expect(finals(o.delegated.id)).toHaveLength(1);
    // The answer is in the mention's thread.
    const answer = store().comments.get(finals(o.session.id)[0]!.sourceCommentId!)!;
    expect(answer.parentId).toBe(o.root.id);
    expect((await c.sessions.status(o.issue.id)).turns).toBe(2);
  }
});

test('a mention on someone else’s issue is answered and leaves it alone; a delegated issue is moved and labelled once', async () => {
  const issue = newIssue('A colleague’s issue', { delegated: false, stateType: 'unstarted' });
  const stateBefore = issue.stateId;
  const { session } = await c.world.linear.mention(issue.id, '@kai what does the greeting do?');
  await answered(session.id);
  await quiet(issue.id);
  expect(responses(session.id)).toHaveLength(1);
  const after = store().issue(issue.id);
  expect(after.stateId).toBe(stateBefore);
  expect(after.labelIds).toEqual([]);
  expect(after.delegateId).toBe(c.world.workspace.user.id);
  // Issues delegated to kai (several ran their first turns at once above) were moved and
  // labelled, all with the one agent:processed label.
  const processed = [...store().labels.values()].filter((l) => l.name === 'agent:processed');
  expect(processed).toHaveLength(1);
  const delegated = issues.filter((i) => i.delegateId === app());
  expect(delegated.length).toBeGreaterThanOrEqual(6);
  for (const d of delegated) {
    expect(store().issue(d.id).labelIds).toContain(processed[0]!.id);
    expect(store().states.get(store().issue(d.id).stateId)!.type).not.toBe('backlog');
  }
});

test('Stop: nothing after the stop signal but one final response', async () => {
  const issue = newIssue('Work until stopped', { description: 'SLOW-WORK' });
  const { session } = await c.world.linear.startSession({ issueId: issue.id });
  await waitFor('progress in the session', () => kai(session.id).some((a) => a.content.type === 'action'));
  const pressedAt = Date.now();
  const { activity: stop, delivery } = await c.world.linear.stopSession(session.id);
  // kai has the stop signal once its webhook is answered (Temporal accepted the signal).
  const acceptedAt = Date.now();
  expect(delivery?.status).toBe(200);
  const [final] = await answered(session.id);
  console.log(`Stop to final response through webhooks: ${Date.parse(final!.createdAt) - pressedAt} ms`);
  await quiet(issue.id);
  // From then on Linear saw one call from kai: the final response.
  const calls = c.world.linear.requests().filter((r) => r.atMs > acceptedAt);
  expect(calls.map((r) => r.rootFields.join(','))).toEqual(['agentActivityCreate']);
  const all = activities(session.id);
  const afterStop = all.slice(all.findIndex((a) => a.id === stop.id) + 1);
  expect(afterStop.filter((a) => Date.parse(a.createdAt) > acceptedAt).map((a) => a.content.type)).toEqual(['response']);
  expect(afterStop.at(-1)!.id).toBe(final!.id);
  expect(final!.content.body).toMatch(/^Stopped/);
  expect(finals(session.id)).toHaveLength(1);
  expect(runsOf(session.id)).toHaveLength(1);
});

test('a session kai holds, running or queued, gets a still-working thought every keep-alive period', async () => {
  const issue = newIssue('Long job', { description: 'SLOW-WORK' });
  const { linear } = c.world;
  const { session: running } = await linear.startSession({ issueId: issue.id });
  await waitFor('the engine to run', () => runsOf(running.id).length === 1);
  const { session: queued } = await linear.mention(issue.id, '@kai and then this, please');
  const notes = (id: string, text: RegExp) => kai(id).filter((a) => a.content.type === 'thought' && text.test(String(a.content.body)));
  await waitFor('keep-alive notes on both sessions', () => notes(running.id, /^Still working/).length >= 2 && notes(queued.id, /^Still queued/).length >= 1);
  await linear.stopSession(running.id);
  await answered(running.id);
  await answered(queued.id);
  await quiet(issue.id);
  expect(finals(running.id)).toHaveLength(1);
  expect(finals(queued.id)).toHaveLength(1);
  expect(runsOf(queued.id)).toEqual([]);
});

describe('with only the Inbox notifications category for issue changes', () => {
  beforeAll(() => c.world.linear.setWebhookCategories(ALL_WEBHOOK_CATEGORIES.filter((x) => x !== 'Issue')));
  afterAll(() => c.world.linear.setWebhookCategories(ALL_WEBHOOK_CATEGORIES));

  test('unassignment by AppUserNotification stops the run', async () => {
    const issue = newIssue('Taken away', { description: 'SLOW-WORK' });
    const { session } = await c.world.linear.startSession({ issueId: issue.id });
    await waitFor('progress', () => kai(session.id).some((a) => a.content.type === 'action'));
    const sent = c.deliveries.length;
    await c.world.linear.userUpdatesIssue(issue.id, { delegateId: null });
    expect(c.deliveries.slice(sent).map((d) => d.event)).toEqual(['AppUserNotification']);
    const [final] = await answered(session.id);
    expect(final!.content.body).toMatch(/^Stopped/);
    await quiet(issue.id);
    expect(finals(session.id)).toHaveLength(1);
  });

  test('a move to a completed status by AppUserNotification stops the run', async () => {
    const issue = newIssue('Done by hand', { description: 'SLOW-WORK' });
    const { session } = await c.world.linear.startSession({ issueId: issue.id });
    await waitFor('progress', () => kai(session.id).some((a) => a.content.type === 'action'));
    const sent = c.deliveries.length;
    await c.world.linear.userUpdatesIssue(issue.id, { stateName: 'Done' });
    expect(c.deliveries.slice(sent).map((d) => d.event)).toEqual(['AppUserNotification']);
    const [final] = await answered(session.id);
    expect(final!.content.body).toMatch(/^Stopped/);
    await quiet(issue.id);
    expect(finals(session.id)).toHaveLength(1);
  });

  test('an unassignment while nothing runs posts nothing', async () => {
    const issue = newIssue('Quick then unassigned');
    const { session } = await c.world.linear.startSession({ issueId: issue.id });
    await answered(session.id);
    await quiet(issue.id);
    const before = activities(session.id).length;
    await c.world.linear.userUpdatesIssue(issue.id, { delegateId: null });
    await signalsHandled(issueWorkflowId(issue.id));
    await quiet(issue.id);
    expect(activities(session.id)).toHaveLength(before);
  });
});

test('with no repository known for the issue kai asks which one; the answer picks it, runs the request that asked, and is remembered', async () => {
  const { linear } = c.world;
  const issue = newIssue('Fix the other app', { inProject: false });
  const { session } = await linear.startSession({ issueId: issue.id });
  const ask = await waitFor('the question', () => kai(session.id).find((a) => a.content.type === 'elicitation'));
  expect(ask.signal).toBe('select');
  expect((ask.signalMetadata as { options: Array<{ value: string }> }).options.map((o) => o.value).sort()).toEqual(['demo', 'other']);
  await quiet(issue.id);
  expect(store().sessionStatus(session.id)).toBe('awaitingInput');
  expect(runsOf(session.id)).toEqual([]);
  expect(finals(session.id)).toEqual([]);
  await linear.prompt(session.id, 'other');
  await answered(session.id);
  await linear.prompt(session.id, 'One more thing');
  await answered(session.id, 2);
  await quiet(issue.id);
  const runs = runsOf(session.id);
  expect(runs).toHaveLength(2);
  expect(runs.some((r) => r.prompt.includes('Fix the other app'))).toBe(true);
  const repoOf = (cwd: string) => execFileSync('git', ['-C', cwd, 'rev-parse', '--path-format=absolute', '--git-common-dir'], { encoding: 'utf8' }).trim();
  for (const r of runs) expect(realpathSync(repoOf(r.cwd))).toBe(realpathSync(join(other.repoPath, '.git')));
  expect(kai(session.id).filter((a) => a.content.type === 'elicitation')).toHaveLength(1);
  expect(responses(session.id)).toHaveLength(2);
});

test('a long answer is one response, with what does not fit before it as thoughts', async () => {
  const issue = newIssue('Explain everything', { description: 'LONG-ANSWER' });
  const { session } = await c.world.linear.startSession({ issueId: issue.id });
  await answered(session.id);
  await quiet(issue.id);
  expect(responses(session.id)).toHaveLength(1);
  expect(finals(session.id)).toHaveLength(1);
  expect(kaiComments(issue.id)).toHaveLength(1);
  const mine = kai(session.id);
  const at = mine.findIndex((a) => a.content.type === 'response');
  const parts = mine.slice(0, at + 1).filter((a) => !a.ephemeral && /Part \d+:/.test(String(a.content.body)));
  expect(parts.length).toBeGreaterThanOrEqual(3);
  expect(parts.at(-1)!.content.type).toBe('response');
  const text = parts.map((p) => String(p.content.body)).join('\n');
  for (let i = 0; i < 30; i++) expect(text).toContain(`Part ${i}:`);
  for (const a of mine) expect(a.id).toMatch(UUID_V4);
});

test('a session with no issue gets a short response saying what kai can do', async () => {
  const { linear } = c.world;
  const session = store().addSession({ creatorId: c.world.workspace.user.id });
  const delivery = await linear.sendWebhook(linear.webhooks.agentSessionCreated(session));
  expect(delivery.status).toBe(200);
  const [final] = await answered(session.id);
  expect(final!.content.type).toBe('response');
  expect(String(final!.content.body)).toMatch(/delegate an issue to kai/);
  const noIssue = c.stack.client.workflow.getHandle(issueWorkflowId(noIssueKey(session.id)));
  await waitFor('nothing left to post', async () => (await noIssue.query(statusQuery)).pendingPosts === 0);
  expect(finals(session.id)).toHaveLength(1);
  expect(runsOf(session.id)).toEqual([]);
});

test('a lost answer to kai’s post is not posted twice: Linear refusing the repeated id counts as posted', async () => {
  const { linear } = c.world;
  const issue = newIssue('Flaky network');
  // The acknowledgement and the final response are written, and their answers lost.
  linear.injectFaults({ status: 502, count: 1, operations: ['agentActivityCreate'], lostResponse: true });
  const { session } = await linear.startSession({ issueId: issue.id });
  await answered(session.id);
  await quiet(issue.id);
  linear.clearFaults();
  const acks = kai(session.id).filter((a) => /^On it/.test(String(a.content.body)));
  expect(acks).toHaveLength(1);
  expect(finals(session.id)).toHaveLength(1);
  expect(runsOf(session.id)).toHaveLength(1);
});

test('a static token Linear stops accepting fails the turn at once, saying it cannot be renewed', async () => {
  const { linear } = c.world;
  const issue = newIssue('Token gone');
  const mark = linear.requests().length;
  linear.setAccessToken('lin_oauth_rotated_elsewhere');
  try {
    const { session, delivery } = await linear.startSession({ issueId: issue.id });
    expect(delivery?.status).toBe(200);
    const status = await waitFor('the failed turn', async () => {
      const s = await c.sessions.status(issue.id);
      return s.turns === 1 && s.phase === 'idle' && s.lastError ? s : undefined;
    });
    expect(status.lastError).toMatch(/static access token.*cannot be renewed/);
    expect(activities(session.id)).toEqual([]);
    unanswerable.add(session.id);
    // Refused, not retried: no request went out twice with the token Linear had refused.
    const refused = linear.requests().slice(mark).filter((r) => r.outcome === 'unauthorized');
    expect(refused.length).toBeGreaterThan(0);
    const asked = refused.map((r) => JSON.stringify([r.rootFields, r.variables]));
    expect(new Set(asked).size).toBe(asked.length);
  } finally {
    linear.setAccessToken(c.config.transports.linear.oauth_token);
  }
});

test('every session gets its links, once', () => {
  const sessions = [...store().sessions.values()].filter((s) => s.issueId && !unanswerable.has(s.id));
  expect(sessions.length).toBeGreaterThanOrEqual(15);
  for (const s of sessions) {
    const links = s.externalUrls.filter((u) => u.label === 'Temporal run');
    expect(links).toEqual([{ label: 'Temporal run', url: expect.stringMatching(new RegExp(`^${WEB_UI}/namespaces/.+/workflows/`)) }]);
  }
});

test('over the whole file: one final activity per message, no more turns than messages, no refused ids, every echo ignored', () => {
  for (const s of store().sessions.values()) {
    if (unanswerable.has(s.id)) continue;
    const all = activities(s.id);
    const messages = 1 + all.filter((a) => a.userId !== app() && a.content.type === 'prompt' && a.signal !== 'stop').length;
    // A question (elicitation) ends its turn as a response or an error does.
    const ends = kai(s.id).filter((a) => ['response', 'error', 'elicitation'].includes(a.content.type)).length;
    expect({ session: s.id, ends }).toEqual({ session: s.id, ends: messages });
    expect(runsOf(s.id).length).toBeLessThanOrEqual(messages);
  }
  const refused = c.world.linear.requests().filter((r) => (r.errors ?? []).some((e) => /Argument Validation Error/.test(e)));
  expect(refused).toEqual([]);
  expect(c.deliveries.filter((d) => d.status !== 200)).toEqual([]);
  expect(c.deliveries.filter((d) => d.fromApp).every((d) => d.outcome === 'ignored')).toBe(true);
  expect(new Set(c.deliveries.map((d) => d.replica))).toEqual(new Set(['configured', 'viewer']));
});
