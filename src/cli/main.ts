// `kai`: one command per process role, each wiring the configuration to the pieces it runs.
// The emulators, the local stack, the demo and the benchmark are loaded only by the commands that
// use them (`require` inside the action), so a production `kai worker` never loads them.
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { Pool } from 'pg';
import { SessionClient } from '../client';
import { configCheck, loadConfig, type KaiConfig } from '../config';
import { ConfigError } from '../config/errors';
import { LinearAuthError, runLinearAuthorization } from '../config/linear-auth';
import { configureLogging, createKaiMetrics, installTemporalRuntime, setKaiMetrics, startOpsServer } from '../observability';
import type { ReadinessCheck, ReadinessReport } from '../observability/http';
import type { Logger } from 'pino';
import { closeClient, connectClient, temporalSettings } from '../temporal/connect';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { createWorkersFromConfig } from '../app/worker';
import { errorText, withTimeout } from '../util';
import { sessionOptionsFromConfig } from '../app/session-options';
import { gatewayDepsFromConfig, migrate, startGatewayServer, startIngester, ingesterDepsFromConfig, type Ingester } from '../ingest';
import { resolveSigningSecret, startWebhookServer, webhookDepsFromConfig } from '../webhook';
import { loadBench } from './bench';
import { runDoctor } from './doctor';
import { engineParse } from './engine-parse';
import { printSessions, printStatus } from './inspect';
import { onShutdown, waitForShutdown } from './shutdown';

export { warnIfEndOfLifeNode } from './node-version';

interface GlobalOpts {
  config?: string;
}

function load(cmd: Command): KaiConfig {
  const opts = cmd.optsWithGlobals<GlobalOpts>();
  return loadConfig({ path: opts.config });
}

/** Logging and the process's metrics registry, labelled with the process role. */
function setupProcess(config: KaiConfig, component: string, dev = false) {
  setKaiMetrics(createKaiMetrics({ defaultMetrics: true, defaultLabels: { component } }));
  return configureLogging(config, { dev, component });
}

function listenOptions(config: KaiConfig, opts: { host?: string; port?: string }): { host: string; port: number } {
  const port = opts.port !== undefined ? Number(opts.port) : config.transports.linear.webhook_port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('the command line', [`--port: expected a port number 0-65535, found "${opts.port}".`]);
  return { host: opts.host ?? config.transports.linear.webhook_host, port };
}

function databaseUrl(config: KaiConfig): string {
  const url = config.database.url ?? config.transports.linear.gateway_database_url;
  if (!url) {
    throw new ConfigError('the configuration', [
      'database.url: the gateway, the ingester and migrations need PostgreSQL. Set DATABASE_URL, database.url or transports.linear.gateway_database_url.',
    ]);
  }
  return url;
}

/** The ingester can do its job: not draining, and the events table's database answers. */
async function ingesterReadiness(pool: Pool, ingester: Ingester, draining: boolean): Promise<ReadinessReport> {
  const database = await withTimeout(pool.query('SELECT 1'), 2_000).then(
    () => 'ok',
    (err) => `unavailable: ${errorText(err, { firstLine: true, maxChars: 200 })}`,
  );
  return { ready: !draining && database === 'ok', database, listening: ingester.stats().listening };
}

/** Serves /metrics, /healthz and /readyz on `--metrics-port` or [metrics] port, when either is
 *  set, and closes them on shutdown. */
async function serveOps(config: KaiConfig, portOption: string | undefined, ready: ReadinessCheck, logger: Logger): Promise<void> {
  const port = portOption ?? config.metrics.port;
  if (port === undefined) return;
  const ops = await startOpsServer({ host: config.metrics.host, port: Number(port), ready });
  onShutdown(() => ops.close());
  logger.info({ url: ops.url }, 'metrics and health endpoints');
}

async function sessionClientFor(config: KaiConfig): Promise<SessionClient> {
  const settings = temporalSettings(config);
  const client = await connectClient(settings);
  onShutdown(() => closeClient(client));
  return new SessionClient(client, {
    taskQueue: settings.taskQueue,
    sessionOptions: sessionOptionsFromConfig(config, settings.engineTaskQueue),
  });
}

export function buildProgram(): Command {
  const program = new Command('kai')
    .description('Put AI coding agents to work from Linear: one durable Temporal workflow per issue.')
    .addOption(new Option('-c, --config <path>', 'kai.toml to use (default: $KAI_CONFIG, then ./kai.toml)'))
    .showHelpAfterError();

  program
    .command('dev')
    .description('Run kai on this machine: a Temporal dev server kept under .kai/, a worker and the webhook server. Without a Linear token, runs offline against kai\'s emulators.')
    .option('--host <host>', 'webhook server address', '127.0.0.1')
    .option('--port <port>', 'webhook server port (default: webhook_port)')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .option('--state-dir <dir>', 'where the dev server keeps its state', '.kai')
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const logger = setupProcess(config, 'dev', true);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const { startLocalStack } = require('../app/stack') as typeof import('../app/stack');
      const stack = await startLocalStack({
        config,
        logger,
        dbFile: resolve(opts.stateDir, 'temporal.db'),
        temporalPort: 7233,
        ui: { port: Number(opts.uiPort) },
        webhook: listenOptions(config, opts),
        workDir: resolve(opts.stateDir, 'offline'),
        say,
      });
      onShutdown(() => stack.stop());
      say('');
      say(`kai is running. Temporal Web UI: ${stack.temporal.uiUrl}`);
      if (stack.offline) {
        say(`Offline mode: try a session with \`kai demo --temporal ${stack.temporal.address}\` in another terminal, or send webhooks to ${stack.webhook?.url}.`);
      }
      say('Press Ctrl-C to stop.');
      await waitForShutdown();
    });

  program
    .command('worker')
    .description('Run a kai worker: session workflows, Linear/git activities and engine runs (TEMPORAL_ADDRESS / [temporal]; KAI_WORKER_NAME names its own queues). SIGTERM drains: polling stops, running activities get limits.worker_shutdown_grace_s.')
    .option('--metrics-port <port>', "serve kai's /metrics, /healthz and /readyz on this port (default: metrics.port)")
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const logger = setupProcess(config, 'worker');
      installTemporalRuntime({ metricsBindAddress: config.temporal.metrics_bind_address, logger, globalTags: { service: 'kai-worker' } });
      const settings = temporalSettings(config);
      const client = await connectClient(settings);
      const added = await ensureSearchAttributes(client, settings.namespace);
      if (added.length) logger.info({ added }, 'registered kai search attributes');
      const workers = await createWorkersFromConfig({ config, logger });
      await serveOps(config, opts.metricsPort, () => workers.session.getState() === 'RUNNING', logger);
      onShutdown(() => workers.shutdown());
      const own = workers.queues;
      logger.info(
        { address: settings.address, namespace: settings.namespace, taskQueue: settings.taskQueue, engineTaskQueue: settings.engineTaskQueue, worker: own.worker, ownTaskQueue: own.taskQueue, ownEngineTaskQueue: own.engineTaskQueue },
        'worker running',
      );
      process.stdout.write(
        `kai worker ${own.worker} polling ${settings.taskQueue} and ${settings.engineTaskQueue}, and its own ${own.taskQueue} and ${own.engineTaskQueue}, on ${settings.address} (namespace ${settings.namespace}).\n`,
      );
      await workers.run();
      await workers.close();
      await closeClient(client);
    });

  program
    .command('webhook')
    .description("Receive Linear's webhooks, verify them and signal the issue workflows (direct ingress).")
    .option('--host <host>', 'address to listen on (default: webhook_host)')
    .option('--port <port>', 'port to listen on (default: webhook_port)')
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const logger = setupProcess(config, 'webhook');
      const sessions = await sessionClientFor(config);
      const server = await startWebhookServer(webhookDepsFromConfig(config, sessions, { logger }), listenOptions(config, opts));
      onShutdown(() => server.close());
      process.stdout.write(`kai webhook listening on ${server.url}${config.transports.linear.webhook_path}\n`);
      await waitForShutdown();
    });

  program
    .command('gateway')
    .description('Receive Linear\'s webhooks, verify them and store them in the PostgreSQL events table (kai-gateway compatible).')
    .option('--host <host>', 'address to listen on (default: webhook_host)')
    .option('--port <port>', 'port to listen on (default: webhook_port)')
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const logger = setupProcess(config, 'gateway');
      const pool = new Pool({ connectionString: databaseUrl(config), max: 10 });
      onShutdown(() => pool.end());
      const server = await startGatewayServer(gatewayDepsFromConfig(config, pool, { logger }), listenOptions(config, opts));
      onShutdown(() => server.close());
      process.stdout.write(`kai gateway listening on ${server.url}${config.transports.linear.webhook_path}\n`);
      await waitForShutdown();
    });

  program
    .command('ingest')
    .description('Claim events from the PostgreSQL events table and signal the issue workflows (outbound connections only).')
    .option('--metrics-port <port>', "serve kai's /metrics, /healthz and /readyz on this port (default: metrics.port)")
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const logger = setupProcess(config, 'ingest');
      const pool = new Pool({ connectionString: databaseUrl(config), max: 4 });
      const sessions = await sessionClientFor(config);
      // The ops server starts here, as the worker's does, not inside the ingester.
      const ingester = startIngester(ingesterDepsFromConfig(config, pool, sessions, { logger, ops: undefined }));
      let draining = false;
      onShutdown(async () => {
        draining = true;
        await ingester.stop();
        await pool.end();
      });
      await serveOps(config, opts.metricsPort, () => ingesterReadiness(pool, ingester, draining), logger);
      onShutdown(() => void (draining = true)); // runs first: /readyz says so while the rest stops
      process.stdout.write(`kai ingest running (every ${config.transports.linear.poll_interval}s, or at once on NOTIFY).\n`);
      await waitForShutdown();
    });

  program
    .command('migrate')
    .description('Create or upgrade the events table (idempotent; adopts a table made by the original kai-gateway).')
    .action(async (_opts, cmd: Command) => {
      const config = load(cmd);
      const pool = new Pool({ connectionString: databaseUrl(config), max: 2 });
      try {
        const result = await migrate(pool);
        process.stdout.write(
          result.applied.length ? `Applied migrations ${result.applied.join(', ')}; schema at version ${result.current}.\n` : `Schema up to date (version ${result.current}).\n`,
        );
      } finally {
        await pool.end();
      }
    });

  program
    .command('demo')
    .description('Run one whole session offline: emulated Linear and GitHub, a local repository, the script engine; prints the Linear transcript.')
    .option('--json', 'print one JSON object instead of the transcript')
    .option('--keep', 'keep everything running afterwards so the Web UI stays browsable (Ctrl-C to end)')
    .option('--temporal <address>', 'use this Temporal server instead of starting a dev server')
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const { runDemo } = require('./demo') as typeof import('./demo');
      process.exitCode = await runDemo({ config, json: Boolean(opts.json), keep: Boolean(opts.keep), temporalAddress: opts.temporal });
    });

  program
    .command('doctor')
    .description(
      'Check that everything kai needs is in place: Temporal and its namespace, search attributes, the Linear token and its scopes, ' +
        'the webhook secret, engines, git and the project repositories, the GitHub token, and PostgreSQL when configured. ' +
        'One pass/fail line per check, with a fix; exits 1 when a required check fails.',
    )
    .option('--timeout <seconds>', 'bound on each check', '5')
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const seconds = Number(opts.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new ConfigError('the command line', [`--timeout: expected a number of seconds greater than 0, found "${opts.timeout}".`]);
      process.exitCode = await runDoctor({ config, timeoutMs: seconds * 1000, print: (line: string) => process.stdout.write(`${line}\n`) });
    });

  program
    .command('status')
    .argument('<issue>', 'issue identifier (ENG-123) or Linear issue id')
    .description("Show an issue's session: phase, queue, engine, PR, last error, and its Temporal Web UI link.")
    .option('--json', 'print JSON')
    .action(async (issue: string, opts, cmd: Command) => {
      const config = load(cmd);
      const settings = temporalSettings(config);
      const client = await connectClient(settings);
      try {
        process.exitCode = await printStatus(client, settings, issue, Boolean(opts.json));
      } finally {
        await closeClient(client);
      }
    });

  program
    .command('sessions')
    .description("List kai's sessions through Temporal visibility (kai's search attributes).")
    .option('--all', 'include sessions that have ended')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (opts, cmd: Command) => {
      const config = load(cmd);
      const settings = temporalSettings(config);
      const client = await connectClient(settings);
      try {
        await printSessions(client, settings, { all: Boolean(opts.all), limit: Number(opts.limit) });
      } finally {
        await closeClient(client);
      }
    });

  const engine = program.command('engine').description('Engine tools: turn a recorded engine stream into kai\'s events (`kai engine parse`).');
  engine
    .command('parse')
    .description("Read a recorded engine stream (JSONL; stdin when no file) and print kai's normalized events as JSONL.")
    .requiredOption('--engine <name>', 'claude, codex or opencode')
    .argument('[file]', 'recorded stream')
    .action(async (file: string | undefined, opts) => {
      const input = file ? createReadStream(file) : process.stdin;
      const summary = await engineParse(opts.engine, input, process.stdout, (m) => process.stderr.write(`warning: ${m}\n`));
      process.stderr.write(`${summary.lines} lines, ${summary.events} events, ${summary.skipped} skipped\n`);
    });

  const emulator = program.command('emulator').description("Run one of kai's loopback emulators (for tests and offline use).");
  emulator
    .command('linear')
    .description('The Linear GraphQL API emulator with a seeded workspace, on 127.0.0.1.')
    .option('--port <port>', 'port (0 = any free port)', '0')
    .option('--webhook-url <url>', 'where it sends webhooks')
    .action(async (opts) => {
      const { startLinearEmulator } = require('../emulator/linear') as typeof import('../emulator/linear');
      const emu = await startLinearEmulator({ port: Number(opts.port), seed: true, webhookUrl: opts.webhookUrl });
      onShutdown(() => emu.stop());
      process.stdout.write(`Linear emulator: ${emu.url} (state: ${emu.baseUrl}/_emulator/state, webhook secret: set LINEAR_WEBHOOK_SECRET from ${emu.baseUrl}/_emulator/state)\n`);
      await waitForShutdown();
    });
  emulator
    .command('github')
    .description('The GitHub REST emulator (pull requests), on 127.0.0.1.')
    .option('--port <port>', 'port (0 = any free port)', '0')
    .action(async (opts) => {
      const { startGitHubEmulator } = require('../emulator/github') as typeof import('../emulator/github');
      const emu = await startGitHubEmulator({ port: Number(opts.port) });
      onShutdown(() => emu.stop());
      process.stdout.write(`GitHub emulator: ${emu.url} (state: ${emu.url}/_emulator/state)\n`);
      await waitForShutdown();
    });

  const config = program.command('config').description('Configuration tools: validate kai.toml and print the effective settings (`kai config check`).');
  config
    .command('check')
    .description('Validate the configuration and print the effective settings, secrets masked.')
    .option('--json', 'print JSON instead of TOML')
    .action((opts, cmd: Command) => {
      const result = configCheck({ path: cmd.optsWithGlobals<GlobalOpts>().config, format: opts.json ? 'json' : 'toml' });
      (result.ok ? process.stdout : process.stderr).write(result.output);
      process.exitCode = result.exitCode;
    });

  const auth = program.command('auth').description('Credentials: install kai\'s Linear app and store its tokens (`kai auth linear`).');
  auth
    .command('linear')
    .description('Install your Linear app (actor=app) through the OAuth authorization-code flow and store its tokens for kai.')
    .action(async (_opts, cmd: Command) => {
      const cfg = load(cmd);
      const result = await runLinearAuthorization({ config: cfg, print: (line) => process.stdout.write(`${line}\n`) });
      process.stdout.write(`Stored Linear tokens in ${result.tokenFile} (scopes: ${result.scope}). kai renews them from the refresh token.\n`);
    });

  program
    .command('bench')
    .description('Run the benchmarks (latency, throughput, requests and history per session, memory, engine runs over 1-3 workers, the Temporal server ceiling, Stop latency) and write bench/results.json. Runs in a checkout of kai (bench/ is not part of the build or the image).')
    .option('--quick', 'smaller counts, for a smoke run')
    .action(async (opts, cmd: Command) => {
      const cfg = load(cmd);
      const { runBench } = loadBench();
      process.exitCode = await runBench({ config: cfg, quick: Boolean(opts.quick) });
    });

  return program;
}

/** Runs kai. Tests pass a program built with `exitOverride()` so commander reports instead of exiting. */
export async function main(argv: string[] = process.argv, program: Command = buildProgram()): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the help or the usage error.
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof ConfigError || err instanceof LinearAuthError) {
      process.stderr.write(`kai: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`kai: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
