// Engine runs go to their own task queue, where a worker runs at most `concurrentEngineRuns`
// at once: many sessions cannot start more engines than the machine was given.
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { issueWorkflowId } from '../../src/names';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

test('a worker capped at one engine run holds the second session\'s engine until the first ends', async () => {
  const taskQueue = uniqueTaskQueue('cap');
  const fakes = new FakeActivities();
  const workers = await startTestWorkers(env, taskQueue, fakes.activities(), 1);
  const running = workers.run();
  const sessions = sessionClient(env, taskQueue);
  const issues = [randomUUID(), randomUUID()];
  try {
    fakes.hold();
    for (const issueId of issues) {
      await sessions.send({
        type: 'prompt',
        issueId,
        payload: { deliveryId: randomUUID(), agentSessionId: `session-${issueId}`, body: 'Work', receivedAt: new Date().toISOString(), source: 'created' },
      });
    }
    await waitFor('one engine run', () => fakes.named('engineRun').length === 1);
    // Both sessions got as far as choosing their engine; only one engine runs.
    await waitFor('both sessions to reach the engine', () => fakes.named('engineResolve').length === 2);
    // barrier: both sessions have scheduled their engine run; the server holds one unstarted
    const engineStates = async () =>
      Promise.all(
        issues.map(async (issueId) => {
          const { raw } = await env.client.workflow.getHandle(issueWorkflowId(issueId)).describe();
          return raw.pendingActivities?.find((a) => a.activityType?.name === 'engineRun')?.state;
        }),
      );
    const states = await waitFor('both engine runs to be scheduled', async () => {
      const s = await engineStates();
      return s.every((x) => x !== undefined && x !== null) && s;
    });
    expect([...states].sort()).toEqual([
      temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    ].sort());
    expect(fakes.named('engineRun')).toHaveLength(1);
    fakes.release();
    await waitFor('both sessions to answer', () => fakes.finals().length === 2);
    const runs = fakes.named('engineRun');
    expect(runs).toHaveLength(2);
    expect(new Set(runs.map((r) => r.input.issueId))).toEqual(new Set(issues));
  } finally {
    fakes.release();
    for (const issueId of issues) await env.client.workflow.getHandle(issueWorkflowId(issueId)).terminate('test over').catch(() => undefined);
    workers.shutdown();
    await running;
  }
});
