// One kai worker "pod" in a process of its own, for the multi-pod test: what `kai worker` runs
// (createWorkersFromConfig with the real activities) on the configuration in the JSON file
// KAI_POD_CONFIG. It takes its name, data directory and HOME from its own environment
// (KAI_WORKER_NAME, KAI_DATA_DIR, HOME), as a pod takes its name and volume, and uses the jest
// run's prebuilt workflow bundle instead of bundling at every start. Says so over IPC once
// polling, and drains on SIGTERM.
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorkersFromConfig } from '../../src/app/worker';
import type { KaiConfig } from '../../src/config/schema';
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

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = JSON.parse(readFileSync(process.env.KAI_POD_CONFIG!, 'utf8')) as KaiConfig;
  await worker(config);
}

main().catch((err) => {
  process.stderr.write(`pod child failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
