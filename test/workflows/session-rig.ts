// A session workflow on the real Temporal dev server with recording activities, driven the way
// ingress drives it: session events, comments and stops. Shared by the workflow tests of issue 12.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { issueWorkflowId } from '../../src/names';
import { statusQuery, type PromptSignal } from '../../src/workflows/signals';
import type { SessionInput } from '../../src/workflows/session';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';
import type { KaiWorkers } from '../../src/worker';
import type { SessionClient } from '../../src/client';

let env: TestEnv;
/** Call once per test file. */
export function useTestEnv(): void {
  beforeAll(async () => {
    env = await connectTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });
}

export function testEnv(): TestEnv {
  return env;
}

export interface Rig {
  fakes: FakeActivities;
  workers: KaiWorkers;
  running: Promise<void>;
  /** Stops the workers, runs `whileDown` (signals sent then reach the workflow together, in
   *  one workflow task), and starts them again. */
  pauseWorkers(whileDown: () => Promise<void>): Promise<void>;
  sessions: SessionClient;
  handle: WorkflowHandle;
  issueId: string;
  stop(agentSessionId: string): Promise<void>;
  /** An AgentSessionEvent (created / prompted) for a message. */
  event(agentSessionId: string, body: string, ids: { commentId?: string; threadId?: string }, source?: 'created' | 'prompted'): Promise<void>;
  /** The Comment webhook of a message: no agent session. */
  comment(body: string, ids: { commentId: string; threadId: string }): Promise<void>;
  /** Waits until every message sent so far has been answered or dropped. */
  barrier(): Promise<void>;
  finish(): Promise<void>;
}

export async function rig(options?: SessionInput['options']): Promise<Rig> {
  const taskQueue = uniqueTaskQueue('one-message');
  const fakes = new FakeActivities();
  let workers = await startTestWorkers(env, taskQueue, fakes.activities());
  let running = workers.run();
  const sessions = sessionClient(env, taskQueue, options);
  const issueId = randomUUID();
  fakes.issue = { ...fakes.issue, id: issueId };
  const handle = env.client.workflow.getHandle(issueWorkflowId(issueId));
  const send = (payload: PromptSignal) => sessions.send({ type: 'prompt', issueId, payload });
  let barriers = 0;
  return {
    fakes,
    get workers() {
      return workers;
    },
    get running() {
      return running;
    },
    async pauseWorkers(whileDown) {
      workers.shutdown();
      await running;
      await whileDown();
      workers = await startTestWorkers(env, taskQueue, fakes.activities());
      running = workers.run();
    },
    sessions,
    handle,
    issueId,
    async stop(agentSessionId) {
      await sessions.send({ type: 'stop', issueId, payload: { deliveryId: randomUUID(), agentSessionId } });
    },
    async event(agentSessionId, body, ids, source = 'prompted') {
      await send({ deliveryId: randomUUID(), agentSessionId, body, receivedAt: new Date().toISOString(), source, ...ids });
    },
    async comment(body, ids) {
      await send({ deliveryId: randomUUID(), agentSessionId: '', body, receivedAt: new Date().toISOString(), source: 'comment', ...ids });
    },
    async barrier() {
      const id = `session-barrier-${++barriers}`;
      await waitFor('nothing held or queued', async () => {
        const s = await handle.query(statusQuery);
        return s.heldComments === 0 && s.queuedPrompts === 0 && s.phase === 'idle';
      });
      await sessions.send({ type: 'stop', issueId, payload: { deliveryId: randomUUID(), agentSessionId: id } });
      await waitFor('the barrier answer', () => fakes.finals().some((f) => f.agentSessionId === id));
    },
    async finish() {
      await handle.terminate('test over').catch(() => undefined);
      workers.shutdown();
      await running;
    },
  };
}

export const runs = (fakes: FakeActivities) =>
  fakes.named('engineRun').map((c) => ({ prompt: c.input.prompt as string, agentSessionId: c.input.agentSessionId as string }));
