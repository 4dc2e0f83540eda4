// Workspace affinity: two worker sets on one shared task queue stand for two worker pods. A
// turn's workspace steps (prepare, engine choice and run, commit and push) run on the worker that
// prepared the issue's worktree, turn after turn; Linear calls run anywhere; when that worker is
// gone the next turn moves to the other one after the schedule-to-start timeout, and says so.
import { randomUUID } from 'node:crypto';
import type { KaiActivities } from '../../src/activities/types';
import type { IssueContext } from '../../src/domain/issue';
import { issueWorkflowId } from '../../src/names';
import type { KaiWorkers } from '../../src/worker';
import type { SessionInput } from '../../src/workflows/session';
import { statusQuery } from '../../src/workflows/signals';
import { FakeActivities } from '../harness/fake-activities';
import { NativeConnection } from '@temporalio/worker';
import { sessionClient, startTestWorkers, temporalAddress, uniqueTaskQueue, waitFor } from '../harness/temporal';
import { testEnv, useTestEnv } from './session-rig';

useTestEnv();

const WORKSPACE_STEPS = ['gitPrepareWorktree', 'engineResolve', 'engineRun', 'gitCommitAndPush'];

/** One worker process: its own recording activities, answering for any issue. */
interface Pod {
  name: string;
  fakes: FakeActivities;
  workers: KaiWorkers;
  running: Promise<void>;
  /** Most engine runs this pod had at once. */
  peakEngineRuns: number;
  stop(): Promise<void>;
}

async function pod(name: string, taskQueue: string, concurrentEngineRuns = 4): Promise<Pod> {
  const fakes = new FakeActivities();
  const base = fakes.activities();
  let active = 0;
  const p = { name, fakes, peakEngineRuns: 0 } as Pod;
  const activities: KaiActivities = {
    ...base,
    // each session is its own issue
    linearLoadIssue: async (input) => ({ ...(await base.linearLoadIssue(input)), id: input.issueId, identifier: `ENG-${input.issueId.slice(0, 4)}` }) as IssueContext,
    engineRun: async (input) => {
      p.peakEngineRuns = Math.max(p.peakEngineRuns, ++active);
      try {
        return await base.engineRun(input);
      } finally {
        active--;
      }
    },
  };
  // A connection of its own, as a separate process has (Temporal refuses two workers on one
  // queue over one connection).
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  p.workers = await startTestWorkers({ ...testEnv(), nativeConnection: connection }, taskQueue, activities, concurrentEngineRuns, name);
  p.running = p.workers.run().finally(() => connection.close());
  p.stop = async () => {
    p.workers.shutdown();
    await p.running;
  };
  return p;
}

function issueOf(call: { name: string; input: any }): string | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  return call.name === 'engineRun' ? call.input.issueId : call.input.issue?.id;
}

/** The workspace steps each pod ran for `issueId`. */
function stepsFor(pods: Pod[], issueId: string): Record<string, string[]> {
  return Object.fromEntries(pods.map((p) => [p.name, p.fakes.calls.filter((c) => WORKSPACE_STEPS.includes(c.name) && issueOf(c) === issueId).map((c) => c.name)]));
}

async function world(pods: string[], options?: SessionInput['options'], cap?: number) {
  const taskQueue = uniqueTaskQueue('affinity');
  const list = await Promise.all(pods.map((name) => pod(`${name}-${taskQueue}`, taskQueue, cap)));
  const sessions = sessionClient(testEnv(), taskQueue, options);
  // every pod's final posts, in the order they were made
  const finals = () =>
    list
      .flatMap((p) => p.fakes.named('linearPostFinal'))
      .sort((a, b) => a.at - b.at)
      .map((c) => ({ agentSessionId: c.input.agentSessionId as string, kind: c.input.kind as string, body: c.input.body as string }));
  const prompt = (issueId: string, body: string, source: 'created' | 'prompted' = 'prompted') =>
    sessions.send({
      type: 'prompt',
      issueId,
      payload: { deliveryId: randomUUID(), agentSessionId: `session-${issueId}`, body, receivedAt: new Date().toISOString(), source },
    });
  const issues: string[] = [];
  return {
    pods: list,
    /** Starts a worker with the name of one that stopped: a pod back with its volume. */
    async restart(p: Pod): Promise<Pod> {
      const back = await pod(p.name, taskQueue, cap);
      list.push(back); // the stopped one stays listed: what it did still counts
      return back;
    },
    finals,
    prompt,
    newIssue() {
      const id = randomUUID();
      issues.push(id);
      return id;
    },
    async close() {
      for (const id of issues) await testEnv().client.workflow.getHandle(issueWorkflowId(id)).terminate('test over').catch(() => undefined);
      await Promise.all(list.map((p) => (p.workers.session.getState() === 'RUNNING' ? p.stop() : p.running)));
    },
  };
}

test('a session\'s prepare, engine and commit run on the worker that holds its worktree, turn after turn; Linear calls run anywhere', async () => {
  const w = await world(['pod-a', 'pod-b']);
  try {
    const issues = [w.newIssue(), w.newIssue(), w.newIssue(), w.newIssue()];
    for (let turn = 1; turn <= 3; turn++) {
      for (const issueId of issues) await w.prompt(issueId, `Turn ${turn}`, turn === 1 ? 'created' : 'prompted');
      await waitFor(`turn ${turn} answered in every session`, () => w.finals().length === issues.length * turn, 60_000);
    }
    expect(w.finals().every((f) => f.kind === 'response')).toBe(true);
    for (const issueId of issues) {
      const byPod = stepsFor(w.pods, issueId);
      const holders = Object.entries(byPod).filter(([, steps]) => steps.length > 0);
      // every workspace step of every turn on one worker
      expect(holders).toHaveLength(1);
      expect([...holders[0]![1]].sort()).toEqual([...WORKSPACE_STEPS, ...WORKSPACE_STEPS, ...WORKSPACE_STEPS].sort());
      const status = await testEnv().client.workflow.getHandle(issueWorkflowId(issueId)).query(statusQuery);
      expect(status.turns).toBe(3);
      expect(status.holder).toBe(holders[0]![0]);
    }
    // the Linear calls are not pinned: both pods take them from the shared queue
    for (const p of w.pods) expect(p.fakes.named('linearAcknowledge').length + p.fakes.named('linearPostFinal').length).toBeGreaterThan(0);
  } finally {
    await w.close();
  }
}, 120_000);

test('when the holder is gone between turns, the next turn moves to the other worker after the schedule-to-start timeout and the user is told in one line', async () => {
  const w = await world(['pod-a', 'pod-b'], { holderStartTimeoutMs: 1500, engineStartTimeoutMs: 1500 });
  try {
    const issueId = w.newIssue();
    await w.prompt(issueId, 'First task', 'created');
    await waitFor('the first answer', () => w.finals().length === 1, 30_000);
    const holder = w.pods.find((p) => p.fakes.named('engineRun').length === 1)!;
    const other = w.pods.find((p) => p !== holder)!;
    expect((await testEnv().client.workflow.getHandle(issueWorkflowId(issueId)).query(statusQuery)).resumeTokens).toEqual({ script: true });
    // the new holder has no engine home for the old conversation: the engine starts over from the recap
    other.fakes.engineResult = (input, n) => ({ ok: true, answer: `Did: ${input.prompt}`, resumeToken: `other-${n}`, resumeLost: Boolean(input.resumeToken) });
    await holder.stop();

    await w.prompt(issueId, 'Second task');
    await waitFor('the second answer', () => w.finals().length === 2, 60_000);
    expect(w.finals().map((f) => f.kind)).toEqual(['response', 'response']);
    expect(w.finals()[1]!.body).toContain('Did: Second task');
    const byPod = stepsFor(w.pods, issueId);
    expect(byPod[holder.name]).toEqual(WORKSPACE_STEPS);
    expect(byPod[other.name]).toEqual(WORKSPACE_STEPS);
    const run = other.fakes.named('engineRun')[0]!.input;
    expect(run.resumeToken).toBe('token-1');
    expect(run.recap).toContain('First task');
    const notes = other.fakes
      .named('linearAcknowledge')
      .map((c) => c.input.body as string)
      .filter((body) => body.includes('did not answer'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(holder.name);
    expect(notes[0]).toContain(other.name);
    expect(notes[0]).toContain('from a recap');
    expect((await testEnv().client.workflow.getHandle(issueWorkflowId(issueId)).query(statusQuery)).holder).toBe(other.name);
    // the third turn stays on the new holder
    await w.prompt(issueId, 'Third task');
    await waitFor('the third answer', () => w.finals().length === 3, 30_000);
    expect(stepsFor(w.pods, issueId)[other.name]).toEqual([...WORKSPACE_STEPS, ...WORKSPACE_STEPS]);
  } finally {
    await w.close();
  }
}, 120_000);

test('when the holder goes away during the engine run, the run starts again on the other worker and the turn answers once', async () => {
  const w = await world(['pod-a', 'pod-b'], { holderStartTimeoutMs: 1500, engineStartTimeoutMs: 1500, engineHeartbeatTimeoutMs: 2000 });
  try {
    for (const p of w.pods) p.fakes.hold();
    const issueId = w.newIssue();
    await w.prompt(issueId, 'Long task', 'created');
    const holder = await waitFor('the engine to start on one pod', () => w.pods.find((p) => p.fakes.named('engineRun').length === 1), 30_000);
    const other = w.pods.find((p) => p !== holder)!;
    other.fakes.release();
    await holder.stop(); // its run is cancelled at the end of the shutdown grace

    await waitFor('the answer', () => w.finals().length === 1, 60_000);
    expect(w.finals()[0]).toMatchObject({ kind: 'response' });
    expect(w.finals()[0]!.body).toContain('Did: Long task');
    expect(stepsFor(w.pods, issueId)[other.name]).toEqual(WORKSPACE_STEPS);
    const notes = other.fakes.named('linearAcknowledge').map((c) => c.input.body as string).filter((b) => b.includes('did not answer'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('carried on');
  } finally {
    for (const p of w.pods) p.fakes.release();
    await w.close();
  }
}, 120_000);

test('a holder that comes back under its name (a pod restarted with its volume) takes the next turn itself, with no move', async () => {
  const w = await world(['pod-a', 'pod-b'], { holderStartTimeoutMs: 30_000 });
  try {
    const issueId = w.newIssue();
    await w.prompt(issueId, 'First task', 'created');
    await waitFor('the first answer', () => w.finals().length === 1, 30_000);
    const holder = w.pods.find((p) => p.fakes.named('engineRun').length === 1)!;
    const other = w.pods.find((p) => p !== holder)!;
    await holder.stop();
    await w.prompt(issueId, 'Second task');
    // the step waits on the holder's queue (nobody else takes it) until the holder is back
    await waitFor('the prepare to wait for its holder', async () => {
      const { raw } = await testEnv().client.workflow.getHandle(issueWorkflowId(issueId)).describe();
      return raw.pendingActivities?.some((a) => a.activityType?.name === 'gitPrepareWorktree');
    }, 30_000);
    const back = await w.restart(holder);
    await waitFor('the second answer', () => w.finals().length === 2, 30_000);
    expect(back.fakes.named('engineRun').map((c) => c.input.resumeToken)).toEqual(['token-1']);
    expect(stepsFor([back, other], issueId)).toEqual({ [back.name]: WORKSPACE_STEPS, [other.name]: [] });
    expect(back.fakes.named('linearAcknowledge').concat(other.fakes.named('linearAcknowledge')).filter((c) => String(c.input.body).includes('did not answer'))).toHaveLength(0);
  } finally {
    await w.close();
  }
}, 120_000);

test('each worker runs at most its own cap of engine runs at once, whichever sessions it holds', async () => {
  const w = await world(['pod-a', 'pod-b'], undefined, 1);
  try {
    for (const p of w.pods) p.fakes.hold();
    const issues = [w.newIssue(), w.newIssue(), w.newIssue(), w.newIssue()];
    for (const issueId of issues) await w.prompt(issueId, 'Work', 'created');
    await waitFor('every session to reach its engine', () => w.pods.reduce((n, p) => n + p.fakes.named('engineResolve').length, 0) === issues.length, 30_000);
    const holders = w.pods.filter((p) => p.fakes.named('engineResolve').length > 0);
    // each holder started one run; the rest wait in its queue
    await waitFor('one run on each holder', () => holders.every((p) => p.fakes.named('engineRun').length === 1), 30_000);
    const pending = async () => {
      const states = await Promise.all(
        issues.map(async (id) => (await testEnv().client.workflow.getHandle(issueWorkflowId(id)).describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'engineRun')),
      );
      return states.every((a) => a) && states;
    };
    await waitFor('every engine run scheduled', pending, 30_000);
    expect(w.pods.reduce((n, p) => n + p.fakes.named('engineRun').length, 0)).toBe(holders.length);
    for (const p of w.pods) p.fakes.release();
    await waitFor('every session answered', () => w.finals().length === issues.length, 60_000);
    for (const p of w.pods) expect(p.peakEngineRuns).toBeLessThanOrEqual(1);
    expect(w.pods.reduce((n, p) => n + p.fakes.named('engineRun').length, 0)).toBe(issues.length);
  } finally {
    for (const p of w.pods) p.fakes.release();
    await w.close();
  }
}, 120_000);
