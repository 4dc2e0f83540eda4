// Builds kai's workers. On the shared queues: the session worker (workflows and short
// activities) and the engine worker (engine runs, capped). On this worker's own queues (the
// worker-specific task queue pattern): the workspace activities and the engine runs of the
// issues whose worktree and engine home this worker holds, so a turn's steps all run where its
// files are. The workspace a prepare returns names those queues: the workflow routes there.
import * as os from 'node:os';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { EngineActivities, KaiActivities } from './activities/types';
import type { Workspace, WorkspaceHolder } from './domain/workspace';
import { workerTaskQueue } from './names';

export interface KaiWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  engineTaskQueue: string;
  /** This worker's name, unique among the workers of one deployment (the pod name in a
   *  StatefulSet); its own queues are named after it. os.hostname() by default. */
  workerName?: string;
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
  /** This worker's own queues: the workspace activities and the engine runs it holds. */
  holder: Worker;
  holderEngine: Worker;
  /** Who this worker is and where its own queues are. */
  queues: WorkspaceHolder;
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

/** The activities that touch an issue's worktree or engine home: they run on its holder. */
const WORKSPACE_ACTIVITIES = [
  'gitPrepareWorktree',
  'gitPublish',
  'gitCommitAndPush',
  'gitDescribe',
  'gitCleanup',
  'filesDownloadAttachments',
  'filesCommand',
  'engineResolve',
  'engineRemoveHomes',
] as const satisfies ReadonlyArray<keyof KaiActivities>;

export async function createKaiWorkers(opts: KaiWorkerOptions): Promise<KaiWorkers> {
  const worker = opts.workerName ?? os.hostname();
  const queues: WorkspaceHolder = {
    worker,
    taskQueue: workerTaskQueue(opts.taskQueue, worker),
    engineTaskQueue: workerTaskQueue(opts.engineTaskQueue, worker),
  };
  const { engineRun, ...rest } = opts.activities;
  // Whichever queue a prepare ran from, the workspace it made lives here: it says so.
  const gitPrepareWorktree: KaiActivities['gitPrepareWorktree'] = async (input) => {
    const workspace: Workspace = await rest.gitPrepareWorktree(input);
    return { ...workspace, holder: queues };
  };
  const sessionActivities = { ...rest, gitPrepareWorktree };
  const workspaceActivities = Object.fromEntries(WORKSPACE_ACTIVITIES.map((name) => [name, sessionActivities[name]]));
  const engineActivities: Pick<EngineActivities, 'engineRun'> = { engineRun };
  const grace = opts.shutdownGraceTime ?? '10s';
  const session = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    // Bundled here with a quiet logger: the SDK's own bundling logs every webpack module.
    workflowBundle: opts.workflowBundle ?? (await buildWorkflowBundle()),
    activities: sessionActivities,
    shutdownGraceTime: grace,
  });
  const holder = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: queues.taskQueue,
    activities: workspaceActivities,
    shutdownGraceTime: grace,
  });
  const engineWorker = (taskQueue: string) =>
    Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue,
      activities: engineActivities,
      maxConcurrentActivityTaskExecutions: opts.concurrentEngineRuns,
      // Cancellation reaches an activity only with a heartbeat response: flush heartbeats every
      // second so Stop kills the engine within about a second, not after the default 30-60 s.
      maxHeartbeatThrottleInterval: '1s',
      defaultHeartbeatThrottleInterval: '1s',
      shutdownGraceTime: grace,
    });
  // The shared engine queue serves sessions whose turn began before engine runs went to their
  // holder; new turns use this worker's own engine queue.
  const engine = await engineWorker(opts.engineTaskQueue);
  const holderEngine = await engineWorker(queues.engineTaskQueue);
  const all = [session, engine, holder, holderEngine];
  return {
    session,
    engine,
    holder,
    holderEngine,
    queues,
    async run(until) {
      const every = Promise.all(all.map((w) => w.run()));
      if (until) {
        await Promise.race([every, until.catch(() => undefined)]);
        shutdownAll();
      }
      await every;
    },
    shutdown: shutdownAll,
  };
  function shutdownAll() {
    for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
  }
}
