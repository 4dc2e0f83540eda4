// `kai worker` drains on SIGTERM: it stops polling, lets the activity in flight finish within
// limits.worker_shutdown_grace_s, and exits 0. It polls its own queues, named after
// KAI_WORKER_NAME.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { EngineRunResult } from '../../src/activities/types';
import { workerTaskQueue } from '../../src/names';
import { connectTestEnv, temporalAddress, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';

const ROOT = join(__dirname, '..', '..');
let env: TestEnv;
let dir: string;
beforeAll(async () => {
  env = await connectTestEnv();
  dir = mkdtempSync(join(tmpdir(), 'kai-drain-'));
});
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('kai worker, sent SIGTERM during an engine run on its own queue, lets the run finish and exits 0', async () => {
  const taskQueue = uniqueTaskQueue('drain');
  const started = join(dir, 'started');
  const config = join(dir, 'kai.toml');
  writeFileSync(
    config,
    [
      '[temporal]',
      `task_queue = "${taskQueue}"`,
      '[limits]',
      'worker_shutdown_grace_s = 30',
      '[engines.script]',
      `command = "touch ${started}; sleep 2; echo drained"`,
    ].join('\n'),
  );
  const proc = spawn(process.execPath, ['-r', './scripts/ts-register.js', 'bin/kai.js', 'worker'], {
    cwd: ROOT,
    env: { ...process.env, KAI_CONFIG: config, KAI_DATA_DIR: join(dir, 'data'), KAI_WORKER_NAME: 'drain-pod-0', TEMPORAL_ADDRESS: temporalAddress(), KAI_LOG_LEVEL: 'error', LINEAR_OAUTH_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const testQueue = uniqueTaskQueue('drain-client');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: testQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/engine-on-queue'), logger: quiet }),
  });
  try {
    const ownEngineQueue = workerTaskQueue(`${taskQueue}-engine`, 'drain-pod-0');
    await waitFor('the worker to poll', () => output.includes(ownEngineQueue) || proc.exitCode !== null, 60_000);
    expect(proc.exitCode).toBeNull();
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('engineOnQueue', { taskQueue: testQueue, workflowId: `drain-${taskQueue}`, args: [ownEngineQueue, dir] });
      await waitFor('the engine run to start', () => existsSync(started), 30_000);
      proc.kill('SIGTERM');
      return (await handle.result()) as EngineRunResult;
    });
    // the run in flight finished (its answer came back) although the worker was told to stop
    expect(result).toMatchObject({ ok: true, answer: 'drained' });
    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM');
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}, 120_000);
