// `kai demo`: one whole session offline. Starts the local stack (a Temporal dev server, or the one
// at TEMPORAL_ADDRESS / --temporal; kai's workers and webhook server; the Linear and GitHub
// emulators and a local repository), then plays Linear: delegates the seeded issue (a signed
// `created` webhook), writes a follow-up while the engine runs, and asks for /help. It waits
// for the whole lifecycle and prints the Linear-side transcript, or one JSON object.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowBundle } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { startLocalStack, type LocalStack, type OfflineWorld } from '../app/stack';
import type { KaiConfig } from '../config/schema';
import { issueWorkflowId, webUiWorkflowUrl } from '../names';
import { preferPort } from '../temporal/ports';
import { writeDemoEngine } from './demo-engine';
import { ackLatency, missingSteps, pullRequestsOf, readLinearSide, renderTranscript, type DemoReport } from './demo-report';
import { waitForShutdown } from './shutdown';
import { errorText, sleep } from '../util';

export interface DemoOptions {
  config: KaiConfig;
  json: boolean;
  keep: boolean;
  temporalAddress?: string;
  /** Where the transcript or JSON goes (stdout by default). */
  out?: (text: string) => void;
  /** Progress lines and errors (stderr by default). */
  err?: (text: string) => void;
  /** A prebuilt workflow bundle (tests); built from source otherwise. */
  workflowBundle?: WorkflowBundle;
  /** Longest wait for the whole lifecycle (default 45 s). */
  timeoutMs?: number;
}

export const DEMO_FOLLOW_UP = 'Please also thank the reader at the end of the README.';
export const DEMO_HELP = '/help';

/** The session workflow ends this long after its last message (it would wait a day in production). */
const DEMO_IDLE_S = 2;

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out ?? ((text: string) => void process.stdout.write(text));
  const err = opts.err ?? ((text: string) => void process.stderr.write(text));
  const say = (line: string) => (opts.json ? err(`${line}\n`) : out(`${line}\n`));
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const workDir = mkdtempSync(join(tmpdir(), 'kai-demo-'));
  const logger: Logger = pino({ level: process.env.KAI_DEMO_LOG_LEVEL ?? 'error', base: { component: 'demo' } }, pino.destination({ fd: 2, sync: true }));

  let stack: LocalStack | undefined;
  try {
    const config = demoConfig(opts.config, workDir);
    const temporalAddress = opts.temporalAddress ?? process.env.TEMPORAL_ADDRESS;
    stack = await startLocalStack({
      config,
      logger,
      offline: true,
      temporalAddress,
      ui: temporalAddress ? undefined : { port: await preferPort(8233) },
      workDir,
      // Its own queue: on a shared server no other worker may pick up the demo's tasks.
      taskQueue: `kai-demo-${randomUUID().slice(0, 8)}`,
      workflowBundle: opts.workflowBundle,
      say,
    });
    const report = await playSession(stack, stack.offline!, { say, timeoutMs });
    if (opts.json) out(`${JSON.stringify(report.report, null, 2)}\n`);
    else out(`\n${report.transcript}\n`);
    if (!report.report.ok) err(`kai demo: the session did not go all the way: missing ${report.report.missing.join('; ')}.\n`);

    if (opts.keep) {
      say('');
      say(`Everything keeps running: Temporal Web UI ${report.report.webUiUrl ?? stack.temporal.uiUrl ?? ''}, Linear emulator ${stack.offline!.linear.baseUrl}/_emulator/state, GitHub emulator ${stack.offline!.github.url}/_emulator/state.`);
      say('Press Ctrl-C to stop.');
      await waitForShutdown();
    } else if (!temporalAddress && report.report.webUiUrl) {
      say(`(The Temporal dev server stops with the demo; run \`kai demo --keep\` to browse ${report.report.webUiUrl}.)`);
    }
    return report.report.ok ? 0 : 1;
  } catch (e) {
    err(`kai demo failed: ${errorText(e)}\n`);
    return 1;
  } finally {
    await stack?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The user's configuration with the demo's engine: the script engine running demo-engine.sh. */
export function demoConfig(config: KaiConfig, workDir: string): KaiConfig {
  const script = config.engines.script;
  return {
    ...config,
    engines: {
      ...config.engines,
      script: { ...(script ?? { args: [], env: {} }), command: script?.command ?? writeDemoEngine(workDir) },
    },
    limits: { ...config.limits, idle_timeout_s: DEMO_IDLE_S },
    workspace: { ...config.workspace, cleanup_on_end: true },
  };
}

interface PlayOptions {
  say: (line: string) => void;
  timeoutMs: number;
}

/** Plays the user's side of one session and reads back what kai did. */
export async function playSession(
  stack: LocalStack,
  world: OfflineWorld,
  opts: PlayOptions,
): Promise<{ report: DemoReport; transcript: string }> {
  const { linear, github, workspace } = world;
  const deadline = Date.now() + opts.timeoutMs;
  const issue = workspace.issue;
  const initialState = linear.state.states.get(issue.stateId)?.name ?? '';
  const workflowId = issueWorkflowId(issue.id);
  const webUiUrl = stack.temporal.uiUrl ? webUiWorkflowUrl(stack.temporal.uiUrl, stack.temporal.namespace, workflowId) : null;
  const store = linear.state;
  const finals = (sessionId: string) =>
    (store.sessionActivities.get(sessionId) ?? []).filter((id) => ['response', 'error'].includes(store.activities.get(id)!.content.type)).length;
  const wait = async (probe: () => boolean | Promise<boolean>): Promise<boolean> => {
    for (;;) {
      if (await probe()) return true;
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
  };
  const delivered = (what: string, d: { status: number | null; error?: string } | undefined) => {
    if (d?.status !== 200) throw new Error(`the webhook server refused the ${what} webhook (${d?.status ?? d?.error ?? 'not sent'})`);
  };

  opts.say(`Delegating ${issue.identifier} "${issue.title}" to kai (AgentSessionEvent created)...`);
  const { session, delivery } = await linear.startSession({ issueId: issue.id, send: true });
  delivered('created', delivery);
  const hasAction = () => (store.sessionActivities.get(session.id) ?? []).some((id) => store.activities.get(id)!.content.type === 'action');
  let prompts = 1;
  if (await wait(hasAction)) {
    opts.say(`The engine is running; writing a follow-up ("${DEMO_FOLLOW_UP}") and ${DEMO_HELP}...`);
    delivered('follow-up', (await linear.prompt(session.id, DEMO_FOLLOW_UP)).delivery);
    delivered('/help', (await linear.prompt(session.id, DEMO_HELP)).delivery);
    prompts = 3;
  } else {
    opts.say('The engine never started; reporting what happened.');
  }

  if (await wait(() => finals(session.id) >= prompts)) opts.say('Every message has its answer; waiting for the workflow to end...');
  const handle = stack.client.workflow.getHandle(workflowId);
  let workflowStatus = 'UNKNOWN';
  await wait(async () => {
    workflowStatus = (await handle.describe()).status.name;
    return workflowStatus !== 'RUNNING';
  });
  const history = await handle.fetchHistory();

  const side = readLinearSide(linear, issue.id, session.id, initialState);
  const pulls = pullRequestsOf(github, world.repository);
  const ackLatencyMs = ackLatency(linear, delivery!.deliveryId, session.id);
  const missing = missingSteps({ side, prompts, pullRequests: pulls, workflowStatus, ackLatencyMs, webUi: !!stack.temporal.uiUrl });
  const pr = pulls[0];
  const report: DemoReport = {
    ok: missing.length === 0,
    missing,
    issue: side.issue,
    agentSessionId: session.id,
    activities: side.activities.map((a) => ({ type: a.type, ephemeral: a.ephemeral, body: a.body })),
    plan: side.plan,
    externalUrls: side.externalUrls,
    stateTransitions: side.stateTransitions,
    pullRequest: pr
      ? { url: pr.html_url, number: pr.number, title: pr.title, state: pr.state, branch: pr.head.ref, linked: side.attachments.includes(pr.html_url) }
      : null,
    ackLatencyMs,
    linearRequests: side.linearRequests,
    historyEvents: history.events?.length ?? 0,
    workflowId,
    webUiUrl,
  };
  return { report, transcript: renderTranscript(report, side) };
}
