// kai run as several pods would run it, on one machine: three worker processes, each with its
// own name, data directory and HOME (its "volume"), two `kai webhook` processes, and nothing shared between
// them but the Temporal server and one remote, a bare repository (`[projects.app] url =
// "file://…"`). Linear and GitHub are kai's emulators; the engine is a script that records the
// worker it ran on, its pid and its turn. Processes are SIGTERMed (a rolling deploy) or
// SIGKILLed (a lost pod); every engine of a process that is gone must be gone too (kai's engine
// containment, never the test's hand). Counted exactly: one final response per turn, one pull
// request per issue, every turn's change on the issue's one branch on the remote.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyToml } from 'smol-toml';
import { makeDemoRepository, offlineConfig } from '../../src/app/stack';
import { defaultConfig, type KaiConfig } from '../../src/config/schema';
import { startGitHubEmulator, type GitHubEmulator } from '../../src/emulator/github';
import { startLinearEmulator, type LinearEmulator } from '../../src/emulator/linear';
import type { IssueRec, SessionRec } from '../../src/emulator/linear/store';
import { issueWorkflowId } from '../../src/names';
import { statusQuery } from '../../src/workflows/signals';
import { processAlive } from '../activities/engine/helpers';
import { connectTestEnv, temporalAddress, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';

jest.setTimeout(180_000);

const REPOSITORY = 'kai-scale/app';
const WORKERS = ['w1', 'w2', 'w3'] as const;

/**
 * The engine: streams a thought every 100 ms for `ms=<n>` of its prompt, then appends
 * "turn <id>" (`turn=<id>` of its prompt) to TURNS.md and answers with the worker it ran on.
 * At start it writes its pid to MP_PIDS/<worker>-<pid> (content: its turn id, working directory
 * and the resume token kai gave it). It keeps the conversation it is given (KAI_RESUME_TOKEN),
 * else starts one named after its turn.
 */
const ENGINE = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const prompt = process.env.KAI_PROMPT || '';
const ms = Number((/ms=(\d+)/.exec(prompt) || [])[1] || 300);
const turn = (/turn=(\S+)/.exec(prompt) || [])[1] || '?';
const worker = process.env.MP_WORKER;
fs.writeFileSync(path.join(process.env.MP_PIDS, worker + '-' + process.pid), JSON.stringify({ turn, cwd: process.cwd(), resume: process.env.KAI_RESUME_TOKEN || '' }));
const out = (e) => process.stdout.write(JSON.stringify(e) + '\n');
const sleep = (t) => new Promise((r) => setTimeout(r, t));
(async () => {
  out({ type: 'started', resumeToken: process.env.KAI_RESUME_TOKEN || 'conversation-' + turn });
  for (let t = 0; t < ms; t += 100) {
    out({ type: 'thought', text: 'Working on turn ' + turn });
    await sleep(100);
  }
  fs.appendFileSync('TURNS.md', 'turn ' + turn + '\n');
  out({ type: 'completed', ok: true, answer: 'Did turn ' + turn + ' on worker=' + worker + '.' });
})();
`;

interface Pod {
  name: string;
  role: 'worker' | 'webhook';
  proc: ChildProcess;
  /** The webhook's URL (webhook pods). */
  url?: string;
}

let env: TestEnv;
let linear: LinearEmulator;
let github: GitHubEmulator;
let root: string;
let originPath: string;
let pidsDir: string;
let taskQueue: string;
let base: KaiConfig;
const pods = new Map<string, Pod>();
const issues: IssueRec[] = [];

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));

/** The configuration file of one pod: the shared one, with the worker's name in its engine env. */
function configFor(name: string, format: 'json' | 'toml'): string {
  const script = base.engines.script!;
  const config: KaiConfig = { ...base, engines: { ...base.engines, script: { ...script, env: { ...script.env, MP_WORKER: name, MP_PIDS: pidsDir } } } };
  const file = join(root, `${name}.config.${format}`);
  // Through JSON first: TOML has no undefined.
  const plain = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  writeFileSync(file, format === 'json' ? JSON.stringify(plain) : stringifyToml(plain), { mode: 0o600 });
  return file;
}

/** Starts (or restarts, with the same data directory and HOME) the pod `name`. */
async function startPod(name: string, role: Pod['role']): Promise<Pod> {
  const home = join(root, name, 'home');
  const data = join(root, name, 'data');
  mkdirSync(home, { recursive: true });
  mkdirSync(data, { recursive: true });
  const pod = role === 'worker' ? await startWorker(name, home, data) : await startWebhook(name, home);
  pods.set(name, pod);
  return pod;
}

async function startWorker(name: string, home: string, data: string): Promise<Pod> {
  const proc = fork(join(__dirname, '..', 'harness', 'ts-child.js'), [join(__dirname, 'pod-child.ts')], {
    // A worker's name is its pod's: its own task queues, where the issues it holds run, are named after it.
    env: { ...process.env, KAI_POD_CONFIG: configFor(name, 'json'), KAI_DATA_DIR: data, HOME: home, KAI_WORKER_NAME: name },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before it was ready: ${stderr}`)));
  });
  return { name, role: 'worker', proc };
}

/** `kai webhook` itself, on a free port, with its configuration file as KAI_CONFIG. */
async function startWebhook(name: string, home: string): Promise<Pod> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KAI_CONFIG: configFor(name, 'toml'), HOME: home, KAI_LOG_LEVEL: 'error' };
  for (const key of Object.keys(childEnv)) if (/^(TEMPORAL_|LINEAR_|GITHUB_)/.test(key)) delete childEnv[key];
  const proc = spawn(process.execPath, [join(__dirname, 'kai-cli.js'), 'webhook', '--host', '127.0.0.1', '--port', '0'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      output += d;
      const found = /kai webhook listening on (\S+)/.exec(output);
      if (found) resolve(found[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`kai webhook ${name} exited (${code}) before it listened: ${output}`)));
  });
  return { name, role: 'webhook', proc, url };
}

/** Stops pod `name` with `signal`; once it is gone, every engine it started must be gone too. */
async function stopPod(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const pod = pods.get(name)!;
  pod.proc.kill(signal);
  await exited(pod.proc);
  const engines = enginesOf(name);
  await waitFor(`${name}'s engines to end with it (${engines.map((e) => e.pid).join(', ')})`, () => engines.every((e) => !processAlive(e.pid)), 20_000);
}

async function restartPod(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const role = pods.get(name)!.role;
  await stopPod(name, signal);
  await startPod(name, role);
}

interface EngineRecord {
  pid: number;
  turn: string;
  cwd: string;
  /** The resume token kai passed ('' for none). */
  resume: string;
}

/** Every engine process a worker started so far, with the turn it ran, where, and what it resumed. */
function enginesOf(worker: string): EngineRecord[] {
  return readdirSync(pidsDir)
    .filter((f) => f.startsWith(`${worker}-`))
    .map((f) => ({ pid: Number(f.slice(worker.length + 1)), ...(JSON.parse(readFileSync(join(pidsDir, f), 'utf8')) as Omit<EngineRecord, 'pid'>) }));
}

/** The engines that ran turn `turn`, with the worker each ran on. */
function enginesFor(turn: string): Array<EngineRecord & { worker: string }> {
  return WORKERS.flatMap((w) => enginesOf(w).filter((e) => e.turn === turn).map((e) => ({ ...e, worker: w })));
}

/** Engines that ran outside their own worker's data directory (none should: it is the pod's volume). */
function enginesAway(): string[] {
  return WORKERS.flatMap((w) => enginesOf(w).filter((e) => !e.cwd.startsWith(`${join(root, w, 'data')}/`)).map((e) => `${e.turn} of ${w} in ${e.cwd}`));
}

function webhookUrl(name: string): string {
  return pods.get(name)!.url!;
}

function newIssue(title: string): IssueRec {
  const ws = linear.workspace!;
  const issue = linear.state.addIssue({
    teamId: ws.team.id,
    title,
    description: 'Made by the multi-pod test.',
    stateType: 'backlog',
    projectId: ws.project.id,
    creatorId: ws.user.id,
    delegateId: linear.state.appUser.id,
  });
  issues.push(issue);
  return issue;
}

/** Delegates `issue` to kai through webhook pod `via`. */
async function startSession(issue: IssueRec, via: string): Promise<SessionRec> {
  linear.setWebhookUrl(webhookUrl(via));
  const { session, delivery } = await linear.startSession({ issueId: issue.id, send: true });
  expect(delivery?.status).toBe(200);
  return session;
}

/** A follow-up message in the session, through webhook pod `via`. */
async function followUp(session: SessionRec, body: string, via: string): Promise<void> {
  linear.setWebhookUrl(webhookUrl(via));
  const { delivery } = await linear.prompt(session.id, body);
  expect(delivery?.status).toBe(200);
}

/** The types of the session's final activities; an error shows its text. */
function finalTypes(session: SessionRec): string[] {
  return finals(session).map((x) => (x.type === 'error' ? `error: ${x.body}` : x.type));
}

/** kai's final activities (responses and errors) in the session, in order. */
function finals(session: SessionRec): Array<{ type: string; body: string }> {
  const store = linear.state;
  return (store.sessionActivities.get(session.id) ?? [])
    .map((id) => store.activities.get(id)!)
    .filter((a) => a.userId === store.appUser.id && (a.content.type === 'response' || a.content.type === 'error'))
    .map((a) => ({ type: a.content.type, body: String(a.content.body ?? '') }));
}

/**
 * Waits until the issue's workflow has ended its `turns`th turn and posted everything: "between
 * turns" is a fact, not the moment the answer shows (a worker killed while it reports the final
 * post would hold the next turn for that activity's whole timeout).
 */
async function betweenTurns(issue: IssueRec, turns: number): Promise<void> {
  const handle = env.client.workflow.getHandle(issueWorkflowId(issue.id));
  await waitFor(
    `${issue.identifier} to be idle after turn ${turns}`,
    async () => {
      const status = await handle.query(statusQuery);
      return status.phase === 'idle' && status.turns === turns && status.pendingPosts === 0;
    },
    60_000,
    100,
  );
}

/** The worker the turn answered by `body` ran on. */
function workerOf(body: string): string | undefined {
  return /worker=(w\d)/.exec(body)?.[1];
}

function pullRequestsOf(issue: IssueRec) {
  return (github.state.repos[REPOSITORY]?.pulls ?? []).filter((p) => (p.title ?? '').startsWith(`${issue.identifier}:`));
}

/** TURNS.md on the remote's branch `ref`, one line per turn that changed it. */
function turnsOnRemote(ref: string): string[] {
  const text = execFileSync('git', ['--git-dir', originPath, 'show', `${ref}:TURNS.md`], { encoding: 'utf8' });
  return text.split('\n').filter(Boolean);
}

beforeAll(async () => {
  env = await connectTestEnv();
  root = mkdtempSync(join(tmpdir(), 'kai-multipod-'));
  pidsDir = join(root, 'engine-pids');
  mkdirSync(pidsDir);
  linear = await startLinearEmulator({ seed: { issueTitle: 'Multi-pod workspace issue' } });
  github = await startGitHubEmulator({ repos: [REPOSITORY] });
  // The remote: a bare repository with a main branch (the local checkout beside it is not used).
  ({ originPath } = makeDemoRepository(root));
  const engineFile = join(root, 'engine.js');
  writeFileSync(engineFile, ENGINE);
  taskQueue = uniqueTaskQueue('multipod');
  const ws = linear.workspace!;
  const offline = offlineConfig(defaultConfig(), { linear, github, workspace: ws, repository: REPOSITORY, repoPath: join(root, 'app'), originPath });
  base = {
    ...offline,
    default_engine: 'script',
    projects: { app: { url: `file://${originPath}` } },
    plugins: { ...offline.plugins, linear: { ...offline.plugins.linear, project_map: { [ws.project.id]: 'app' } } },
    engines: { ...offline.engines, script: { args: [], env: {}, command: `${JSON.stringify(process.execPath)} ${JSON.stringify(engineFile)}` } },
    transports: { ...offline.transports, linear: { ...offline.transports.linear, app_id: linear.state.appUser.id } },
    temporal: { ...offline.temporal, address: temporalAddress(), task_queue: taskQueue, engine_task_queue: undefined },
    // A lost holder is noticed within seconds: its engine stops heartbeating, its queues stop being polled.
    limits: { ...offline.limits, concurrent_engine_runs: 2, engine_heartbeat_timeout_s: 3, holder_start_timeout_s: 5, engine_start_timeout_s: 10 },
  };
  await Promise.all([...WORKERS.map((w) => startPod(w, 'worker')), startPod('hookA', 'webhook'), startPod('hookB', 'webhook')]);
});

afterAll(async () => {
  await Promise.all(
    issues.map((i) =>
      env?.client.workflow
        .getHandle(issueWorkflowId(i.id))
        .terminate('multi-pod test finished')
        .catch(() => undefined),
    ),
  );
  for (const name of [...pods.keys()]) await stopPod(name, 'SIGKILL').catch(() => undefined);
  await linear?.stop();
  await github?.stop();
  await env?.close();
});

test('a burst of sessions survives every process restarted in turn: one final response per turn, one PR per issue', async () => {
  const burst = Array.from({ length: 6 }, (_, i) => newIssue(`Burst ${i} turn=B${i}a ms=1500`));
  const sessions = await Promise.all(burst.map((issue, i) => startSession(issue, i % 2 ? 'hookB' : 'hookA')));
  // A rolling deploy of the workers while the first turns run: each drains and comes back with its volume.
  for (const w of WORKERS) await restartPod(w, 'SIGTERM');
  await waitFor('every first turn to answer', () => sessions.every((s) => finals(s).length >= 1), 90_000, 100);
  // Follow-ups while each webhook process restarts in turn: the other one takes the deliveries.
  const restartA = restartPod('hookA', 'SIGTERM');
  for (const [i, s] of sessions.slice(0, 3).entries()) await followUp(s, `turn=B${i}b ms=300`, 'hookB');
  await restartA;
  const restartB = restartPod('hookB', 'SIGTERM');
  for (const [i, s] of sessions.slice(3).entries()) await followUp(s, `turn=B${i + 3}b ms=300`, 'hookA');
  await restartB;
  await waitFor('every follow-up to answer', () => sessions.every((s) => finals(s).length >= 2), 90_000, 100);
  await linear.settled();

  for (const [i, s] of sessions.entries()) {
    const f = finals(s);
    expect(finalTypes(s)).toEqual(['response', 'response']);
    expect(f[0]!.body).toContain(`Did turn B${i}a`);
    expect(f[1]!.body).toContain(`Did turn B${i}b`);
    const prs = pullRequestsOf(burst[i]!);
    expect(prs).toHaveLength(1);
    expect(turnsOnRemote(prs[0]!.head.ref)).toEqual([`turn B${i}a`, `turn B${i}b`]);
  }
  expect(enginesAway()).toEqual([]);
});

test('a holder SIGKILLed between turns and during a turn: the follow-ups continue on another worker, on the same branch', async () => {
  const issue = newIssue('Holder loss turn=H1 ms=300');
  const session = await startSession(issue, 'hookA');
  await waitFor('the first turn to answer', () => finals(session).length === 1, 60_000, 100);
  const first = workerOf(finals(session)[0]!.body)!;
  expect(WORKERS).toContain(first);

  // Between turns: the worker that ran the first turn is lost.
  await betweenTurns(issue, 1);
  await stopPod(first, 'SIGKILL');
  await followUp(session, 'turn=H2 ms=300', 'hookB');
  await waitFor('the second turn to answer', () => finals(session).length === 2, 60_000, 100);
  const second = workerOf(finals(session)[1]!.body)!;
  expect(second).not.toBe(first);
  await startPod(first, 'worker');

  // During a turn: the worker running the engine is lost mid-stream.
  await followUp(session, 'turn=H3 ms=8000', 'hookA');
  const running = await waitFor('the third turn engine to start', () => WORKERS.find((w) => enginesOf(w).some((e) => e.turn === 'H3')), 60_000, 50);
  await stopPod(running, 'SIGKILL');
  await waitFor('the third turn to answer', () => finals(session).length === 3, 90_000, 100);
  const third = workerOf(finals(session)[2]!.body)!;
  expect(third).not.toBe(running);
  await startPod(running, 'worker');
  await linear.settled();

  const f = finals(session);
  expect(finalTypes(session)).toEqual(['response', 'response', 'response']);
  expect(f.map((x) => /Did turn (H\d)/.exec(x.body)?.[1])).toEqual(['H1', 'H2', 'H3']);
  const prs = pullRequestsOf(issue);
  expect(prs).toHaveLength(1);
  // Every turn's change, once, on the issue's one branch: the killed engine wrote nothing.
  expect(turnsOnRemote(prs[0]!.head.ref)).toEqual(['turn H1', 'turn H2', 'turn H3']);
  // The lost turn ran twice: on the killed worker, then again on the one that answered.
  expect(enginesFor('H3').map((e) => e.worker).sort()).toEqual([running, third].sort());
  expect(existsSync(join(root, second, 'data', 'repos', 'app.git'))).toBe(true);
  expect(enginesAway()).toEqual([]);
});

test("a session's turns stay on the worker that holds its workspace, which resumes the same engine conversation after a restart", async () => {
  const issue = newIssue('Affinity turn=S1 ms=300');
  const session = await startSession(issue, 'hookB');
  await waitFor('the first turn to answer', () => finals(session).length === 1, 60_000, 100);
  const holder = workerOf(finals(session)[0]!.body)!;
  await followUp(session, 'turn=S2 ms=300', 'hookA');
  await waitFor('the second turn to answer', () => finals(session).length === 2, 60_000, 100);
  // The holder restarts with its data directory, as a StatefulSet pod comes back with its volume.
  await betweenTurns(issue, 2);
  await restartPod(holder, 'SIGTERM');
  await followUp(session, 'turn=S3 ms=300', 'hookB');
  await waitFor('the third turn to answer', () => finals(session).length === 3, 60_000, 100);
  await linear.settled();

  const f = finals(session);
  expect(finalTypes(session)).toEqual(['response', 'response', 'response']);
  expect(f.map((x) => workerOf(x.body))).toEqual([holder, holder, holder]);
  // One engine per turn, all on the holder: a new conversation, then the same one resumed every turn.
  expect(['S1', 'S2', 'S3'].map((t) => enginesFor(t).map((e) => [e.worker, e.resume]))).toEqual([
    [[holder, '']],
    [[holder, 'conversation-S1']],
    [[holder, 'conversation-S1']],
  ]);
  expect(pullRequestsOf(issue)).toHaveLength(1);
  expect(turnsOnRemote(pullRequestsOf(issue)[0]!.head.ref)).toEqual(['turn S1', 'turn S2', 'turn S3']);
  expect(enginesAway()).toEqual([]);
});
