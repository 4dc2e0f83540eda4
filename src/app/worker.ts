// kai's workers for one configuration: the activities wired from it, on its task queues, with its
// limits. The one place a worker is started from configuration: `kai worker`, the local stack
// (`kai dev`, `kai demo`), the benchmark and the benchmark's worker child all call it.
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { KaiConfig } from '../config/schema';
import { connectWorker, temporalSettings, type TemporalSettings } from '../temporal/connect';
import { createKaiWorkers, type KaiWorkers } from '../worker';
import { createKaiActivities, type WiredActivities } from './activities';

export interface ConfiguredWorkerOptions {
  config: KaiConfig;
  logger: Logger;
  /** Where the activities find credentials (LINEAR_OAUTH_TOKEN, GITHUB_TOKEN, ...) and Temporal
   *  its TEMPORAL_* overrides; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** An open connection to share; otherwise one is opened from the configuration (and closed by close()). */
  connection?: NativeConnection;
  /** A prebuilt workflow bundle; built from source when absent. */
  workflowBundle?: WorkflowBundle;
  /** How long a shutdown waits for activities in flight; limits.worker_shutdown_grace_s by default. */
  shutdownGraceTime?: string | number;
}

export interface ConfiguredWorkers extends KaiWorkers {
  settings: TemporalSettings;
  connection: NativeConnection;
  wired: WiredActivities;
  /** Closes the connection if it was opened here; call after run() has returned. */
  close(): Promise<void>;
}

export async function createWorkersFromConfig(opts: ConfiguredWorkerOptions): Promise<ConfiguredWorkers> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const settings = temporalSettings(config, env);
  const connection = opts.connection ?? (await connectWorker(settings));
  try {
    const wired = createKaiActivities(config, opts.logger, env);
    const workers = await createKaiWorkers({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      engineTaskQueue: settings.engineTaskQueue,
      workerName: settings.workerName,
      activities: wired.activities,
      concurrentEngineRuns: config.limits.concurrent_engine_runs,
      workflowBundle: opts.workflowBundle,
      shutdownGraceTime: opts.shutdownGraceTime ?? config.limits.worker_shutdown_grace_s * 1000,
    });
    return {
      ...workers,
      settings,
      connection,
      wired,
      close: async () => {
        if (!opts.connection) await connection.close();
      },
    };
  } catch (err) {
    if (!opts.connection) await connection.close().catch(() => undefined);
    throw err;
  }
}
