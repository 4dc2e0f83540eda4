// SIGKILL of the worker process in the middle of a real engine run (real activities against the
// emulators, a real git repository): the engine dies with its worker (nobody ends it by hand),
// a new worker runs the engine again, and the session ends with one final response, one pull
// request, and the edits of one engine only.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineConfig, makeDemoRepository, type OfflineWorld } from '../../src/app/stack';
import { SessionClient } from '../../src/client';
import { startGitHubEmulator } from '../../src/emulator/github';
import { startLinearEmulator } from '../../src/emulator/linear';
import { issueWorkflowId } from '../../src/names';
import { sessionOptionsFromConfig } from '../../src/app/session-options';
import { startWebhookServer, webhookDepsFromConfig, type StartedWebhookServer } from '../../src/webhook';
import { forkReady } from '../harness/fork-ts';
import { connectTestEnv, temporalAddress, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';
import { DEMO_GREETING, DEMO_THANKS } from '../../src/cli/demo-engine';
import { faultConfig, processAlive, pullRequests, quietLogger, sessionView, writeStubbornEngine } from './helpers';

jest.setTimeout(120_000);

function startChild(configJson: string): Promise<ChildProcess> {
  return forkReady(join(__dirname, 'stack-worker-child.ts'), { KAI_FAULT_CONFIG: configJson });
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)));

let env: TestEnv;
let world: OfflineWorld;
let webhook: StartedWebhookServer;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) {
    c.kill('SIGKILL');
    await exited(c);
  }
  await webhook?.close();
  await world?.linear.stop();
  await world?.github.stop();
  await env?.close();
});

test('a worker SIGKILLed mid-engine is replaced and the session finishes with one final response and one PR', async () => {
  env = await connectTestEnv();
  const root = mkdtempSync(join(tmpdir(), 'kai-crash-real-'));
  const repository = 'kai-demo/app';
  const linear = await startLinearEmulator({ seed: { issueTitle: 'Survive a crash' } });
  const github = await startGitHubEmulator({ repos: [repository] });
  world = { linear, github, workspace: linear.workspace!, repository, ...makeDemoRepository(root) };
  const pidFile = join(root, 'engine.pid');
  const taskQueue = uniqueTaskQueue('crash-real');
  // Steps of 1.5 s: the demo engine edits README.md about 3 s after it starts, long after the
  // worker is killed (as soon as the engine has written its pid).
  // The engine carries on after its stdout closes, as a real engine does.
  const command = writeStubbornEngine(root);
  let config = offlineConfig(
    faultConfig(root, {
      engineStep: 1.5,
      pidFile,
      heartbeatTimeoutS: 2,
      adjust: (c) => ({ ...c, engines: { ...c.engines, script: { ...c.engines.script!, command } } }),
    }),
    world,
  );
  config = { ...config, temporal: { ...config.temporal, address: temporalAddress(), task_queue: taskQueue, engine_task_queue: undefined } };

  const sessions = new SessionClient(env.client, { taskQueue, sessionOptions: sessionOptionsFromConfig(config, `${taskQueue}-engine`) });
  webhook = await startWebhookServer(webhookDepsFromConfig(config, sessions, { logger: quietLogger(), appUserId: linear.state.appUser.id }), { host: '127.0.0.1', port: 0 });
  linear.setWebhookUrl(`${webhook.url}${config.transports.linear.webhook_path}`);

  const first = await startChild(JSON.stringify(config));
  children.push(first);
  const issue = world.workspace.issue;
  const { session, delivery } = await linear.startSession({ issueId: issue.id, send: true });
  expect(delivery?.status).toBe(200);
  await waitFor('the engine to start on the first worker', () => existsSync(pidFile), 30_000);
  const firstEngine = Number(readFileSync(pidFile, 'utf8'));
  expect(processAlive(firstEngine)).toBe(true);

  first.kill('SIGKILL');
  await exited(first);
  // The engine dies with its worker: no hand of the test ends it.
  await waitFor('the first engine to die with its worker', () => !processAlive(firstEngine), 20_000);
  const second = await startChild(JSON.stringify(config));
  children.push(second);

  const result = await env.client.workflow.getHandle(issueWorkflowId(issue.id)).result();
  expect(result.turns).toBe(1);
  expect(Number(readFileSync(pidFile, 'utf8'))).not.toBe(firstEngine); // the engine ran again on the new worker

  const view = sessionView(world, session.id);
  expect(view.acks).toBe(1);
  expect(view.errors).toEqual([]);
  expect(view.responses).toHaveLength(1);
  expect(view.responses[0]).toContain('Opened pull request');
  expect(pullRequests(world)).toHaveLength(1);
  // One engine's edits only: the greeting once, and no second turn's thanks from a surviving engine.
  const head = pullRequests(world)[0]!.head.ref;
  const readme = execFileSync('git', ['--git-dir', world.originPath, 'show', `${head}:README.md`], { encoding: 'utf8' });
  expect(readme.split(DEMO_GREETING).length - 1).toBe(1);
  expect(readme).not.toContain(DEMO_THANKS);
  expect(linear.state.states.get(linear.state.issue(issue.id).stateId)?.type).toBe('completed');
});
