// A kai worker in its own process with the REAL activities (Linear and GitHub emulators, git,
// the script engine), configured by the parent through KAI_FAULT_CONFIG (a JSON KaiConfig).
import { createKaiActivities } from '../../src/app/activities';
import type { KaiConfig } from '../../src/config/schema';
import { connectTestEnv, startTestWorkers } from '../harness/temporal';
import { quietLogger } from './helpers';

async function main(): Promise<void> {
  const config = JSON.parse(process.env.KAI_FAULT_CONFIG!) as KaiConfig;
  // The emulators' credentials come from KAI_FAULT_CONFIG; a token in the developer's own
  // environment would take precedence and point the worker at real Linear or GitHub. Engines
  // never see either way: the engine-environment tests keep stand-in secrets in the worker's
  // environment and check that none reaches the engine.
  const env = { ...process.env };
  delete env.LINEAR_OAUTH_TOKEN;
  delete env.GITHUB_TOKEN;
  const { activities } = createKaiActivities(config, quietLogger(), env);
  const testEnv = await connectTestEnv();
  const workers = await startTestWorkers(testEnv, config.temporal.task_queue, activities);
  process.on('SIGTERM', () => workers.shutdown());
  process.send?.('ready');
  await workers.run();
  await testEnv.close();
}

main().catch((err) => {
  process.stderr.write(`stack worker child failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
