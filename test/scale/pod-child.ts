// One kai "pod" in a process of its own, for the multi-pod test: a worker (what `kai worker`
// runs: createWorkersFromConfig with the real activities) or a webhook server (what `kai
// webhook` runs), on the configuration in the JSON file KAI_POD_CONFIG. A worker takes its data
// directory and HOME from its own environment (KAI_DATA_DIR, HOME), as a pod takes its volume;
// it uses the jest run's prebuilt workflow bundle instead of bundling at every start. Says
// `{ ready, url? }` over IPC once serving, and stops cleanly on SIGTERM.
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorkersFromConfig } from '../../src/app/worker';
import { sessionOptionsFromConfig } from '../../src/app/session-options';
import { SessionClient } from '../../src/client';
import type { KaiConfig } from '../../src/config/schema';
import { engineTaskQueueFor } from '../../src/names';
import { startWebhookServer, webhookDepsFromConfig } from '../../src/webhook';
import { quietLogger } from '../faults/helpers';
import { workflowBundle } from '../harness/temporal';

async function worker(config: KaiConfig): Promise<void> {
  const env = { ...process.env };
  delete env.LINEAR_OAUTH_TOKEN;
  delete env.GITHUB_TOKEN;
  for (const name of Object.keys(env)) if (name.startsWith('TEMPORAL_')) delete env[name];
  const workers = await createWorkersFromConfig({ config, logger: quietLogger(), env, workflowBundle: workflowBundle(), shutdownGraceTime: '3s' });
  process.on('SIGTERM', () => workers.shutdown());
  process.send?.({ ready: true });
  await workers.run();
  await workers.close();
}

async function webhook(config: KaiConfig): Promise<void> {
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = config.temporal.task_queue;
  const sessions = new SessionClient(client, { taskQueue, sessionOptions: sessionOptionsFromConfig(config, engineTaskQueueFor(taskQueue)) });
  const server = await startWebhookServer(webhookDepsFromConfig(config, sessions, { logger: quietLogger() }), { host: '127.0.0.1', port: 0 });
  process.on('SIGTERM', () => {
    void server.close().then(() => connection.close()).then(() => process.exit(0));
  });
  process.send?.({ ready: true, url: `${server.url.replace(/\/$/, '')}${config.transports.linear.webhook_path}` });
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = JSON.parse(readFileSync(process.env.KAI_POD_CONFIG!, 'utf8')) as KaiConfig;
  if (process.env.KAI_POD_ROLE === 'webhook') await webhook(config);
  else await worker(config);
}

main().catch((err) => {
  process.stderr.write(`pod child failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
