// Builds kai's workers: the session worker (workflows and short activities) and the engine
// worker (engine runs only, on their own task queue, capped in concurrency).
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { EngineActivities, KaiActivities } from './contracts/activities';

export interface KaiWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  engineTaskQueue: string;
  activities: KaiActivities;
  /** Most engine runs this process carries at once. */
  concurrentEngineRuns: number;
  /** A prebuilt workflow bundle (tests build one per run); built from source when absent. */
  workflowBundle?: WorkflowBundle;
  shutdownGraceTime?: string | number;
}

export interface KaiWorkers {
  session: Worker;
  engine: Worker;
  /** Runs both until `shutdown()` or until `until` settles. */
  run(until?: Promise<unknown>): Promise<void>;
  shutdown(): void;
}

export function workflowsPath(): string {
  return require.resolve('./workflows');
}

export async function buildWorkflowBundle(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: unknown) {
    process.stderr.write(`workflow bundle: ${message} ${meta ? JSON.stringify(meta) : ''}\n`);
  },
  error(message: string, meta?: unknown) {
    process.stderr.write(`workflow bundle: ${message} ${meta ? JSON.stringify(meta) : ''}\n`);
  },
};

export async function createKaiWorkers(opts: KaiWorkerOptions): Promise<KaiWorkers> {
  const { engineRun, ...sessionActivities } = opts.activities;
  const engineActivities: Pick<EngineActivities, 'engineRun'> = { engineRun };
  const session = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    // Bundled here with a quiet logger: the SDK's own bundling logs every webpack module.
    workflowBundle: opts.workflowBundle ?? (await buildWorkflowBundle()),
    activities: sessionActivities,
    shutdownGraceTime: opts.shutdownGraceTime ?? '10s',
  });
  const engine = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.engineTaskQueue,
    activities: engineActivities,
    maxConcurrentActivityTaskExecutions: opts.concurrentEngineRuns,
    // Cancellation reaches an activity only with a heartbeat response: flush heartbeats every
    // second so Stop kills the engine within about a second, not after the default 30-60 s.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: opts.shutdownGraceTime ?? '10s',
  });
  return {
    session,
    engine,
    async run(until) {
      const both = Promise.all([session.run(), engine.run()]);
      if (until) {
        await Promise.race([both, until.catch(() => undefined)]);
        shutdownAll();
      }
      await both;
    },
    shutdown: shutdownAll,
  };
  function shutdownAll() {
    for (const w of [session, engine]) if (w.getState() === 'RUNNING') w.shutdown();
  }
}
