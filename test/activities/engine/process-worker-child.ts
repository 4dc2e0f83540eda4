// A stand-in worker for the process tests: runs one engine through runEngineStream and tells
// the parent (IPC) the run's identity once the engine is up, so the test can SIGKILL it.
import { runEngineStream } from '../../../src/activities/engine/run-stream';
import { ScriptStreamParser } from '../../../src/activities/engine/script';

async function main(): Promise<void> {
  const command = process.env.KAI_TEST_ENGINE_COMMAND!;
  await runEngineStream({
    spec: { command: '/bin/sh', args: ['-c', command], cwd: process.env.KAI_TEST_ENGINE_CWD!, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    parser: new ScriptStreamParser(command, undefined),
    emit: () => undefined,
    containment: process.env.KAI_TEST_CONTAINMENT === 'proc' ? 'proc' : 'auto',
    onRun: (run) => process.send?.(run),
  });
}

main().catch((err) => {
  process.stderr.write(`process worker child failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
