// One benchmark world: kai's Linear and GitHub emulators, a local repository with a bare
// origin, the configuration pointed at them (the script engine running the bench engine), a
// task queue of its own, and optionally in-process workers and kai's webhook server. Each
// session gets an issue of its own, so one session is one workflow.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { sessionOptionsFromConfig } from '../src/app/session-options';
import { makeDemoRepository, offlineConfig, type OfflineWorld } from '../src/app/stack';
import { SessionClient } from '../src/client';
import type { KaiConfig, LinearTransportConfig } from '../src/config/schema';
import { startGitHubEmulator } from '../src/emulator/github';
import { startLinearEmulator, type LinearEmulator } from '../src/emulator/linear';
import type { AgentSessionEventPayload, DeliveryResult } from '../src/emulator/linear/webhooks';
import type { SessionRec, IssueRec } from '../src/emulator/linear/store';
import { engineTaskQueueFor, issueWorkflowId } from '../src/names';
import type { Pool } from 'pg';
import { startGatewayServer } from '../src/ingest';
import { startWebhookServer, webhookDepsFromConfig, type RunningServer, type StartedWebhookServer } from '../src/webhook';
import { createWorkersFromConfig } from '../src/app/worker';
import type { BenchContext } from './context';
import { benchWorkerEnv } from './env';
import { writeBenchEngine } from './engine-script';
import { runPool } from './stats';

export interface WorldOptions {
  name: string;
  /** Run kai's workers in this process (default true). */
  workers?: boolean;
  /** Start kai's webhook server (default true). */
  webhook?: boolean;
  transport?: Partial<LinearTransportConfig>;
  limits?: Partial<KaiConfig['limits']>;
}

export interface BenchSession {
  issue: IssueRec;
  session: SessionRec;
  payload: AgentSessionEventPayload;
  deliveryId: string;
}

export interface BenchWorld {
  name: string;
  taskQueue: string;
  config: KaiConfig;
  linear: LinearEmulator;
  sessions: SessionClient;
  webhook?: StartedWebhookServer;
  /** Where kai's webhook server takes Linear's deliveries. */
  webhookUrl?: string;
  /** A new issue delegated to kai and its agent session; the `created` webhook is not sent yet. */
  newSession(title: string, opts?: { mention?: string }): BenchSession;
  /** Posts the session's `created` webhook (signed as Linear does) to `url`. */
  deliver(url: string, s: BenchSession): Promise<DeliveryResult>;
  /** When kai's acknowledgement was stored at the emulator (epoch ms), if it was. */
  ackAt(sessionId: string): number | undefined;
  /** When the final response (or error) was stored, if it was. */
  finalAt(sessionId: string): number | undefined;
  handle(issueId: string): WorkflowHandle;
  /** Terminates the workflows of every session this world made. */
  terminateAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchWorld(ctx: BenchContext, opts: WorldOptions): Promise<BenchWorld> {
  const stops: Array<() => Promise<unknown> | unknown> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
  };
  try {
    const dir = join(ctx.root, `${opts.name}-${randomUUID().slice(0, 6)}`);
    mkdirSync(dir, { recursive: true });
    const taskQueue = `bench-${opts.name}-${randomUUID().slice(0, 8)}`;
    const repository = 'kai-bench/app';
    const github = await startGitHubEmulator({ repos: [repository] });
    stops.push(() => github.stop());
    const linear = await startLinearEmulator({ seed: false });
    stops.push(() => linear.stop());
    const workspace = linear.seed({ issueTitle: 'Bench workspace issue' });
    const { repoPath, originPath } = makeDemoRepository(dir);
    const offline: OfflineWorld = { linear, github, workspace, repoPath, originPath, repository };

    const base = ctx.baseConfig;
    let config = offlineConfig(
      { ...base, temporal: { ...base.temporal, address: ctx.temporalAddress, task_queue: taskQueue, engine_task_queue: undefined } },
      offline,
    );
    config = {
      ...config,
      default_engine: 'script',
      engines: { ...config.engines, script: { args: [], env: {}, command: writeBenchEngine(dir) } },
      transports: { ...config.transports, linear: { ...config.transports.linear, ...opts.transport } },
      limits: { ...config.limits, ...opts.limits },
      plugins: { ...config.plugins, linear: { ...config.plugins.linear, event_prioritization_enabled: true } },
    };
    const engineTaskQueue = engineTaskQueueFor(taskQueue);
    const sessions = new SessionClient(ctx.client, { taskQueue, sessionOptions: sessionOptionsFromConfig(config, engineTaskQueue) });

    if (opts.workers !== false) {
      const workers = await createWorkersFromConfig({
        config,
        logger: ctx.logger,
        env: benchWorkerEnv(process.env),
        connection: ctx.nativeConnection,
        workflowBundle: ctx.workflowBundle,
        shutdownGraceTime: '2s',
      });
      const running = workers.run().catch((err) => ctx.logger.error({ err }, 'bench worker stopped'));
      stops.push(async () => {
        workers.shutdown();
        await running;
      });
    }

    let webhook: StartedWebhookServer | undefined;
    let webhookUrl: string | undefined;
    if (opts.webhook !== false) {
      webhook = await startWebhookServer(
        webhookDepsFromConfig(config, sessions, { logger: ctx.logger, appUserId: linear.state.appUser.id }),
        { host: '127.0.0.1', port: 0 },
      );
      stops.push(() => webhook!.close());
      webhookUrl = `${webhook.url.replace(/\/$/, '')}${config.transports.linear.webhook_path}`;
    }

    const issueIds: string[] = [];
    const store = linear.state;
    const humanId = workspace.user.id;
    const firstBy = (sessionId: string, types: string[]): number | undefined => {
      for (const id of store.sessionActivities.get(sessionId) ?? []) {
        const a = store.activities.get(id);
        if (a && types.includes(a.content.type)) return Date.parse(a.createdAt);
      }
      return undefined;
    };

    const world: BenchWorld = {
      name: opts.name,
      taskQueue,
      config,
      linear,
      sessions,
      webhook,
      webhookUrl,
      newSession(title, o = {}) {
        const issue = store.addIssue({
          teamId: workspace.team.id,
          title,
          description: 'Delegated to kai by the benchmark.',
          stateType: 'backlog',
          priority: 3,
          projectId: workspace.project.id,
          cycleId: workspace.cycle.id,
          creatorId: humanId,
          delegateId: store.appUser.id,
        });
        issueIds.push(issue.id);
        // A mention (an @kai comment) becomes the session's message; otherwise the issue is.
        const comment = o.mention ? store.addComment({ issueId: issue.id, body: o.mention, userId: humanId }) : undefined;
        const session = store.addSession({ issueId: issue.id, creatorId: humanId, commentId: comment?.id });
        return { issue, session, payload: linear.webhooks.agentSessionCreated(session), deliveryId: randomUUID() };
      },
      deliver(url, s) {
        return linear.webhooks.send(url, s.payload, { deliveryId: s.deliveryId });
      },
      ackAt: (sessionId) => firstBy(sessionId, ['thought', 'action', 'elicitation', 'response', 'error']),
      finalAt: (sessionId) => firstBy(sessionId, ['response', 'error']),
      handle: (issueId) => ctx.client.workflow.getHandle(issueWorkflowId(issueId)),
      async terminateAll() {
        const ids = issueIds.splice(0);
        await runPool(ids.length, 16, async (i) => {
          await ctx.client.workflow
            .getHandle(issueWorkflowId(ids[i]!))
            .terminate('benchmark finished')
            .catch(() => undefined);
        });
      },
      async stop() {
        await world.terminateAll();
        await stopAll();
      },
    };
    return world;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** kai's gateway on a free loopback port in front of the bench database, and its webhook URL. */
export async function startBenchGateway(ctx: BenchContext, world: BenchWorld, pool: Pool): Promise<{ server: RunningServer; url: string }> {
  const path = world.config.transports.linear.webhook_path;
  const server = await startGatewayServer({ pool, secret: world.linear.webhookSecret, logger: ctx.logger, path }, { host: '127.0.0.1', port: 0 });
  return { server, url: `${server.url.replace(/\/$/, '')}${path}` };
}

