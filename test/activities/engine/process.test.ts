// Containing an engine run: a descendant that calls setsid and keeps writing is ended on stop
// and when the engine exits; the engine dies with its worker (even on SIGKILL); and a run that
// outlived both its worker and its supervisor is ended before the next run in its worktree.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRunCgroup, removeRunCgroup, type EngineRunHandle } from '../../../src/activities/engine/process-group';
import { runEngineStream } from '../../../src/activities/engine/run-stream';
import { ScriptStreamParser } from '../../../src/activities/engine/script';
import { processAlive, tempDir, waitFor } from './helpers';

jest.setTimeout(60_000);

const probe = createRunCgroup(randomUUID());
const cgroupWritable = probe !== undefined;
removeRunCgroup(probe);

let tmp: ReturnType<typeof tempDir>;
const children: ChildProcess[] = [];
const strays: number[] = [];
beforeEach(() => {
  tmp = tempDir('kai-proc-');
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL'); // only when a test failed: never leave a writer behind
    } catch {
      // gone, as it should be
    }
  }
  tmp.cleanup();
});

const file = (name: string) => path.join(tmp.dir, name);
const readPid = (name: string) => Number(readFileSync(file(name), 'utf8').trim());
const sessionOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);

/** An engine that starts a setsid'd writer (its pid in desc.pid) and then does `then`. */
function engineWithSetsidWriter(then: string, clearEnv = false): string {
  const writer = `echo $$ > '${file('desc.pid')}'; while :; do echo x >> '${file('out.txt')}'; sleep 0.05; done`;
  // With clearEnv the writer also drops its environment and is orphaned (double fork): only a cgroup still holds it.
  const quoted = writer.replace(/["$]/g, (c) => `\\${c}`); // inside "...": the writer's own $$
  const start = clearEnv ? `setsid env -i /bin/sh -c "( ${quoted} ) & exit 0" &` : `setsid /bin/sh -c "${quoted}" &`;
  return `echo $$ > '${file('engine.pid')}'; ${start} while [ ! -s '${file('desc.pid')}' ]; do sleep 0.02; done; ${then}`;
}

/** Shell test: the process exists and is not a zombie (orphans wait for init to reap them). */
const liveCheck = (pid: string) => `[ -r /proc/${pid}/stat ] && [ "$(cut -d' ' -f3 /proc/${pid}/stat)" != Z ]`;

function script(command: string) {
  return new ScriptStreamParser(command, undefined);
}

function runScript(command: string, over: Partial<Parameters<typeof runEngineStream>[0]> = {}) {
  return runEngineStream({
    spec: { command: '/bin/sh', args: ['-c', command], cwd: tmp.dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    parser: script(command),
    emit: () => undefined,
    killGraceMs: 300,
    ...over,
  });
}

const modes: Array<'auto' | 'proc'> = ['auto', 'proc'];

describe.each(modes)('containment %s', (containment) => {
  it('Stop ends a descendant that called setsid and keeps writing', async () => {
    const abort = new AbortController();
    const command = engineWithSetsidWriter('sleep 1000');
    const done = runScript(command, { signal: abort.signal, containment });
    await waitFor(() => existsSync(file('desc.pid')) && existsSync(file('out.txt')), 20_000);
    const desc = readPid('desc.pid');
    const engine = readPid('engine.pid');
    strays.push(desc, engine);
    expect(sessionOf(desc)).not.toBe(sessionOf(engine)); // it really left the engine's session
    abort.abort();
    const outcome = await done;
    expect(outcome.cancelled).toBe(true);
    expect(processAlive(engine)).toBe(false);
    expect(processAlive(desc)).toBe(false);
  });

  it('an engine that exits leaves no setsid descendant behind', async () => {
    const command = engineWithSetsidWriter(`echo '{"type":"completed","ok":true,"answer":"done"}'`);
    const outcome = await runScript(command, { containment });
    expect(outcome.completion).toMatchObject({ ok: true, answer: 'done' });
    const desc = readPid('desc.pid');
    strays.push(desc);
    expect(processAlive(desc)).toBe(false);
  });

  it('the engine and its setsid descendant die with a SIGKILLed worker', async () => {
    const command = engineWithSetsidWriter('sleep 1000');
    const { child, run } = await startWorker(command, containment);
    await waitFor(() => existsSync(file('desc.pid')), 20_000);
    const desc = readPid('desc.pid');
    const engine = readPid('engine.pid');
    strays.push(desc, engine, run.pgid!);
    expect(processAlive(engine)).toBe(true);
    child.kill('SIGKILL');
    // No hand of the test ends them: the supervisor notices its worker is gone.
    await waitFor(() => !processAlive(engine) && !processAlive(desc) && !processAlive(run.pgid!), 20_000);
  });

  it('a run that outlived its worker and its supervisor is ended before the next run in its worktree starts', async () => {
    const command = engineWithSetsidWriter('sleep 1000');
    const { child, run } = await startWorker(command, containment);
    await waitFor(() => existsSync(file('desc.pid')), 20_000);
    const desc = readPid('desc.pid');
    const engine = readPid('engine.pid');
    strays.push(desc, engine);
    // Both at once: nothing is left to take the engine down.
    process.kill(run.pgid!, 'SIGKILL');
    child.kill('SIGKILL');
    await waitFor(() => !processAlive(run.pgid!), 10_000);
    expect(processAlive(engine)).toBe(true);
    expect(processAlive(desc)).toBe(true);

    const check = `for p in ${engine} ${desc}; do if ${liveCheck('$p')}; then echo "alive $p"; exit 1; fi; done; echo all-gone`;
    const outcome = await runScript(check, { containment });
    expect(outcome.completion).toMatchObject({ ok: true, answer: 'all-gone' });
    expect(processAlive(engine)).toBe(false);
    expect(processAlive(desc)).toBe(false);
  });
});

it('a run recorded in heartbeat details is ended before a retry starts, wherever that retry runs', async () => {
  const command = engineWithSetsidWriter('sleep 1000');
  const { child, run } = await startWorker(command, 'auto');
  await waitFor(() => existsSync(file('desc.pid')), 20_000);
  const desc = readPid('desc.pid');
  strays.push(desc);
  process.kill(run.pgid!, 'SIGKILL');
  child.kill('SIGKILL');
  await waitFor(() => !processAlive(run.pgid!), 10_000);
  expect(processAlive(desc)).toBe(true);
  const elsewhere = tempDir('kai-proc-retry-'); // another worktree: only the heartbeat knows the run
  try {
    const outcome = await runEngineStream({
      spec: { command: '/bin/sh', args: ['-c', `if ${liveCheck(String(desc))}; then echo alive; else echo gone; fi`], cwd: elsewhere.dir, env: { PATH: process.env.PATH } },
      parser: script('check'),
      emit: () => undefined,
      earlierRuns: [run],
      killGraceMs: 300,
    });
    expect(outcome.completion.answer).toBe('gone');
  } finally {
    elsewhere.cleanup();
  }
});

(cgroupWritable ? it : it.skip)('with a cgroup, a descendant that clears its environment and is orphaned is still ended', async () => {
  const command = engineWithSetsidWriter(`echo '{"type":"completed","ok":true,"answer":"done"}'`, true);
  const outcome = await runScript(command, { containment: 'auto' });
  expect(outcome.completion.ok).toBe(true);
  const desc = readPid('desc.pid');
  strays.push(desc);
  expect(processAlive(desc)).toBe(false);
});

function startWorker(command: string, containment: 'auto' | 'proc'): Promise<{ child: ChildProcess; run: EngineRunHandle }> {
  const child = fork(path.join(__dirname, '..', '..', 'harness', 'ts-child.js'), [path.join(__dirname, 'process-worker-child.ts')], {
    env: { ...process.env, KAI_TEST_ENGINE_COMMAND: command, KAI_TEST_ENGINE_CWD: tmp.dir, KAI_TEST_CONTAINMENT: containment },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.once('message', (run) => resolve({ child, run: run as EngineRunHandle }));
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before its engine started: ${stderr}`)));
  });
}
