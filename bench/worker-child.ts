// A kai worker in a process of its own, for the memory and crash benchmarks: the parent's
// world configuration, the prebuilt workflow bundle, the real activities. Reports its RSS to
// the parent every 100 ms over IPC and stops cleanly on SIGTERM or when the parent goes away.
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { createWorkersFromConfig } from '../src/app/worker';
import type { KaiConfig } from '../src/config/schema';
import { benchWorkerEnv } from './env';

export interface WorkerChildSpec {
  /** The world's configuration (JSON): its [temporal] names the bench's server, namespace and task queue. */
  configPath: string;
  bundlePath: string;
}

export type WorkerChildMessage = { type: 'ready' } | { type: 'rss'; rss: number };

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.KAI_BENCH_WORKER ?? '') as WorkerChildSpec;
  const config = JSON.parse(readFileSync(spec.configPath, 'utf8')) as KaiConfig;
  const logger = pino({ level: process.env.KAI_BENCH_LOG ?? 'error' }, pino.destination(2));
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  const workers = await createWorkersFromConfig({
    config,
    logger,
    env: benchWorkerEnv(process.env),
    workflowBundle: { code: readFileSync(spec.bundlePath, 'utf8') },
    shutdownGraceTime: '2s',
  });
  const send = (m: WorkerChildMessage) => process.send?.(m);
  const timer = setInterval(() => send({ type: 'rss', rss: process.memoryUsage().rss }), 100);
  const stop = () => workers.shutdown();
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  send({ type: 'ready' });
  await workers.run();
  clearInterval(timer);
  await workers.close();
  process.exit(0);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench worker failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
