// The session's activities, one proxy per retry class: Linear writes, engine choice, engine
// runs (long, heartbeating, on the engine queue), git, GitHub and files. Timeouts and attempt
// counts come from the session's options; permanent failure types from src/domain/errors.ts.
import { ActivityCancellationType, proxyActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import type {
  EngineActivities,
  FilesActivities,
  GitActivities,
  LinearActivities,
  LinearElicitation,
} from '../contracts/activities';
import { PERMANENT_ERROR_TYPES } from '../domain/errors';
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

export interface SessionActivityProxies {
  linear: Summarised<LinearActivities & LinearElicitation>;
  engine: Summarised<EngineActivities>;
  git: Summarised<GitActivities>;
  files: Summarised<FilesActivities>;
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
  const resolve = proxyActivities<Pick<EngineActivities, 'engineResolve'>>({
    startToCloseTimeout: opts.engineResolveTimeoutMs,
    retry: { initialInterval: '1s', maximumAttempts: opts.engineResolveMaxAttempts, nonRetryableErrorTypes },
  });
  const run = proxyActivities<Pick<EngineActivities, 'engineRun'>>({
    taskQueue: opts.engineTaskQueue ?? engineTaskQueueFor(taskQueue),
    startToCloseTimeout: opts.engineTimeoutMs,
    heartbeatTimeout: opts.engineHeartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', maximumAttempts: opts.engineMaxAttempts, nonRetryableErrorTypes },
  });
  const git = proxyActivities<Omit<GitActivities, 'githubOpenPullRequest'>>({
    startToCloseTimeout: opts.gitTimeoutMs,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumAttempts: opts.gitMaxAttempts,
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
  const files = proxyActivities<FilesActivities>({
    startToCloseTimeout: opts.filesTimeoutMs,
    retry: { initialInterval: '2s', maximumAttempts: opts.filesMaxAttempts, nonRetryableErrorTypes },
  });
  const gitCalls = summarised<Omit<GitActivities, 'githubOpenPullRequest'>>(git);
  const githubCalls = summarised<Pick<GitActivities, 'githubOpenPullRequest'>>(github);
  const resolveCalls = summarised<Pick<EngineActivities, 'engineResolve'>>(resolve);
  const runCalls = summarised<Pick<EngineActivities, 'engineRun'>>(run);
  return {
    linear: summarised<LinearActivities & LinearElicitation>(linear),
    engine: { engineResolve: resolveCalls.engineResolve, engineRun: runCalls.engineRun },
    git: {
      gitPrepareWorktree: gitCalls.gitPrepareWorktree,
      gitPublish: gitCalls.gitPublish,
      gitDescribe: gitCalls.gitDescribe,
      gitCleanup: gitCalls.gitCleanup,
      gitCommitAndPush: gitCalls.gitCommitAndPush,
      githubOpenPullRequest: githubCalls.githubOpenPullRequest,
    },
    files: summarised<FilesActivities>(files),
  };
}
