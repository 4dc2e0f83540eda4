// A whole real session (webhook, workflow, real activities, script engine, git, GitHub emulator)
// while the Linear emulator misbehaves: nothing the user should see is lost or posted twice.
import { issueWorkflowId } from '../../src/names';
import { temporalAddress, waitFor } from '../harness/temporal';
import { startWebhookServer, webhookDepsFromConfig } from '../../src/webhook';
import { addIssue, hasAction, pullRequests, quietLogger, sessionView, startFaultStack } from './helpers';

jest.setTimeout(120_000);

let stack: Awaited<ReturnType<typeof startFaultStack>>;
beforeAll(async () => {
  stack = await startFaultStack({ temporalAddress: temporalAddress() });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  stack.world.linear.clearFaults();
  stack.world.linear.setRateLimit(undefined);
});

const result = (issueId: string) => stack.client.workflow.getHandle(issueWorkflowId(issueId)).result();

test('5xx bursts, RATELIMITED answers and slow responses from Linear: one ack, one final response, one PR, no activity posted twice', async () => {
  const { linear } = stack.world;
  const issue = addIssue(stack.world, 'Survive a flaky Linear');
  linear.injectFaults({ status: 503, count: 3, operations: ['agentActivityCreate'] });
  linear.injectFaults({ status: 502, count: 2, operations: ['agentSessionUpdate'] });
  linear.injectFaults({ status: 500, count: 2, operations: ['issueUpdate'] });
  linear.injectLatency({ ms: 1500, count: 4 });
  // 3 requests per 3 s: the session needs about 20 and sends several back to back (ack, links,
  // issue, move), so it is held back even on a loaded machine where requests come slower.
  linear.setRateLimit({ limit: 3, windowMs: 3000 });

  const { session, delivery } = await linear.startSession({ issueId: issue.id, send: true });
  expect(delivery?.status).toBe(200);
  const outcome = await result(issue.id);
  expect(outcome.turns).toBe(1);

  const requests = linear.requests();
  expect(requests.filter((r) => r.outcome === 'fault').length).toBeGreaterThanOrEqual(7);
  expect(requests.filter((r) => r.outcome === 'ratelimited').length).toBeGreaterThan(0);

  const view = sessionView(stack.world, session.id);
  expect(view.acks).toBe(1);
  expect(view.errors).toEqual([]);
  expect(view.responses).toHaveLength(1);
  expect(view.responses[0]).toContain('Opened pull request');
  const durable = view.all.filter((a) => !a.ephemeral).map((a) => `${a.type}:${a.body}`);
  expect(new Set(durable).size).toBe(durable.length);
  expect(pullRequests(stack.world).filter((p) => p.head.ref.includes(issue.identifier))).toHaveLength(1);
  expect(linear.state.states.get(linear.state.issue(issue.id).stateId)?.type).toBe('completed');
});

test('a session deleted in Linear mid-run ends the run cleanly, without a retry storm', async () => {
  const { linear } = stack.world;
  const issue = addIssue(stack.world, 'Deleted while running');
  const { session } = await linear.startSession({ issueId: issue.id, send: true });
  await waitFor('the engine to start', () => hasAction(stack.world, session.id));
  linear.state.deleteSession(session.id);
  const deletedAt = Date.now();

  const outcome = await result(issue.id); // completes, it does not fail or hang
  expect(outcome.turns).toBe(1);
  const afterDelete = () =>
    linear.requests().filter((r) => r.atMs >= deletedAt && JSON.stringify(r.variables ?? {}).includes(session.id));
  const settled = afterDelete().length;
  // The progress sink goes quiet, the final post fails once as permanent, the error post once.
  expect(settled).toBeLessThanOrEqual(8);
  expect(afterDelete().every((r) => r.status === 200)).toBe(true);
  // the workflow is over; a storm could only come from an activity attempt still running in a
  // worker (one the workflow stopped waiting for), so none may be left
  await waitFor('no activity left in either worker', () =>
    [stack.workers.session, stack.workers.engine].every((w) => w.getStatus().numInFlightActivities === 0),
  );
  expect(afterDelete().length).toBe(settled);
  const status = (await stack.client.workflow.getHandle(issueWorkflowId(issue.id)).describe()).status.name;
  expect(status).toBe('COMPLETED');
});

test('100 concurrent redeliveries of one delivery, across two webhook servers, have one effect', async () => {
  const { linear } = stack.world;
  const second = await startWebhookServer(
    webhookDepsFromConfig(stack.config, stack.sessions, { appUserId: linear.state.appUser.id, logger: quietLogger() }),
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const issue = addIssue(stack.world, 'Redelivered a hundred times');
    const { session, delivery } = await linear.startSession({ issueId: issue.id, send: true });
    expect(delivery?.status).toBe(200);
    const secondUrl = `${second.url}${stack.config.transports.linear.webhook_path}`;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => linear.redeliver(delivery!.deliveryId, i % 2 ? { url: secondUrl } : {})),
    );
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));

    const outcome = await result(issue.id);
    expect(outcome.turns).toBe(1);
    const view = sessionView(stack.world, session.id);
    expect(view.acks).toBe(1);
    expect(view.responses).toHaveLength(1);
    expect(pullRequests(stack.world).filter((p) => p.head.ref.includes(issue.identifier))).toHaveLength(1);
    // Each server hands a delivery id over once; the workflow drops the second server's copy.
    const history = await stack.client.workflow.getHandle(issueWorkflowId(issue.id)).fetchHistory();
    const signals = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes || e.workflowExecutionStartedEventAttributes);
    expect(signals.length).toBeLessThanOrEqual(3);
  } finally {
    await second.close();
  }
});
