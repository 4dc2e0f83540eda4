// Shared by the fault tests: kai's real local stack (real activities, Linear and GitHub
// emulators, a git repository with a bare origin, the demo's script engine) on a Temporal
// server, plus probes that read the outcome a Linear user would see.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startLocalStack, type LocalStack, type OfflineWorld } from '../../src/app/stack';
import { demoConfig } from '../../src/cli/demo';
import { DEMO_GREETING, DEMO_THANKS } from '../../src/cli/demo-engine';
import { defaultConfig, type KaiConfig } from '../../src/config/schema';
import type { IssueRec } from '../../src/emulator/linear/store';
import { uniqueTaskQueue, workflowBundle } from '../harness/temporal';

export { processAlive } from '../activities/engine/helpers';

export const quietLogger = () => pino({ level: process.env.KAI_TEST_LOG ? 'debug' : 'silent' });

export interface FaultStackOptions {
  temporalAddress: string;
  /** Seconds between the demo engine's steps (a turn takes about four steps). */
  engineStep?: number;
  /** Where the engine writes its process group id. */
  pidFile?: string;
  /** Session idle timeout: the workflow completes this long after its last message. */
  idleS?: number;
  heartbeatTimeoutS?: number;
  adjust?: (config: KaiConfig) => KaiConfig;
}

/** The config the fault tests run with: the demo's engine, slowed down, and short timeouts. */
export function faultConfig(workDir: string, opts: Omit<FaultStackOptions, 'temporalAddress'> = {}): KaiConfig {
  let config = demoConfig(defaultConfig(), workDir);
  const script = config.engines.script!;
  config = {
    ...config,
    engines: {
      ...config.engines,
      script: {
        ...script,
        env: {
          ...script.env,
          KAI_DEMO_STEP: String(opts.engineStep ?? 0.3),
          ...(opts.pidFile ? { KAI_DEMO_PID_FILE: opts.pidFile } : {}),
        },
      },
    },
    limits: {
      ...config.limits,
      idle_timeout_s: opts.idleS ?? 2,
      engine_heartbeat_timeout_s: opts.heartbeatTimeoutS ?? config.limits.engine_heartbeat_timeout_s,
    },
  };
  return opts.adjust ? opts.adjust(config) : config;
}

export async function startFaultStack(opts: FaultStackOptions): Promise<LocalStack & { world: OfflineWorld; workDir: string }> {
  const workDir = mkdtempSync(join(tmpdir(), 'kai-faults-'));
  const stack = await startLocalStack({
    config: faultConfig(workDir, opts),
    logger: quietLogger(),
    offline: true,
    temporalAddress: opts.temporalAddress,
    workDir,
    taskQueue: uniqueTaskQueue('faults'),
    workflowBundle: workflowBundle(),
  });
  return Object.assign(stack, { world: stack.offline!, workDir });
}

/** Another issue in the seeded team and project (so it maps to the demo repository). */
export function addIssue(world: OfflineWorld, title: string): IssueRec {
  const ws = world.workspace;
  return world.linear.state.addIssue({
    teamId: ws.team.id,
    title,
    description: 'Made by a fault test.',
    stateType: 'backlog',
    projectId: ws.project.id,
    creatorId: ws.user.id,
    delegateId: world.linear.state.appUser.id,
  });
}

export interface SessionView {
  all: Array<{ type: string; body: string; ephemeral: boolean; id: string; fromUser: boolean }>;
  acks: number;
  responses: string[];
  errors: string[];
}

/** The session's activities as Linear keeps them (replaced ephemeral ones included). */
export function sessionView(world: OfflineWorld, sessionId: string): SessionView {
  const store = world.linear.state;
  const all = (store.sessionActivities.get(sessionId) ?? []).map((id) => {
    const a = store.activities.get(id)!;
    const body = typeof a.content.body === 'string' ? a.content.body : `${String(a.content.action ?? '')} ${String(a.content.parameter ?? '')}`;
    return { id, type: a.content.type, body, ephemeral: a.ephemeral, fromUser: a.userId !== store.appUser.id };
  });
  const mine = all.filter((a) => !a.fromUser);
  return {
    all,
    acks: mine.filter((a) => a.type === 'thought' && /^(On it|Got it)/.test(a.body)).length,
    responses: mine.filter((a) => a.type === 'response').map((a) => a.body),
    errors: mine.filter((a) => a.type === 'error').map((a) => a.body),
  };
}

export function pullRequests(world: OfflineWorld) {
  return world.github.state.repos[world.repository.toLowerCase()]?.pulls ?? [];
}

export function hasAction(world: OfflineWorld, sessionId: string): boolean {
  return sessionView(world, sessionId).all.some((a) => a.type === 'action');
}

/**
 * The demo engine's turn, written like a real engine that outlives a closed stdout: it ignores
 * SIGPIPE and SIGHUP and carries on editing after its reader is gone (a Node CLI gets EPIPE
 * errors, not a fatal signal). Its pid goes to KAI_DEMO_PID_FILE. Returns the script command.
 */
export function writeStubbornEngine(dir: string): string {
  const file = join(dir, 'stubborn-engine.sh');
  writeFileSync(
    file,
    `#!/bin/sh
trap '' PIPE HUP
step() { sleep "\${KAI_DEMO_STEP:-0.8}"; }
event() { printf '%s\\n' "$1" 2>/dev/null || true; }
if [ -n "$KAI_DEMO_PID_FILE" ]; then echo $$ > "$KAI_DEMO_PID_FILE"; fi
if grep -q '${DEMO_GREETING}' README.md 2>/dev/null; then goal='Thank the reader'; where=append; else goal='Add a greeting'; where=top; fi
event '{"type":"thought","text":"Reading README.md."}'
step
event '{"type":"action","id":"edit","kind":"file_change","title":"Edit README.md","phase":"started"}'
step
if [ "$where" = top ]; then { printf '%s\\n\\n' '${DEMO_GREETING}'; cat README.md; } > README.md.kai && mv README.md.kai README.md
else printf '\\n%s\\n' '${DEMO_THANKS}' >> README.md; fi
step
event '{"type":"action","id":"edit","kind":"file_change","title":"Edit README.md","phase":"completed","ok":true}'
event '{"type":"completed","ok":true,"answer":"Done: '"$goal"'."}'
`,
  );
  chmodSync(file, 0o755);
  return `/bin/sh '${file}'`;
}
