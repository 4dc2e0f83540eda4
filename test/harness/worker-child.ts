// A worker in its own process with recording fake activities, for the crash test: calls are
// appended to KAI_CALLS_FILE so the test sees them across the worker being killed.
import { appendFileSync } from 'node:fs';
import { FakeActivities } from './fake-activities';
import { connectTestEnv, startTestWorkers } from './temporal';

async function main(): Promise<void> {
  const callsFile = process.env.KAI_CALLS_FILE!;
  const taskQueue = process.env.KAI_TASK_QUEUE!;
  const fakes = new FakeActivities();
  fakes.engineDurationMs = Number(process.env.KAI_FAKE_ENGINE_MS ?? 0);
  fakes.onCall = (call) => appendFileSync(callsFile, JSON.stringify({ ...call, pid: process.pid }) + '\n');
  if (process.env.KAI_ISSUE_ID) fakes.issue = { ...fakes.issue, id: process.env.KAI_ISSUE_ID };
  const env = await connectTestEnv();
  const workers = await startTestWorkers(env, taskQueue, fakes.activities());
  process.on('SIGTERM', () => workers.shutdown());
  process.send?.('ready');
  await workers.run();
  await env.close();
}

main().catch((err) => {
  process.stderr.write(`worker child failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
