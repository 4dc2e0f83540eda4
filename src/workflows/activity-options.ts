// The session's activities, one proxy per retry class: Linear writes, engine choice, engine
// runs (long, heartbeating, on an engine queue), git, GitHub and files. The workspace steps run
// on the queues of the worker that holds the worktree (see on()). Timeouts and attempt
// counts come from the session's options; permanent failure types from src/domain/errors.ts.
import { ActivityCancellationType, proxyActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import type {
  EngineActivities,
  FilesActivities,
  GitActivities,
  LinearActivities,
  LinearElicitation,
} from '../activities/types';
import { PERMANENT_ERROR_TYPES } from '../domain/errors';
import type { WorkspaceHolder } from '../domain/workspace';
import { engineTaskQueueFor } from '../names';
import type { SessionOptions } from './options';

const nonRetryableErrorTypes = [...PERMANENT_ERROR_TYPES];

/** Each activity takes its input and a one-line summary that labels the call in the Web UI. */
export type Summarised<A> = {
  [K in keyof A]: A[K] extends (input: infer I) => Promise<infer O> ? (input: I, summary: string) => Promise<O> : never;
};

function summarised<A extends object>(proxy: ActivityInterfaceFor<A>): Summarised<A> {
  // Activity proxies are Proxy objects (nothing to enumerate): wrap by name on access.
  return new Proxy({} as Summarised<A>, {
    get(_, name) {
      const fn = (proxy as Record<string | symbol, ActivityInterfaceFor<A>[keyof A]>)[name] as unknown as {
        executeWithOptions(options: { summary: string }, args: unknown[]): Promise<unknown>;
      };
      return (input: unknown, summary: string) => fn.executeWithOptions({ summary }, [input]);
    },
  });
}

export type WorkspaceGit = Omit<GitActivities, 'githubOpenPullRequest'>;

/** The steps that touch an issue's worktree or engine home: they run where the workspace is. */
export interface WorkspaceProxies {
  git: Summarised<WorkspaceGit>;
  files: Summarised<FilesActivities>;
  engine: Summarised<EngineActivities>;
}

export interface SessionActivityProxies {
  linear: Summarised<LinearActivities & LinearElicitation>;
  /** On the shared queues: workspace steps of histories from before workspaces had a holder. */
  engine: Summarised<EngineActivities>;
  git: Summarised<GitActivities>;
  files: Summarised<FilesActivities>;
  /** The workspace steps on `holder`'s own queues, each given `holderStartTimeoutMs` to be picked
   *  up (engine runs `engineStartTimeoutMs`); without a holder, on the shared queues, where any
   *  worker takes them and becomes the holder. */
  on(holder: WorkspaceHolder | undefined): WorkspaceProxies;
}

export function sessionActivities(opts: SessionOptions, taskQueue: string): SessionActivityProxies {
  const linear = proxyActivities<LinearActivities & LinearElicitation>({
    startToCloseTimeout: opts.linearTimeoutMs,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '60s',
      maximumAttempts: opts.linearMaxAttempts,
      nonRetryableErrorTypes,
    },
  });
  const github = proxyActivities<Pick<GitActivities, 'githubOpenPullRequest'>>({
    startToCloseTimeout: opts.githubTimeoutMs,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '5m',
      maximumAttempts: opts.githubMaxAttempts,
      nonRetryableErrorTypes,
    },
  });
  const shared = workspaceProxies(opts, { engineTaskQueue: opts.engineTaskQueue ?? engineTaskQueueFor(taskQueue) });
  const githubCalls = summarised<Pick<GitActivities, 'githubOpenPullRequest'>>(github);
  return {
    linear: summarised<LinearActivities & LinearElicitation>(linear),
    engine: shared.engine,
    git: {
      gitPrepareWorktree: shared.git.gitPrepareWorktree,
      gitPublish: shared.git.gitPublish,
      gitDescribe: shared.git.gitDescribe,
      gitCleanup: shared.git.gitCleanup,
      gitCommitAndPush: shared.git.gitCommitAndPush,
      githubOpenPullRequest: githubCalls.githubOpenPullRequest,
    },
    files: shared.files,
    on: (holder) =>
      holder
        ? workspaceProxies(opts, {
            taskQueue: holder.taskQueue,
            engineTaskQueue: holder.engineTaskQueue,
            scheduleToStartTimeout: opts.holderStartTimeoutMs,
            engineScheduleToStartTimeout: opts.engineStartTimeoutMs,
          })
        : shared,
  };
}

interface Placement {
  /** Absent: the workflow's own (shared) queue. */
  taskQueue?: string;
  engineTaskQueue: string;
  scheduleToStartTimeout?: number;
  engineScheduleToStartTimeout?: number;
}

function workspaceProxies(opts: SessionOptions, at: Placement): WorkspaceProxies {
  const place = { taskQueue: at.taskQueue, scheduleToStartTimeout: at.scheduleToStartTimeout };
  const resolve = proxyActivities<Pick<EngineActivities, 'engineResolve' | 'engineRemoveHomes'>>({
    ...place,
    startToCloseTimeout: opts.engineResolveTimeoutMs,
    retry: { initialInterval: '1s', maximumAttempts: opts.engineResolveMaxAttempts, nonRetryableErrorTypes },
  });
  const run = proxyActivities<Pick<EngineActivities, 'engineRun'>>({
    taskQueue: at.engineTaskQueue,
    scheduleToStartTimeout: at.engineScheduleToStartTimeout,
    startToCloseTimeout: opts.engineTimeoutMs,
    heartbeatTimeout: opts.engineHeartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', maximumAttempts: opts.engineMaxAttempts, nonRetryableErrorTypes },
  });
  const git = proxyActivities<WorkspaceGit>({
    ...place,
    startToCloseTimeout: opts.gitTimeoutMs,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumAttempts: opts.gitMaxAttempts,
      nonRetryableErrorTypes,
    },
  });
  const files = proxyActivities<FilesActivities>({
    ...place,
    startToCloseTimeout: opts.filesTimeoutMs,
    retry: { initialInterval: '2s', maximumAttempts: opts.filesMaxAttempts, nonRetryableErrorTypes },
  });
  const resolveCalls = summarised<Pick<EngineActivities, 'engineResolve' | 'engineRemoveHomes'>>(resolve);
  const runCalls = summarised<Pick<EngineActivities, 'engineRun'>>(run);
  return {
    git: summarised<WorkspaceGit>(git),
    files: summarised<FilesActivities>(files),
    engine: { engineResolve: resolveCalls.engineResolve, engineRemoveHomes: resolveCalls.engineRemoveHomes, engineRun: runCalls.engineRun },
  };
}
