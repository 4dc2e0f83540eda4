// A whole session driven through the Linear activities in the order the workflow calls them,
// against the emulator over real HTTP with the real SDK.
import { randomUUID } from 'node:crypto';
import { createLinearActivities, createLinearProgress } from '../../../src/activities/linear';
import type { EngineEvent } from '../../../src/activities/engine/events';
import { lifecyclePlan } from '../../../src/workflows/plan';
import { requestLog, sleep, startRig, type Rig } from './helpers';

let rig: Rig;
afterEach(async () => {
  await rig?.emulator.stop();
});

/** 200 events as a busy engine run emits them: tool calls with thoughts and todo-list updates. */
function engineStream(): EngineEvent[] {
  const events: EngineEvent[] = [{ type: 'started' }];
  const todo = ['Read the code', 'Write the greeting', 'Run the tests'];
  for (let i = 0; events.length < 199; i++) {
    if (i % 20 === 0) {
      events.push({
        type: 'plan',
        items: todo.map((content, k) => ({ content, status: k < i / 70 ? 'completed' : k === Math.floor(i / 70) ? 'inProgress' : 'pending' })),
      });
    }
    if (i % 7 === 0) events.push({ type: 'thought', text: `Thinking about step ${i}` });
    const id = `call-${i}`;
    events.push({ type: 'action', id, kind: 'command', title: `npm test -- part ${i}`, phase: 'started' });
    events.push({ type: 'action', id, kind: 'command', title: `npm test -- part ${i}`, phase: 'completed', ok: true });
  }
  events.length = 199;
  events.push({ type: 'completed', ok: true, answer: 'Added the greeting.' });
  return events;
}

async function runSession(rig: Rig, emitEvents: (sink: { emit(e: EngineEvent): void }) => Promise<void>) {
  const acts = createLinearActivities({ linear: rig.linear });
  const progress = createLinearProgress({ linear: rig.linear });
  const { sessionId, issueId } = rig;
  await acts.linearAcknowledge({
    agentSessionId: sessionId,
    activityId: randomUUID(),
    body: 'On it.',
    externalUrls: [{ label: 'Temporal run', url: 'http://localhost:8233/namespaces/default/workflows/kai-issue-1' }],
  });
  const issue = await acts.linearLoadIssue({ issueId });
  await acts.linearUpdateSession({ agentSessionId: sessionId, plan: lifecyclePlan('Prepare the workspace') });
  await acts.linearTransitionIssue({ issueId, to: 'started' });
  await acts.linearRecordOutcome({ issue, outcome: 'processed' });
  const sink = progress({ agentSessionId: sessionId, issueId });
  await emitEvents(sink);
  await sink.close();
  await acts.linearLinkPullRequest({ issueId, agentSessionId: sessionId, url: 'https://github.com/acme/app/pull/7', title: 'Add a greeting' });
  await acts.linearTransitionIssue({ issueId, to: 'success' });
  await acts.linearRecordOutcome({ issue, outcome: 'completed' });
  await acts.linearPostFinal({
    agentSessionId: sessionId,
    activityId: randomUUID(),
    kind: 'response',
    body: 'Added the greeting.\n\nPR: https://github.com/acme/app/pull/7',
    plan: lifecyclePlan(undefined),
    addedExternalUrls: [{ label: 'Pull request', url: 'https://github.com/acme/app/pull/7' }],
  });
}

test('a full session posts acknowledgement, progress, plan, PR link, state moves and the final response in order', async () => {
  rig = await startRig();
  await runSession(rig, async (sink) => {
    sink.emit({ type: 'thought', text: 'Looking at the README' });
    sink.emit({ type: 'action', id: 'a1', kind: 'command', title: 'cat README.md', phase: 'started' });
    await sleep(400);
    sink.emit({ type: 'action', id: 'a1', kind: 'command', title: 'cat README.md', phase: 'completed', ok: true });
    sink.emit({ type: 'plan', items: [{ content: 'Write the greeting', status: 'inProgress' }] });
  });
  const state = rig.emulator.snapshot();
  const session = state.sessions[0]!;
  expect(session.activities.map((a) => [a.type, a.ephemeral])).toEqual([
    ['thought', false], // 'Looking at the README' (the ephemeral ack was replaced by it)
    ['action', false], // cat README.md, done
    ['response', false],
  ]);
  expect(session.replacedActivities.map((a) => a.content)).toEqual([
    { type: 'thought', body: 'On it.' },
    { type: 'action', action: 'cat README.md', parameter: 'command' },
  ]);
  expect(session.activities[1]!.content).toMatchObject({ action: 'cat README.md', result: 'done' });
  expect(session.activities[2]!.content).toEqual({ type: 'response', body: 'Added the greeting.\n\nPR: https://github.com/acme/app/pull/7' });
  expect(session.status).toBe('complete');
  expect(session.plan).toEqual(lifecyclePlan(undefined));
  expect(session.externalUrls).toEqual([
    { label: 'Temporal run', url: 'http://localhost:8233/namespaces/default/workflows/kai-issue-1' },
    { label: 'Pull request', url: 'https://github.com/acme/app/pull/7' },
  ]);
  const issue = state.issues.find((i) => i.id === rig.issueId)!;
  expect(issue.state.name).toBe('Done');
  expect(issue.attachments).toEqual([expect.objectContaining({ url: 'https://github.com/acme/app/pull/7', title: 'Add a greeting', sourceType: 'github' })]);
  expect(issue.labels).toEqual([]);
});

test('the engine plan replaces the lifecycle plan, coalesced into one update per window', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  await acts.linearUpdateSession({ agentSessionId: rig.sessionId, plan: lifecyclePlan('Do the work') });
  const sink = createLinearProgress({ linear: rig.linear, transport: { plan_coalesce_s: 0.3 } })({ agentSessionId: rig.sessionId, issueId: rig.issueId });
  rig.emulator.clearRequests();
  for (let i = 0; i < 10; i++) {
    sink.emit({ type: 'plan', items: [{ content: 'Step A', status: i < 9 ? 'inProgress' : 'completed' }, { content: 'Step B', status: 'pending' }] });
    await sleep(10);
  }
  await sleep(600);
  const updates = (await requestLog(rig.emulator)).filter((r) => r.rootFields.includes('agentSessionUpdate'));
  expect(updates).toHaveLength(1);
  expect(rig.emulator.snapshot().sessions[0]!.plan).toEqual([
    { content: 'Step A', status: 'completed' },
    { content: 'Step B', status: 'pending' },
  ]);
  await sink.close();
  expect((await requestLog(rig.emulator)).length).toBe(1);
});

test('an in-progress action is posted ephemeral and replaced by the next activity', async () => {
  rig = await startRig();
  const sink = createLinearProgress({ linear: rig.linear, transport: { ephemeral_activity_coalesce_s: 0.05 } })({ agentSessionId: rig.sessionId, issueId: rig.issueId });
  sink.emit({ type: 'action', id: 'x', kind: 'command', title: 'npm install', phase: 'started' });
  await sleep(300);
  let session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities).toEqual([expect.objectContaining({ type: 'action', ephemeral: true, content: { type: 'action', action: 'npm install', parameter: 'command' } })]);
  sink.emit({ type: 'action', id: 'x', kind: 'command', title: 'npm install', phase: 'completed', ok: false });
  await sink.close();
  session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities).toEqual([
    expect.objectContaining({ ephemeral: false, content: { type: 'action', action: 'npm install', parameter: 'command', result: 'failed' } }),
  ]);
  expect(session.replacedActivities).toHaveLength(1);
});

test('a 200-event engine stream costs at most 15 Linear requests for the whole session', async () => {
  rig = await startRig();
  const events = engineStream();
  expect(events).toHaveLength(200);
  await runSession(rig, async (sink) => {
    // As an engine's JSONL arrives: in chunks, yielding to the event loop between them.
    for (let i = 0; i < events.length; i++) {
      sink.emit(events[i]!);
      if (i % 25 === 0) await sleep(5);
    }
  });
  const log = await requestLog(rig.emulator);
  const byOp = log.reduce<Record<string, number>>((acc, r) => ((acc[r.rootFields.join('+')] = (acc[r.rootFields.join('+')] ?? 0) + 1), acc), {});
  // eslint-disable-next-line no-console
  console.log(`Linear requests for a 200-event session: ${log.length}`, byOp);
  expect(log.every((r) => r.outcome === 'ok')).toBe(true);
  expect(log.length).toBeLessThanOrEqual(15);
  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities.at(-1)!.type).toBe('response');
  // Every finished step is accounted for in the posted progress.
  const ran = session.activities.filter((a) => a.type === 'action').map((a) => String(a.content.action));
  const steps = ran.reduce((n, a) => n + (/^Ran (\d+) steps$/.exec(a) ? Number(/^Ran (\d+) steps$/.exec(a)![1]) : 1), 0);
  expect(steps).toBe(events.filter((e) => e.type === 'action' && e.phase === 'completed').length);
});

test('once the run is stopped the sink posts nothing more: it asks before each post, and a stopped close drops what waits', async () => {
  rig = await startRig();
  let stopped = false;
  const progress = createLinearProgress({ linear: rig.linear, transport: { ephemeral_activity_coalesce_s: 0.05 } });
  const sink = progress({ agentSessionId: rig.sessionId, issueId: rig.issueId, stopRequested: async () => stopped });
  sink.emit({ type: 'thought', text: 'Before the stop' });
  await sleep(300);
  expect(rig.emulator.snapshot().sessions[0]!.activities).toHaveLength(1);
  stopped = true; // the user pressed Stop; the activity has not heard of it yet
  rig.emulator.clearRequests();
  sink.emit({ type: 'action', id: 'y', kind: 'command', title: 'npm test', phase: 'started' });
  sink.emit({ type: 'thought', text: 'After the stop' });
  await sleep(300);
  await sink.close();
  expect(await requestLog(rig.emulator)).toEqual([]);

  // A run whose cancellation arrived: close({ discard }) posts neither the record nor the plan.
  const other = progress({ agentSessionId: rig.sessionId, issueId: rig.issueId });
  other.emit({ type: 'thought', text: 'Waiting for the record' });
  other.emit({ type: 'plan', items: [{ content: 'Step A', status: 'inProgress' }] });
  await other.close({ discard: true });
  expect(await requestLog(rig.emulator)).toEqual([]);
});
