// Linear's rules for an agent, on the workflow side (issue 12): Stop as Linear defines it, long
// answers as one response, sessions never stale, links per session. Real Temporal dev server,
// recording activities.
import { ApplicationFailure } from '@temporalio/common';
import { waitFor, waitForSettled } from '../harness/temporal';
import { messageParts } from '../../src/domain/message-parts';
import { statusQuery } from '../../src/workflows/signals';
import { parseLinearPayload } from '../../src/ingress/payloads';
import { routeLinearEvent } from '../../src/ingress/route';
import { issueWorkflowId } from '../../src/names';
import { delegationCreated } from '../fixtures/webhooks/linear-payloads';
import { rig, testEnv, useTestEnv } from './session-rig';

useTestEnv();

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('from Stop on, the only Linear call is the one final response, posted after the engine acknowledged its cancellation', async () => {
  // a long heartbeat timeout: the stop answer must not depend on it
  const r = await rig({ engineHeartbeatTimeoutMs: 5 * 60 * 1000 });
  try {
    r.fakes.hold();
    await r.event('session-a', 'Long task', { threadId: 'root-a' }, 'created');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    const before = r.fakes.calls.length;
    const stoppedAt = Date.now();
    await r.stop('session-a');
    // well within the heartbeat timeout, even on a loaded machine
    await waitFor('the stopped response', () => r.fakes.finals().length >= 1);
    const answeredIn = Date.now() - stoppedAt;
    await waitForSettled(() => r.handle.query(statusQuery));
    const after = r.fakes.calls.slice(before);
    // the engine is cancelled first (its process group ended), then the one final activity;
    // the worktree description is local git, not a Linear call
    expect(after.map((c) => c.name)).toEqual(['engineRun:cancelled', 'gitDescribe', 'linearPostFinal']);
    expect(r.fakes.finals()[0]).toMatchObject({ agentSessionId: 'session-a', kind: 'response' });
    console.log(`Stop to final response: ${answeredIn} ms (engine heartbeat timeout 5 min)`);
  } finally {
    r.fakes.release();
    await r.finish();
  }
});

test('an issue-level stop while idle posts nothing', async () => {
  const r = await rig();
  try {
    await r.event('session-a', 'Quick task', { threadId: 'root-a' }, 'created');
    await waitFor('the answer', () => r.fakes.finals().length === 1);
    const before = r.fakes.calls.length;
    await r.stop('');
    await r.barrier();
    expect(r.fakes.calls.slice(before).filter((c) => !String(c.input?.agentSessionId).startsWith('session-barrier'))).toEqual([]);
  } finally {
    await r.finish();
  }
});

test('a long answer is one response, with the part that does not fit before it as thoughts with UUID v4 ids from the workflow', async () => {
  const r = await rig();
  const paragraph = 'x'.repeat(900);
  const long = Array.from({ length: 30 }, (_, i) => `${i}: ${paragraph}`).join('\n\n');
  r.fakes.engineResult = () => ({ ok: true, answer: long });
  try {
    await r.event('session-a', 'Explain everything', { threadId: 'root-a' }, 'created');
    await waitFor('the answer', () => r.fakes.finals().length === 1);
    const [call] = r.fakes.named('linearPostFinal');
    const input = call!.input as { activityId: string; partIds?: string[]; body: string; kind: string };
    expect(input.kind).toBe('response');
    expect(input.partIds).toHaveLength(messageParts(input.body).length - 1);
    expect(input.partIds!.length).toBeGreaterThanOrEqual(2);
    for (const id of [input.activityId, ...input.partIds!]) expect(id).toMatch(UUID_V4);
    expect(new Set([input.activityId, ...input.partIds!]).size).toBe(input.partIds!.length + 1);
  } finally {
    await r.finish();
  }
});

test('a mention on an issue kai was not given is answered and leaves the issue alone; a delegated issue is moved and labelled', async () => {
  const r = await rig();
  try {
    r.fakes.issue = { ...r.fakes.issue, id: r.issueId, delegateId: 'someone-else', kaiIsDelegate: false, kaiIsAssignee: false };
    await r.event('session-a', '@kai what does X do?', { commentId: 'c-q', threadId: 'c-q' }, 'created');
    await waitFor('the answer', () => r.fakes.finals().length === 1);
    expect(r.fakes.finals()[0]).toMatchObject({ agentSessionId: 'session-a', kind: 'response' });
    expect(r.fakes.named('linearTransitionIssue')).toHaveLength(0);
    expect(r.fakes.named('linearRecordOutcome')).toHaveLength(0);
    // then the issue is delegated to kai: the next turn moves it and records the outcome
    r.fakes.issue = { ...r.fakes.issue, delegateId: 'kai', kaiIsDelegate: true };
    await r.event('session-a', 'Now please do it', { commentId: 'c-do', threadId: 'c-q' });
    await waitFor('the second answer', () => r.fakes.finals().length === 2);
    expect(r.fakes.named('linearTransitionIssue').map((c) => c.input.to)).toEqual(['started', 'success']);
    expect(r.fakes.named('linearRecordOutcome').map((c) => c.input.outcome)).toEqual(['processed', 'completed']);
  } finally {
    await r.finish();
  }
});

test('a session kai holds gets a still-working thought every keep-alive period, running or queued, and none after Stop', async () => {
  const r = await rig({ keepAliveMs: 700 });
  try {
    r.fakes.hold();
    await r.event('session-a', 'Long task', { threadId: 'root-a' }, 'created');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    await r.event('session-b', 'Behind it', { threadId: 'root-b' }, 'created');
    const notes = (id: string) => r.fakes.named('linearAcknowledge').filter((c) => c.input.agentSessionId === id && /^Still/.test(c.input.body));
    await waitFor('two still-working notes for the running session and one for the queued one', () => notes('session-a').length >= 2 && notes('session-b').length >= 1);
    expect(notes('session-a')[0]!.input.body).toMatch(/Still working/);
    expect(notes('session-b')[0]!.input.body).toMatch(/Still queued/);
    await r.stop('session-a');
    // the stopped session's answer and the dropped queued message's answer can land within one
    // poll: wait for the stopped session's own final
    const stopAnswer = await waitFor('the stopped response', () => r.fakes.named('linearPostFinal').find((c) => c.input.agentSessionId === 'session-a'));
    expect(r.fakes.named('linearPostFinal').filter((c) => c.input.agentSessionId === 'session-a')).toHaveLength(1);
    await r.barrier();
    // nothing reached the stopped session after its final answer
    expect(r.fakes.calls.filter((c) => c.at > stopAnswer.at && c.input?.agentSessionId === 'session-a')).toEqual([]);
  } finally {
    r.fakes.release();
    await r.finish();
  }
});

test('every agent session on the issue gets its Temporal link once, and none without a configured Web UI', async () => {
  const linked = await rig({ webUiBaseUrl: 'http://temporal.example:8233' });
  try {
    await linked.event('session-a', 'One', { threadId: 'root-a' }, 'created');
    await waitFor('the first answer', () => linked.fakes.finals().length === 1);
    await linked.event('session-b', 'Two', { threadId: 'root-b' }, 'created');
    await waitFor('the second answer', () => linked.fakes.finals().length === 2);
    await linked.event('session-a', 'Three', { commentId: 'c-3', threadId: 'root-a' });
    await waitFor('the third answer', () => linked.fakes.finals().length === 3);
    const links = linked.fakes.named('linearAcknowledge').map((c) => [c.input.agentSessionId, c.input.externalUrls?.map((u: { url: string }) => u.url)]);
    expect(links).toEqual([
      ['session-a', [expect.stringMatching(/^http:\/\/temporal\.example:8233\/namespaces\/.+\/workflows\//)]],
      ['session-b', [expect.stringMatching(/^http:\/\/temporal\.example:8233\//)]],
      ['session-a', undefined],
    ]);
  } finally {
    await linked.finish();
  }
  const bare = await rig();
  try {
    await bare.event('session-a', 'One', { threadId: 'root-a' }, 'created');
    await waitFor('the answer', () => bare.fakes.finals().length === 1);
    expect(bare.fakes.named('linearAcknowledge').every((c) => c.input.externalUrls === undefined)).toBe(true);
  } finally {
    await bare.finish();
  }
});

test('a session with no issue gets one short response saying what kai can do, from a workflow keyed by its agent session', async () => {
  const r = await rig();
  try {
    const body = delegationCreated() as { agentSession: Record<string, unknown> };
    body.agentSession.issue = null;
    body.agentSession.issueId = null;
    const parsed = parseLinearPayload(JSON.parse(JSON.stringify(body)));
    if (!parsed.ok) throw new Error(parsed.error);
    const decision = routeLinearEvent(parsed.event, { receivedAt: new Date().toISOString(), commentFollowupsEnabled: false });
    if (decision.kind !== 'signal') throw new Error(`expected a signal, got ${decision.kind}`);
    const agentSessionId = String(body.agentSession.id);
    await r.sessions.send(decision.signal);
    await r.sessions.send(decision.signal); // a redelivery
    await waitFor('the answer', () => r.fakes.finals().length >= 1);
    expect(r.fakes.finals()[0]).toMatchObject({ agentSessionId, kind: 'response' });
    expect(r.fakes.finals()[0]!.body).toMatch(/delegate an issue to kai/);
    const noIssue = testEnv().client.workflow.getHandle(issueWorkflowId(decision.signal.issueId));
    const status = await waitForSettled(() => noIssue.query(statusQuery));
    expect(status.turns).toBe(1);
    // The Web UI's list names the agent session, not a made-up issue.
    expect(await (await noIssue.describe()).staticSummary()).toBe(`Linear agent session ${agentSessionId} (no issue)`);
    expect(r.fakes.finals()).toHaveLength(1);
    expect(r.fakes.named('linearLoadIssue')).toHaveLength(0);
    expect(r.fakes.names().filter((n) => n !== 'linearPostFinal')).toEqual([]);
  } finally {
    await r.finish();
  }
});

test('with no repository known for the issue kai asks which one, and the answer picks it and runs the request that asked', async () => {
  const r = await rig();
  try {
    r.fakes.failNext(
      'gitPrepareWorktree',
      ApplicationFailure.create({ message: 'No repository is configured for ENG-1', type: 'NotConfigured', nonRetryable: true, details: [{ projects: ['app', 'web'] }] }),
    );
    await r.event('session-a', 'Add a greeting', { threadId: 'root-a' }, 'created');
    await waitFor('the question', () => r.fakes.named('linearElicit').length === 1);
    const ask = r.fakes.named('linearElicit')[0]!.input;
    expect(ask).toMatchObject({ agentSessionId: 'session-a', options: ['app', 'web'] });
    expect(ask.activityId).toMatch(UUID_V4);
    await waitFor('the session to wait for the answer', async () => (await r.handle.query(statusQuery)).phase === 'idle');
    expect(r.fakes.finals()).toEqual([]); // asking is not an error
    expect(r.fakes.named('engineRun')).toHaveLength(0);
    // the user picks "web" (Linear sends it as a prompted event)
    await r.event('session-a', 'Web', { commentId: 'c-answer', threadId: 'root-a' });
    await waitFor('the answer', () => r.fakes.finals().length === 1);
    expect(r.fakes.named('gitPrepareWorktree').map((c) => c.input.project)).toEqual([undefined, 'web']);
    expect(r.fakes.named('engineRun').map((c) => c.input.prompt)).toEqual(['Add a greeting']);
    expect(r.fakes.named('engineResolve').map((c) => c.input.issue.repository)).toEqual(['web']); // engine choice follows the pick
    expect(r.fakes.finals()[0]).toMatchObject({ kind: 'response' });
    // the pick is kept on the issue in Linear, for later workflows on any worker
    expect(r.fakes.named('linearRecordRepository').map((c) => c.input)).toEqual([{ issueId: r.issueId, issueUrl: r.fakes.issue.url, project: 'web' }]);
  } finally {
    await r.finish();
  }
});

test('a repository recorded on the issue by an earlier workflow is used without asking, and not recorded again', async () => {
  const r = await rig();
  try {
    r.fakes.issue = { ...r.fakes.issue, repository: 'web' };
    await r.event('session-a', 'Add a greeting', { threadId: 'root-a' }, 'created');
    await waitFor('the answer', () => r.fakes.finals().length === 1);
    expect(r.fakes.named('gitPrepareWorktree').map((c) => c.input.project)).toEqual(['web']);
    expect(r.fakes.named('linearElicit')).toHaveLength(0);
    expect(r.fakes.named('linearRecordRepository')).toHaveLength(0);
  } finally {
    await r.finish();
  }
});

test('a repository failure that offers no projects is an error, not a question', async () => {
  const r = await rig();
  try {
    r.fakes.failNext('gitPrepareWorktree', ApplicationFailure.create({ message: '/repo is not a git repository.', type: 'NotConfigured', nonRetryable: true }));
    await r.event('session-a', 'Add a greeting', { threadId: 'root-a' }, 'created');
    await waitFor('the error', () => r.fakes.finals().length === 1);
    expect(r.fakes.finals()[0]).toMatchObject({ kind: 'error' });
    expect(r.fakes.named('linearElicit')).toHaveLength(0);
  } finally {
    await r.finish();
  }
});
