// A worker killed with SIGKILL mid-engine: a new worker picks the session up and it finishes
// with exactly one final response.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueWorkflowId } from '../../src/names';
import { statusQuery } from '../../src/workflows/signals';
import { forkReady } from '../harness/fork-ts';
import { connectTestEnv, sessionClient, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

function startWorkerChild(vars: Record<string, string>): Promise<ChildProcess> {
  return forkReady(join(__dirname, '../harness/worker-child.ts'), vars);
}

function readCalls(file: string): Array<{ name: string; pid: number; input: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test('a worker killed with SIGKILL during the engine run is replaced and the session finishes with one final response', async () => {
  const taskQueue = uniqueTaskQueue('crash');
  const callsFile = join(mkdtempSync(join(tmpdir(), 'kai-crash-')), 'calls.jsonl');
  const issueId = randomUUID();
  const vars = { KAI_CALLS_FILE: callsFile, KAI_TASK_QUEUE: taskQueue, KAI_FAKE_ENGINE_MS: '4000', KAI_ISSUE_ID: issueId };
  const first = await startWorkerChild(vars);
  let second: ChildProcess | undefined;
  try {
    await sessionClient(env, taskQueue, { engineHeartbeatTimeoutMs: 2000 }).send({
      type: 'prompt',
      issueId,
      payload: { deliveryId: randomUUID(), agentSessionId: 'session-a', body: 'Survive a crash', receivedAt: new Date().toISOString(), source: 'created' },
    });
    await waitFor('the engine to start on the first worker', () => readCalls(callsFile).some((c) => c.name === 'engineRun'));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // the retry only has to finish: no need for the first run's long engine
    second = await startWorkerChild({ ...vars, KAI_FAKE_ENGINE_MS: '200' });
    const finals = await waitFor(
      'the final response from the new worker',
      () => {
        const f = readCalls(callsFile).filter((c) => c.name === 'linearPostFinal');
        return f.length > 0 && f;
      },
      60_000,
    );
    // barrier: the turn is over and nothing is left to post
    await waitFor('the session to be idle with nothing to post', async () => {
      const status = await env.client.workflow.getHandle(issueWorkflowId(issueId)).query(statusQuery);
      return status.phase === 'idle' && status.pendingPosts === 0;
    });
    const calls = readCalls(callsFile);
    const allFinals = calls.filter((c) => c.name === 'linearPostFinal');
    expect(allFinals).toHaveLength(1);
    expect(finals[0]!.input.kind).toBe('response');
    expect(allFinals[0]!.pid).toBe(second.pid);
    const runs = calls.filter((c) => c.name === 'engineRun');
    expect(runs.map((r) => r.pid)).toEqual([first.pid, second.pid]);
    expect(calls.filter((c) => c.name === 'gitCommitAndPush')).toHaveLength(1);
  } finally {
    first.kill('SIGKILL');
    await env.client.workflow.getHandle(issueWorkflowId(issueId)).terminate('test over').catch(() => undefined);
    if (second) {
      second.kill('SIGTERM');
      await new Promise((r) => second!.once('exit', r));
    }
  }
});
