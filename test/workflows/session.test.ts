// The issue session workflow on a real Temporal dev server, with activities that record calls.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { issueWorkflowId } from '../../src/names';
import { statusQuery } from '../../src/workflows/signals';
import type { SessionInput } from '../../src/workflows/session';
import type { IssueRef } from '../../src/domain/issue';
import { defaultPayloadConverter } from '@temporalio/common';
import { FakeActivities, permanentError } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';
import type { KaiWorkers } from '../../src/worker';
import type { SessionClient } from '../../src/client';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

interface Rig {
  fakes: FakeActivities;
  workers: KaiWorkers;
  running: Promise<void>;
  sessions: SessionClient;
  issueId: string;
  handle: WorkflowHandle;
  prompt(body: string, extra?: Partial<{ deliveryId: string; agentSessionId: string; source: 'created' | 'prompted' | 'comment'; issue: IssueRef }>): Promise<string>;
  stop(agentSessionId?: string, deliveryId?: string): Promise<void>;
  reset(agentSessionId?: string): Promise<void>;
  finish(): Promise<void>;
}

async function rig(options?: SessionInput['options']): Promise<Rig> {
  const taskQueue = uniqueTaskQueue('session');
  const fakes = new FakeActivities();
  const workers = await startTestWorkers(env, taskQueue, fakes.activities());
  const running = workers.run();
  const sessions = sessionClient(env, taskQueue, { webUiBaseUrl: 'http://localhost:8233', ...options });
  const issueId = randomUUID();
  fakes.issue = { ...fakes.issue, id: issueId };
  const handle = env.client.workflow.getHandle(issueWorkflowId(issueId));
  return {
    fakes,
    workers,
    running,
    sessions,
    issueId,
    handle,
    async prompt(body, extra = {}) {
      const deliveryId = extra.deliveryId ?? randomUUID();
      await sessions.send({
        type: 'prompt',
        issueId,
        payload: {
          deliveryId,
          agentSessionId: extra.agentSessionId ?? 'session-a',
          body,
          author: 'Ada',
          receivedAt: new Date().toISOString(),
          source: extra.source ?? 'created',
          issue: extra.issue,
        },
      });
      return deliveryId;
    },
    async stop(agentSessionId = 'session-a', deliveryId = randomUUID()) {
      await sessions.send({ type: 'stop', issueId, payload: { deliveryId, agentSessionId } });
    },
    async reset(agentSessionId = 'session-a') {
      await sessions.send({ type: 'reset', issueId, payload: { deliveryId: randomUUID(), agentSessionId } });
    },
    async finish() {
      await handle.terminate('test over').catch(() => undefined);
      workers.shutdown();
      await running;
    },
  };
}

const finalsOf = (fakes: FakeActivities) => fakes.finals();

test('a happy-path turn runs acknowledge, plan, worktree, engine, PR, transition and response in order', async () => {
  const r = await rig();
  try {
    await r.prompt('Add a greeting');
    await waitFor('the final response', () => finalsOf(r.fakes).length === 1);
    const order = r.fakes.names();
    const firstIndex = (n: string) => order.indexOf(n);
    expect(order[0]).toBe('linearAcknowledge');
    const steps = [
      'linearAcknowledge',
      'linearUpdateSession',
      'linearLoadIssue',
      'linearTransitionIssue',
      'gitPrepareWorktree',
      'engineResolve',
      'engineRun',
      'gitCommitAndPush',
      'githubOpenPullRequest',
      'linearLinkPullRequest',
      'linearPostFinal',
    ];
    const positions = steps.map(firstIndex);
    if (!positions.every((p) => p >= 0)) console.log(order, finalsOf(r.fakes));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const transitions = r.fakes.named('linearTransitionIssue').map((c) => c.input.to);
    expect(transitions).toEqual(['started', 'success']);
    const [final] = finalsOf(r.fakes);
    expect(final).toMatchObject({ agentSessionId: 'session-a', kind: 'response' });
    expect(final!.body).toContain('Did: Add a greeting');
    expect(final!.body).toContain('https://github.com/acme/app/pull/1');
    const ack = r.fakes.named('linearAcknowledge')[0]!.input;
    expect(ack.externalUrls[0].url).toContain(`/workflows/${issueWorkflowId(r.issueId)}`);
    const status = await r.handle.query(statusQuery);
    expect(status).toMatchObject({ phase: 'idle', turns: 1, prUrl: 'https://github.com/acme/app/pull/1', queuedPrompts: 0 });
    expect(status.resumeTokens).toEqual({ script: true });
    // publishing is two activities now: git, then GitHub
    expect(r.fakes.named('gitPublish')).toHaveLength(0);
    expect(r.fakes.named('githubOpenPullRequest')[0]!.input.commitSha).toBe('abc123');
  } finally {
    await r.finish();
  }
});

test('each step of the lifecycle plan is shown in progress as it runs, in order, and all done at the end', async () => {
  const r = await rig();
  try {
    await r.prompt('Add a greeting');
    await waitFor('the final response', () => finalsOf(r.fakes).length === 1);
    const inProgress = r.fakes
      .named('linearUpdateSession')
      .map((c) => (c.input.plan as Array<{ content: string; status: string }>).find((p) => p.status === 'inProgress')?.content);
    expect(inProgress).toEqual(['Read the issue', 'Prepare the workspace', 'Do the work', 'Open the pull request', 'Report back']);
    // each plan update comes right before the step it announces
    const order = r.fakes.names();
    const shown = (step: string) => r.fakes.calls.findIndex((c) => c.name === 'linearUpdateSession' && c.input.plan.some((p: { content: string; status: string }) => p.content === step && p.status === 'inProgress'));
    expect(shown('Read the issue')).toBeLessThan(order.indexOf('linearLoadIssue'));
    expect(shown('Do the work')).toBeLessThan(order.indexOf('engineRun'));
    expect(shown('Do the work')).toBeGreaterThan(order.indexOf('engineResolve'));
    expect(shown('Open the pull request')).toBeLessThan(order.indexOf('gitCommitAndPush'));
    expect(shown('Report back')).toBeLessThan(order.indexOf('linearPostFinal'));
    const final = r.fakes.named('linearPostFinal')[0]!.input;
    expect(final.plan.every((p: { status: string }) => p.status === 'completed')).toBe(true);
  } finally {
    await r.finish();
  }
});

test('an engine that publishes its own todo list keeps it: kai shows no lifecycle step over it after the run', async () => {
  const r = await rig();
  try {
    r.fakes.engineResult = (input, n) => ({ ok: true, answer: `Did: ${input.prompt}`, resumeToken: `token-${n}`, planPublished: true });
    await r.prompt('Add a greeting');
    await waitFor('the final response', () => finalsOf(r.fakes).length === 1);
    const engineAt = r.fakes.names().indexOf('engineRun');
    expect(r.fakes.calls.slice(engineAt).filter((c) => c.name === 'linearUpdateSession')).toHaveLength(0);
    expect(r.fakes.named('linearPostFinal')[0]!.input.plan).toBeUndefined();
  } finally {
    await r.finish();
  }
});

test('a follow-up during a run is queued, acknowledged at once, and runs next with the first run\'s resume token', async () => {
  const r = await rig();
  try {
    r.fakes.hold();
    await r.prompt('First task');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    await r.prompt('Also add tests', { source: 'prompted', agentSessionId: 'session-b' });
    await waitFor('the queued prompt to be acknowledged', () => r.fakes.named('linearAcknowledge').length === 2);
    const queuedAck = r.fakes.named('linearAcknowledge')[1]!.input;
    expect(queuedAck.agentSessionId).toBe('session-b');
    expect(queuedAck.body).toMatch(/queued/i);
    const status = await r.handle.query(statusQuery);
    expect(status.queuedPrompts).toBe(1);
    expect(status.phase).toBe('running');
    r.fakes.release();
    await waitFor('two final responses', () => finalsOf(r.fakes).length === 2);
    const runs = r.fakes.named('engineRun').map((c) => c.input);
    expect(runs[0].resumeToken).toBeUndefined();
    expect(runs[1].resumeToken).toBe('token-1');
    expect(runs[1].prompt).toBe('Also add tests');
    expect(finalsOf(r.fakes).map((f) => f.agentSessionId)).toEqual(['session-a', 'session-b']);
  } finally {
    await r.finish();
  }
});

test('stop mid-engine cancels the engine within seconds, drops the queue and posts one stopped response', async () => {
  const r = await rig();
  try {
    r.fakes.hold();
    await r.prompt('Long task');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    await r.prompt('Queued follow-up', { source: 'prompted' });
    await waitFor('the follow-up ack', () => r.fakes.named('linearAcknowledge').length === 2);
    const stoppedAt = Date.now();
    await r.stop();
    await waitFor('the engine to be cancelled', () => r.fakes.named('engineRun:cancelled').length === 1, 10_000);
    await waitFor('the stopped response', () => finalsOf(r.fakes).length >= 1, 10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    // barrier: the turn is over and nothing is left to post
    await waitFor('the session to be idle with nothing to post', async () => {
      const s = await r.handle.query(statusQuery);
      return s.phase === 'idle' && s.pendingPosts === 0;
    });
    const finals = finalsOf(r.fakes);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.kind).toBe('response');
    expect(finals[0]!.body).toMatch(/Stopped/);
    expect(finals[0]!.body).toMatch(/2 uncommitted file/);
    expect(finals[0]!.body).toMatch(/1 queued message was dropped/);
    expect(r.fakes.named('gitCommitAndPush')).toHaveLength(0);
    expect(r.fakes.named('engineRun')).toHaveLength(1);
    const status = await r.handle.query(statusQuery);
    expect(status).toMatchObject({ phase: 'idle', queuedPrompts: 0 });
  } finally {
    r.fakes.release();
    await r.finish();
  }
});

test('stop while idle answers that nothing is running', async () => {
  const r = await rig();
  try {
    await r.prompt('Quick task');
    await waitFor('the first response', () => finalsOf(r.fakes).length === 1);
    await waitFor('the session to be idle', async () => (await r.handle.query(statusQuery)).phase === 'idle');
    await r.stop('session-a');
    await waitFor('the idle-stop answer', () => finalsOf(r.fakes).length === 2);
    expect(finalsOf(r.fakes)[1]!.body).toMatch(/Nothing is running/);
    expect(r.fakes.named('engineRun')).toHaveLength(1);
  } finally {
    await r.finish();
  }
});

test('reset forgets the resume tokens, says so, and the next prompt starts a fresh conversation', async () => {
  const r = await rig();
  try {
    await r.prompt('Task one');
    await waitFor('the first response', () => finalsOf(r.fakes).length === 1);
    await r.reset();
    await waitFor('the reset answer', () => finalsOf(r.fakes).length === 2);
    expect(finalsOf(r.fakes)[1]!.body).toMatch(/Starting fresh/);
    expect((await r.handle.query(statusQuery)).resumeTokens).toEqual({});
    await r.prompt('Task two', { source: 'prompted' });
    await waitFor('the second response', () => finalsOf(r.fakes).length === 3);
    expect(r.fakes.named('engineRun')[1]!.input.resumeToken).toBeUndefined();
  } finally {
    await r.finish();
  }
});

test('a duplicate delivery id is ignored', async () => {
  const r = await rig();
  try {
    const deliveryId = await r.prompt('Do it once');
    await Promise.all([r.prompt('Do it once', { deliveryId }), r.prompt('Do it once', { deliveryId })]);
    await waitFor('the response', () => finalsOf(r.fakes).length === 1);
    await r.prompt('Do it once', { deliveryId });
    // barrier: signals are handled in order, so once a later stop is answered the redelivery was handled
    await r.stop('session-barrier');
    await waitFor('the barrier answer', () => finalsOf(r.fakes).some((f) => f.agentSessionId === 'session-barrier'));
    expect(r.fakes.named('engineRun')).toHaveLength(1);
    expect(r.fakes.named('linearAcknowledge')).toHaveLength(1);
    expect(finalsOf(r.fakes).filter((f) => f.agentSessionId === 'session-a')).toHaveLength(1);
  } finally {
    await r.finish();
  }
});

test('a failed turn posts one error activity and a later prompt still works', async () => {
  const r = await rig();
  try {
    r.fakes.failNext('gitPrepareWorktree', permanentError('repository not found: acme/app', 'InvalidInput'));
    await r.prompt('Break please');
    await waitFor('the error activity', () => finalsOf(r.fakes).length === 1);
    const [error] = finalsOf(r.fakes);
    expect(error!.kind).toBe('error');
    expect(error!.body).toContain('prepare the worktree failed: repository not found: acme/app');
    expect((await r.handle.query(statusQuery)).lastError).toContain('repository not found');
    await r.prompt('Try again', { source: 'prompted' });
    await waitFor('the second final', () => finalsOf(r.fakes).length === 2);
    expect(finalsOf(r.fakes)[1]!.kind).toBe('response');
    expect(r.fakes.named('engineRun')).toHaveLength(1);
    // The fake records the post when it runs; the turn ends once the workflow has its result.
    await waitFor('the second turn to end', async () => {
      const s = await r.handle.query(statusQuery);
      return s.turns === 2 && s.phase === 'idle' && s.queuedPrompts === 0;
    });
    expect((await r.handle.query(statusQuery)).lastError).toBeUndefined();
  } finally {
    await r.finish();
  }
});

test('an engine that reports failure ends the turn with one error activity naming the reason', async () => {
  const r = await rig();
  try {
    r.fakes.engineResult = () => ({ ok: false, answer: '', error: 'claude exited with code 1: out of credits', resumeToken: 't-9' });
    await r.prompt('Do it');
    await waitFor('the error', () => finalsOf(r.fakes).length === 1);
    expect(finalsOf(r.fakes)[0]).toMatchObject({ kind: 'error' });
    expect(finalsOf(r.fakes)[0]!.body).toContain('out of credits');
    expect(r.fakes.named('gitCommitAndPush')).toHaveLength(0);
    expect(r.fakes.named('linearRecordOutcome').map((c) => c.input.outcome)).toEqual(['processed', 'failed']);
    expect((await r.handle.query(statusQuery)).resumeTokens).toEqual({ script: true });
  } finally {
    await r.finish();
  }
});

test('an idle session completes after the idle period, removing its worktree and its engine homes', async () => {
  const r = await rig({ idleTimeoutMs: 1500, cleanupWorktreeOnEnd: true });
  try {
    await r.prompt('Small task');
    const result = await r.handle.result();
    expect(result).toMatchObject({ issueId: r.issueId, turns: 1, prUrl: 'https://github.com/acme/app/pull/1' });
    expect(r.fakes.named('gitCleanup')).toHaveLength(1);
    expect(r.fakes.named('engineRemoveHomes').map((c) => c.input)).toEqual([{ issueId: r.issueId }]);
  } finally {
    await r.finish();
  }
});

test('/help replies with the commands without running the engine', async () => {
  const r = await rig();
  try {
    await r.prompt('/help', { source: 'prompted' });
    await waitFor('the help reply', () => finalsOf(r.fakes).length === 1);
    expect(finalsOf(r.fakes)[0]!.body).toContain('/file put');
    expect(r.fakes.named('engineRun')).toHaveLength(0);
  } finally {
    await r.finish();
  }
});

test('continue-as-new keeps the queue, the resume tokens and the seen delivery ids', async () => {
  const r = await rig();
  try {
    r.fakes.hold();
    const first = await r.prompt('Turn 1');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    for (let i = 2; i <= 7; i++) await r.prompt(`Turn ${i}`, { source: 'prompted', agentSessionId: `session-${i}` });
    await waitFor('all acks', () => r.fakes.named('linearAcknowledge').length === 7);
    r.fakes.release();
    await waitFor('seven answers', () => finalsOf(r.fakes).length === 7, 60_000);
    const status = await r.handle.query(statusQuery);
    expect(status.generation).toBeGreaterThanOrEqual(1); // the server suggested continue-as-new at least once
    expect(status.turns).toBe(7);
    expect(status.resumeTokens).toEqual({ script: true });
    // every queued prompt ran once, in order, each continuing the previous conversation
    const runs = r.fakes.named('engineRun').map((c) => c.input);
    expect(runs.map((x) => x.prompt)).toEqual(['Turn 1', 'Turn 2', 'Turn 3', 'Turn 4', 'Turn 5', 'Turn 6', 'Turn 7']);
    expect(runs.slice(1).map((x) => x.resumeToken)).toEqual(['token-1', 'token-2', 'token-3', 'token-4', 'token-5', 'token-6']);
    expect(finalsOf(r.fakes).map((f) => f.agentSessionId)).toEqual(['session-a', 'session-2', 'session-3', 'session-4', 'session-5', 'session-6', 'session-7']);
    // a redelivery of the very first event after continue-as-new is still recognised
    await r.prompt('Turn 1', { deliveryId: first });
    await r.stop('session-barrier');
    await waitFor('the barrier answer', () => finalsOf(r.fakes).some((f) => f.agentSessionId === 'session-barrier'));
    expect(r.fakes.named('engineRun')).toHaveLength(7);
    expect(r.fakes.named('linearAcknowledge')).toHaveLength(7);
  } finally {
    await r.finish();
  }
});

test('a comment follow-up without an agent session is answered in the session last used', async () => {
  const r = await rig();
  try {
    await r.prompt('First', { agentSessionId: 'session-a' });
    await waitFor('the first response', () => finalsOf(r.fakes).length === 1);
    await r.prompt('A comment on the issue', { agentSessionId: '', source: 'comment' });
    await waitFor('the second response', () => finalsOf(r.fakes).length === 2);
    expect(finalsOf(r.fakes).map((f) => f.agentSessionId)).toEqual(['session-a', 'session-a']);
    // an issue-level stop while idle posts nothing
    await r.stop('');
    await r.stop('session-barrier');
    await waitFor('the barrier answer', () => finalsOf(r.fakes).some((f) => f.agentSessionId === 'session-barrier'));
    expect(finalsOf(r.fakes).filter((f) => f.agentSessionId !== 'session-barrier')).toHaveLength(2);
  } finally {
    await r.finish();
  }
});

test('/help during a run is answered at once, not queued behind the engine', async () => {
  const r = await rig();
  try {
    r.fakes.hold();
    await r.prompt('Long task');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    await r.prompt('/help', { source: 'prompted', agentSessionId: 'session-b' });
    await waitFor('the help reply', () => finalsOf(r.fakes).length === 1);
    expect(finalsOf(r.fakes)[0]).toMatchObject({ agentSessionId: 'session-b', kind: 'response' });
    expect(finalsOf(r.fakes)[0]!.body).toContain('/file get');
    expect((await r.handle.query(statusQuery)).queuedPrompts).toBe(0);
    r.fakes.release();
    await waitFor('the run to finish', () => finalsOf(r.fakes).length === 2);
    expect(r.fakes.named('engineRun')).toHaveLength(1);
  } finally {
    r.fakes.release();
    await r.finish();
  }
});

test('a prompt sent while the final worktree cleanup is held open still runs, and the session ends only after it', async () => {
  const r = await rig({ idleTimeoutMs: 1500, cleanupWorktreeOnEnd: true });
  try {
    r.fakes.holdActivity('gitCleanup');
    await r.prompt('First task');
    await waitFor('the first response', () => finalsOf(r.fakes).length === 1);
    await waitFor('the idle cleanup to start', () => r.fakes.named('gitCleanup').length === 1);
    await r.prompt('One more thing', { source: 'prompted', agentSessionId: 'session-late' });
    r.fakes.releaseActivity('gitCleanup');
    const result = await r.handle.result();
    expect(result).toMatchObject({ issueId: r.issueId, turns: 2 });
    expect(r.fakes.named('engineRun').map((c) => c.input.prompt)).toEqual(['First task', 'One more thing']);
    const late = r.fakes.named('linearAcknowledge').find((c) => c.input.agentSessionId === 'session-late');
    expect(late).toBeDefined();
    expect(finalsOf(r.fakes).map((f) => f.agentSessionId)).toEqual(['session-a', 'session-late']);
    // the worktree was removed after the first idle period, prepared again for the late prompt, removed again
    expect(r.fakes.named('gitPrepareWorktree')).toHaveLength(2);
    expect(r.fakes.named('gitCleanup')).toHaveLength(2);
  } finally {
    await r.finish();
  }
});

test('/help sent while the final cleanup is held open is answered before the session ends', async () => {
  const r = await rig({ idleTimeoutMs: 1500, cleanupWorktreeOnEnd: true });
  try {
    r.fakes.holdActivity('gitCleanup');
    await r.prompt('First task');
    await waitFor('the idle cleanup to start', () => r.fakes.named('gitCleanup').length === 1);
    await r.prompt('/help', { source: 'prompted', agentSessionId: 'session-help' });
    r.fakes.releaseActivity('gitCleanup');
    const result = await r.handle.result();
    expect(result.turns).toBe(1);
    const help = finalsOf(r.fakes).filter((f) => f.agentSessionId === 'session-help');
    expect(help).toHaveLength(1);
    expect(help[0]!.body).toContain('/file put');
  } finally {
    await r.finish();
  }
});

test('a stop during the push lets publishing finish and be reported, and the stop answer says so', async () => {
  const r = await rig();
  try {
    r.fakes.holdActivity('gitCommitAndPush');
    await r.prompt('Ship it');
    await waitFor('the push to start', () => r.fakes.named('gitCommitAndPush').length === 1);
    await r.prompt('Queued follow-up', { source: 'prompted', agentSessionId: 'session-b' });
    await waitFor('the follow-up ack', () => r.fakes.named('linearAcknowledge').length === 2);
    await r.stop('session-a');
    // barrier: the stop was handled (the running turn knows of it) before the push is let go
    await waitFor('the stop to reach the turn', async () => (await r.handle.query(statusQuery)).stopRequested);
    r.fakes.releaseActivity('gitCommitAndPush');
    await waitFor('the response and the stop answer', () => finalsOf(r.fakes).length === 2);
    await waitFor('the session to be idle with nothing to post', async () => {
      const s = await r.handle.query(statusQuery);
      return s.phase === 'idle' && s.pendingPosts === 0;
    });
    const [response, stopAnswer] = finalsOf(r.fakes);
    expect(response).toMatchObject({ agentSessionId: 'session-a', kind: 'response' });
    expect(response!.body).toContain('https://github.com/acme/app/pull/1');
    expect(r.fakes.named('githubOpenPullRequest')).toHaveLength(1);
    expect(r.fakes.named('linearLinkPullRequest')).toHaveLength(1);
    expect(stopAnswer!.agentSessionId).toBe('session-a');
    expect(stopAnswer!.body).toMatch(/after the engine had finished/);
    expect(stopAnswer!.body).toMatch(/publishing was completed/);
    expect(stopAnswer!.body).toContain('https://github.com/acme/app/pull/1');
    expect(stopAnswer!.body).toMatch(/1 queued message was dropped/);
    // the stop still drops the queue: the follow-up never runs
    expect(r.fakes.named('engineRun')).toHaveLength(1);
    expect(r.fakes.named('engineRun:cancelled')).toHaveLength(0);
  } finally {
    r.fakes.releaseActivity('gitCommitAndPush');
    await r.finish();
  }
});

test('the Web UI shows the session as ENG-1: title, and a summary on each activity and timer', async () => {
  const r = await rig();
  try {
    await r.prompt('Add a greeting', { issue: { id: r.issueId, identifier: 'ENG-1', title: 'Add a greeting', teamKey: 'ENG' } });
    await waitFor('the final response', () => finalsOf(r.fakes).length === 1);
    await waitFor('the session to be idle', async () => (await r.handle.query(statusQuery)).phase === 'idle');
    const description = await r.handle.describe();
    expect(await description.staticSummary()).toBe('ENG-1: Add a greeting');
    expect(await description.staticDetails()).toMatch(/team: ENG/);
    const history = await r.handle.fetchHistory();
    const summaries = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes || e.timerStartedEventAttributes)
      .map((e) => (e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : undefined));
    expect(summaries.every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
    expect(summaries).toEqual(
      expect.arrayContaining(['run script (turn 1)', 'open PR', 'post response', 'commit and push kai/ENG-1', 'idle: wait for the next message']),
    );
  } finally {
    await r.finish();
  }
});
