// Linear's Stop with kai's real engine activity: from the stop signal on, nothing reaches the
// session but the one final response. The engine (the demo script, slowed down) has printed a
// thought and its plan, so progress is pending in the activity's sink when Stop comes, and its
// next event would come seconds later: neither may reach Linear.
import { issueWorkflowId } from '../../src/names';
import { temporalAddress, waitFor } from '../harness/temporal';
import { addIssue, sessionView, startFaultStack } from '../faults/helpers';

jest.setTimeout(120_000);

let stack: Awaited<ReturnType<typeof startFaultStack>>;
beforeAll(async () => {
  // an 8 s engine step and the default 60 s heartbeat timeout: the Stop must not wait for either
  stack = await startFaultStack({ temporalAddress: temporalAddress(), engineStep: 8 });
});
afterAll(async () => {
  await stack?.stop();
});

test('after Stop the engine activity posts no progress: the only activity after the stop signal is the final response', async () => {
  const { linear } = stack.world;
  const store = linear.state;
  const issue = addIssue(stack.world, 'Stopped while thinking');
  const { session } = await linear.startSession({ issueId: issue.id, send: true });
  await waitFor('the engine\'s first thought in Linear', () => sessionView(stack.world, session.id).all.some((a) => a.body.startsWith('Reading README.md')), 30_000);

  const stoppedAt = Date.now();
  await linear.stopSession(session.id);
  await waitFor('the final response', () => sessionView(stack.world, session.id).responses.length === 1, 30_000);
  const answeredIn = Date.now() - stoppedAt;
  await stack.client.workflow.getHandle(issueWorkflowId(issue.id)).result();
  await linear.settled();

  // as Linear keeps the session: after the stop prompt, kai's one response and nothing else
  const ids = store.sessionActivities.get(session.id) ?? [];
  const stopAt = ids.findIndex((id) => store.activities.get(id)!.signal === 'stop');
  expect(stopAt).toBeGreaterThan(0);
  const after = ids.slice(stopAt + 1).map((id) => store.activities.get(id)!);
  expect(after.map((a) => a.content.type)).toEqual(['response']);
  expect(String(after[0]!.content.body)).toMatch(/stopped/i);
  // and as the API saw it: one call naming the session after the Stop, the response
  const calls = linear.requests().filter((r) => r.atMs >= stoppedAt && JSON.stringify(r.variables ?? {}).includes(session.id));
  expect(calls.map((r) => r.rootFields.join(','))).toEqual(['agentActivityCreate']);
  console.log(`Stop to final response with the real engine activity: ${answeredIn} ms (heartbeat timeout 60 s, engine quiet for 8 s)`);
});
