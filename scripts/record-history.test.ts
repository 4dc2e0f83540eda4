// Records fixture histories for test/workflows/replay.test.ts from a scripted session on the
// test dev server. Run it when the workflow changes on purpose (and guard the change with
// patched()):  KAI_HISTORY_NAME=session-v3 npx jest --roots='<rootDir>/scripts' --testMatch='**/record-history.test.ts'

import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { issueWorkflowId } from '../src/names';
import { statusQuery } from '../src/workflows/signals';
import { FakeActivities } from '../test/harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor } from '../test/harness/temporal';

test('record', async () => {
  const env = await connectTestEnv();
  const tq = uniqueTaskQueue('record');
  const fakes = new FakeActivities();
  const workers = await startTestWorkers(env, tq, fakes.activities());
  const running = workers.run();
  const issueId = randomUUID();
  const s = sessionClient(env, tq, { webUiBaseUrl: 'http://localhost:8233', idleTimeoutMs: 3000 });
  fakes.hold();
  const send = (body: string, sid: string, source: 'created' | 'prompted') =>
    s.send({ type: 'prompt', issueId, payload: { deliveryId: randomUUID(), agentSessionId: sid, body, receivedAt: new Date().toISOString(), source } });
  await send('Add a greeting', 's1', 'created');
  await waitFor('engine', () => fakes.named('engineRun').length === 1);
  await send('Also a test', 's2', 'prompted');
  await waitFor('ack', () => fakes.named('linearAcknowledge').length === 2);
  fakes.release();
  await waitFor('2 finals', () => fakes.finals().length === 2);
  fakes.hold();
  await send('A third change', 's3', 'prompted');
  await waitFor('engine', () => fakes.named('engineRun').length === 3);
  await s.send({ type: 'stop', issueId, payload: { deliveryId: randomUUID(), agentSessionId: 's3' } });
  await waitFor('stop final', () => fakes.finals().length === 3);
  fakes.release();
  // a stop while publishing: the push finishes, the PR is reported, the stop says so
  fakes.holdActivity('gitCommitAndPush');
  await send('A fourth change', 's4', 'prompted');
  await waitFor('push', () => fakes.named('gitCommitAndPush').length === 3);
  await s.send({ type: 'stop', issueId, payload: { deliveryId: randomUUID(), agentSessionId: 's4' } });
  const h = env.client.workflow.getHandle(issueWorkflowId(issueId));
  await waitFor('stop seen', async () => (await h.query(statusQuery)).stopRequested);
  fakes.releaseActivity('gitCommitAndPush');
  await waitFor('response and stop answer', () => fakes.finals().length === 5);
  await s.send({ type: 'reset', issueId, payload: { deliveryId: randomUUID(), agentSessionId: 's3' } });
  await s.send({ type: 'stop', issueId, payload: { deliveryId: randomUUID(), agentSessionId: 's3' } });
  await send('/help', 's3', 'prompted');
  // a prompt while the idle cleanup is held open: it runs, then the session ends
  fakes.holdActivity('gitCleanup');
  await waitFor('cleanup', () => fakes.named('gitCleanup').length === 1, 30_000);
  await send('One more thing', 's5', 'prompted');
  fakes.releaseActivity('gitCleanup');
  await h.result();
  let n = 0;
  for await (const run of env.client.workflow.list({ query: `WorkflowId = '${issueWorkflowId(issueId)}'` })) {
    const history = await env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    writeFileSync(`test/fixtures/histories/${process.env.KAI_HISTORY_NAME ?? "session"}-run${++n}.json`, historyToJSON(history));
  }
  console.log('runs', n);
  workers.shutdown();
  await running;
  await env.close();
});
