// Per-test access to the shared dev server: a client, a unique task queue, and workers that
// run the real workflow bundle with whatever activities the test gives them.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, type Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import type { KaiActivities } from '../../src/activities/types';
import { SessionClient } from '../../src/client';
import { connectTracked } from '../../src/temporal/calls';
import { createKaiWorkers, type KaiWorkers } from '../../src/worker';
import { engineTaskQueueFor } from '../../src/names';
import type { SessionInput } from '../../src/workflows/session';
import { HARNESS_ENV } from './constants';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger(process.env.KAI_TEST_LOG ? 'INFO' : 'ERROR') });
  } catch {
    // already installed by another module in this worker
  }
}

export function temporalAddress(): string {
  const address = process.env[HARNESS_ENV.address];
  if (!address) throw new Error('No test Temporal server: run the tests through jest (its global setup starts one).');
  return address;
}

export function workflowBundle(): WorkflowBundle {
  const path = process.env[HARNESS_ENV.bundlePath];
  if (!path) throw new Error('No workflow bundle: run the tests through jest.');
  return { code: readFileSync(path, 'utf8') };
}

export function uniqueTaskQueue(name = 'test'): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

export interface TestEnv {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

export async function connectTestEnv(): Promise<TestEnv> {
  quietRuntime();
  const address = temporalAddress();
  const tracked = await connectTracked({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection: tracked.connection }),
    connection: tracked.connection,
    nativeConnection,
    async close() {
      await tracked.close();
      await nativeConnection.close();
    },
  };
}

export async function startTestWorkers(
  env: TestEnv,
  taskQueue: string,
  activities: KaiActivities,
  concurrentEngineRuns = 4,
  /** Several worker sets on one task queue stand for several worker processes: name each. */
  workerName?: string,
): Promise<KaiWorkers> {
  return createKaiWorkers({
    workerName,
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    engineTaskQueue: engineTaskQueueFor(taskQueue),
    activities,
    concurrentEngineRuns,
    workflowBundle: workflowBundle(),
    shutdownGraceTime: '2s',
  });
}

export function sessionClient(env: TestEnv, taskQueue: string, options?: SessionInput['options']): SessionClient {
  return new SessionClient(env.client, { taskQueue, sessionOptions: options });
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
