// A session workflow on the real Temporal dev server with recording activities, driven the way
// ingress drives it: session events, comments and stops. Shared by the workflow tests of issue 12.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { issueWorkflowId } from '../../src/names';
import { statusQuery, type PromptSignal } from '../../src/workflows/signals';
import type { SessionInput } from '../../src/workflows/session';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, uniqueTaskQueue, waitFor, waitForSettled, type TestEnv } from '../harness/temporal';
import type { KaiWorkers } from '../../src/worker';
import type { SessionClient } from '../../src/client';

type Activities = ReturnType<FakeActivities['activities']>;

let env: TestEnv;
let shared: { workers: KaiWorkers; running: Promise<void>; taskQueue: string } | undefined;
let current: Activities | undefined;

/** Call once per test file. */
export function useTestEnv(): void {
  beforeAll(async () => {
    env = await connectTestEnv();
  });
  afterAll(async () => {
    shared?.workers.shutdown();
    await shared?.running;
    shared = undefined;
    await env?.close();
  });
}

export function testEnv(): TestEnv {
  return env;
}

/**
 * The task queue of the file's one pair of workers, whose activities are those of `fakes` from
 * now on. Tests in a file run one after another, each on its own workflow, and a test's
 * workflow is terminated before the next begins, so no call of one lands in another's record.
 */
export async function workersFor(fakes: FakeActivities): Promise<string> {
  current = fakes.activities();
  if (!shared) {
    const taskQueue = uniqueTaskQueue('session');
    const workers = await startTestWorkers(env, taskQueue, forwarding(current));
    shared = { workers, running: workers.run(), taskQueue };
  }
  return shared.taskQueue;
}

/** Activities that call whichever test's recording activities are current. */
function forwarding(names: Activities): Activities {
  return Object.fromEntries(
    Object.keys(names).map((name) => [name, (input: unknown) => (current as unknown as Record<string, (i: unknown) => Promise<unknown>>)[name]!(input)]),
  ) as unknown as Activities;
}

async function pauseSharedWorkers(whileDown: () => Promise<void>): Promise<void> {
  const { workers, running, taskQueue } = shared!;
  workers.shutdown();
  await running;
  await whileDown();
  const again = await startTestWorkers(env, taskQueue, forwarding(current!));
  shared = { workers: again, running: again.run(), taskQueue };
}

export interface Rig {
  fakes: FakeActivities;
  /** Stops the file's workers, runs `whileDown` (signals sent then reach the workflow together,
   *  in one workflow task), and starts them again on the same task queue. */
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
  const fakes = new FakeActivities();
  const taskQueue = await workersFor(fakes);
  const sessions = sessionClient(env, taskQueue, options);
  const issueId = randomUUID();
  fakes.issue = { ...fakes.issue, id: issueId };
  const handle = env.client.workflow.getHandle(issueWorkflowId(issueId));
  const send = (payload: PromptSignal) => sessions.send({ type: 'prompt', issueId, payload });
  let barriers = 0;
  return {
    fakes,
    async pauseWorkers(whileDown) {
      await pauseSharedWorkers(whileDown);
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
      await waitForSettled(() => handle.query(statusQuery));
      await sessions.send({ type: 'stop', issueId, payload: { deliveryId: randomUUID(), agentSessionId: id } });
      await waitFor('the barrier answer', () => fakes.finals().some((f) => f.agentSessionId === id));
    },
    async finish() {
      await handle.terminate('test over').catch(() => undefined);
    },
  };
}

export const runs = (fakes: FakeActivities) =>
  fakes.named('engineRun').map((c) => ({ prompt: c.input.prompt as string, agentSessionId: c.input.agentSessionId as string }));
