// kai's client connections count calls in flight so closing one never strands a retry.
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectTracked } from '../../src/temporal/calls';
import { issueWorkflowId } from '../../src/names';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, temporalAddress, uniqueTaskQueue } from '../harness/temporal';

test('closing a tracked connection waits for a call in flight to finish instead of cutting it off', async () => {
  const env = await connectTestEnv();
  const taskQueue = uniqueTaskQueue('calls');
  const fakes = new FakeActivities();
  const workers = await startTestWorkers(env, taskQueue, fakes.activities());
  const running = workers.run();
  const tracked = await connectTracked({ address: temporalAddress() });
  try {
    const issueId = randomUUID();
    await sessionClient(env, taskQueue, { idleTimeoutMs: 1500 }).send({
      type: 'prompt',
      issueId,
      payload: { deliveryId: randomUUID(), agentSessionId: 's', body: 'Quick', receivedAt: new Date().toISOString(), source: 'created' },
    });
    // A long poll for the result is in flight until the idle session completes (~1.5 s).
    const client = new Client({ connection: tracked.connection });
    const result = client.workflow.getHandle(issueWorkflowId(issueId)).result();
    await new Promise((r) => setTimeout(r, 200));
    expect(tracked.inFlight()).toBeGreaterThanOrEqual(1);
    await tracked.close();
    expect(tracked.inFlight()).toBe(0); // close returned only once the long poll had ended
    await expect(result).resolves.toMatchObject({ issueId, turns: 1 });
  } finally {
    workers.shutdown();
    await running;
    await env.close();
  }
});
