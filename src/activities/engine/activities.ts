// The engine activities: choose the engine for a turn (engineResolve) and run it (engineRun),
// streaming progress to the injected sink, heartbeating, and honouring cancellation.
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { KaiConfig } from '../../config/schema';
import * as logModule from '../../log';
import { permanent } from '../errors';
import type { EngineActivities, EngineRunInput, EngineRunResult } from '../types';
import { findExecutable } from './binary';
import { buildEngineEnv } from './env';
import { prepareEngineHome, removeEngineHomes } from './home';
import type { EngineEvent, ProgressSink, ProgressSinkFactory } from './events';
import { readHeartbeatDetails, type EngineHeartbeatDetails } from './heartbeat';
import { oneLine, stripAnsi, type CompletedEvent } from './parser';
import { DEFAULT_BINARIES, ENGINE_NAMES, buildInvocation, createParser, isEngineName, unknownEngineError, type EngineName } from './registry';
import { resolveEngine } from './resolve';
import { EngineSpawnError, runEngineStream, type EngineProcessSpec } from './run-stream';
import { applyScriptEdits, type ScriptEdit } from './script';

export interface EngineActivitiesDeps {
  config: KaiConfig;
  /** Where each run's events go (the Linear progress reporter in production). */
  progress: ProgressSinkFactory;
  logger?: Logger;
  /** Environment engines start with (and PATH to find them); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Heartbeat period; defaults to a third of the heartbeat timeout, at most 10 s. */
  heartbeatIntervalMs?: number;
  /** Between SIGTERM and SIGKILL on stop; 2 s by default. */
  killGraceMs?: number;
  /** The worker's data directory: each issue's engine home lives under it (see home.ts).
   *  Without it the engines keep their state where the worker's environment says. */
  dataDir?: string;
  /** The `script` engine's edits when `[engines.script] command` is not set. */
  scriptEdits?: (input: EngineRunInput) => ScriptEdit[];
}

/** The script engine's edits when nothing else is configured: a note with the prompt. */
export function defaultScriptEdits(input: EngineRunInput): ScriptEdit[] {
  const name = (input.issueIdentifier || 'issue').replace(/[^A-Za-z0-9._-]/g, '_');
  return [{ path: `kai/${name}.md`, content: `# ${input.issueIdentifier}\n\n${input.prompt}\n`, append: false }];
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (a plain unit test)
  }
}

export function createEngineActivities(deps: EngineActivitiesDeps): EngineActivities {
  const { config } = deps;
  const baseLog = () => deps.logger ?? logModule.logger;
  const env = () => deps.env ?? process.env;

  function installedEngines(): string[] {
    return ENGINE_NAMES.filter((name) => {
      if (name === 'script') return true;
      return findExecutable(config.engines[name]?.binary ?? DEFAULT_BINARIES[name], env().PATH) !== undefined;
    });
  }

  function notInstalled(engine: string, binary: string, why: string) {
    return permanent(
      'engineUnavailable',
      `The ${engine} engine is not available on this worker: ${why} "${binary}". ` +
        `Engines installed here: ${installedEngines().join(', ')}. Engines kai knows: ${ENGINE_NAMES.join(', ')}. ` +
        `Install it, set [engines.${engine}] binary, or choose another engine with [engine:<name>].`,
      { engine, binary, installed: installedEngines(), engines: [...ENGINE_NAMES] },
    );
  }

  async function engineResolve(input: Parameters<EngineActivities['engineResolve']>[0]) {
    const { sources, ...selection } = resolveEngine(config, input);
    baseLog().debug({ issueIdentifier: input.issue.identifier, engine: selection.engine, model: selection.model, sources }, 'engine selected');
    return selection;
  }

  async function engineRun(input: EngineRunInput): Promise<EngineRunResult> {
    const engineRaw = input.engine.toLowerCase();
    if (!isEngineName(engineRaw)) throw unknownEngineError(input.engine, '');
    const engine: EngineName = engineRaw;
    const ctx = currentContext();
    const log = baseLog().child({ issueIdentifier: input.issueIdentifier, agentSessionId: input.agentSessionId, engine });
    checkWorktree(engine, input.cwd);

    // A retry after a crash picks up the conversation the failed attempt had started.
    const previous = readHeartbeatDetails(ctx?.info.heartbeatDetails);
    const resumeToken = input.resumeToken ?? (previous?.engine === engine ? previous.resumeToken : undefined);

    const sink = deps.progress({ agentSessionId: input.agentSessionId, issueId: input.issueId });
    try {
      const first = await runOnce(engine, input, resumeToken, sink, ctx, log, previous?.run);
      if (!resumeToken || first.ok || !isResumeLost(first.error)) return first;
      // The engine's stored conversation is gone: start a fresh one, told what happened so far.
      log.warn({ error: first.error }, 'engine conversation to resume was not found; starting a fresh one');
      const note = `The earlier ${engine} conversation could not be resumed (${oneLine(first.error ?? '', 160)}); starting a fresh one with a recap.`;
      safeEmit(sink, { type: 'thought', text: note }, log);
      const prompt = input.recap?.trim() ? `${input.recap.trim()}\n\n${input.prompt}` : input.prompt;
      const fresh = await runOnce(engine, { ...input, prompt }, undefined, sink, ctx, log);
      return { ...fresh, resumeLost: true, answer: fresh.answer ? `${fresh.answer}\n\n${RESUME_LOST_LINE}` : RESUME_LOST_LINE };
    } finally {
      await sink.close().catch((err: unknown) => log.warn({ err }, 'progress sink failed to flush'));
    }
  }

  /** The worktree must exist: a missing one is not a missing engine. */
  function checkWorktree(engine: string, cwd: string) {
    let isDir = false;
    try {
      isDir = statSync(cwd).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir)
      throw permanent(
        'engineFailed',
        `The working tree ${cwd} does not exist, so the ${engine} engine could not start in it (the engine is not the problem). ` +
          'The workspace has to be prepared again before the next run.',
        { engine, cwd },
      );
  }

  async function runOnce(
    engine: EngineName,
    input: EngineRunInput,
    resumeToken: string | undefined,
    sink: ProgressSink,
    ctx: Context | undefined,
    log: Logger,
    /** The run a failed earlier attempt recorded: ended before this one starts. */
    earlierRun?: EngineHeartbeatDetails['run'],
  ): Promise<EngineRunResult> {
    const cfg = config.engines[engine];
    const timeoutMs = (cfg?.timeout_s ?? config.limits.engine_timeout_s) * 1000;
    const maxReconnects = cfg?.max_reconnects ?? DEFAULT_MAX_RECONNECTS;

    const beat: EngineHeartbeatDetails = { engine, events: 0, startedAt: Date.now(), resumeToken };
    const heartbeat = () => ctx?.heartbeat({ ...beat });
    const interval =
      deps.heartbeatIntervalMs ??
      Math.max(200, Math.min(10_000, Math.floor((config.limits.engine_heartbeat_timeout_s * 1000) / 3)));

    let planPublished = false;
    let done = false;
    const emit = (event: EngineEvent) => {
      if (done) return; // after the completion nothing is progress any more
      if (event.type === 'completed') done = true;
      if (event.type === 'plan') planPublished = true;
      beat.events++;
      beat.lastEventType = event.type;
      if ((event.type === 'started' || event.type === 'completed') && event.resumeToken) beat.resumeToken = event.resumeToken;
      safeEmit(sink, event, log);
    };

    heartbeat();
    const timer = ctx ? setInterval(heartbeat, interval) : undefined;
    // Stops the run from inside kai (the API is out of reach) as well as on Temporal cancellation.
    const stop = new AbortController();
    let unreachable: string | undefined;
    const onCancel = () => stop.abort();
    ctx?.cancellationSignal.addEventListener('abort', onCancel, { once: true });
    if (ctx?.cancellationSignal.aborted) stop.abort();
    try {
      if (engine === 'script' && !cfg?.command) {
        return { ...(await runScriptEdits(input, resumeToken, emit, ctx?.cancellationSignal)), planPublished };
      }
      const spec = processSpec(engine, input, resumeToken);
      log.info({ command: spec.command, resume: Boolean(resumeToken), model: input.model }, 'engine starting');
      const parser = createParser(engine, (message, detail) => log.warn({ line: detail.line, reason: detail.reason }, message), {
        command: cfg?.command,
        resumeToken: resumeToken ?? `script-${randomUUID()}`,
      });
      const outcome = await runEngineStream({
        spec,
        parser,
        emit: (event) => {
          if (unreachable) return;
          emit(event);
          const retries = parser.apiRetries ?? 0;
          if (!done && retries > maxReconnects) {
            unreachable =
              `${engine} could not reach its model API (${retries} retries or reconnects; the limit is ${maxReconnects}), so kai stopped it. ` +
              'Check the network and the engine\'s credentials or base URL on the worker, then send the message again.';
            emit({ type: 'completed', ok: false, answer: '', error: unreachable, ...(parser.resumeToken ? { resumeToken: parser.resumeToken } : {}) });
            stop.abort();
          }
        },
        timeoutMs,
        signal: stop.signal,
        killGraceMs: deps.killGraceMs,
        onSpawn: (pid) => {
          beat.pid = pid;
        },
        onRun: (run) => {
          beat.run = run;
          heartbeat();
        },
        earlierRuns: earlierRun ? [earlierRun] : [],
        log,
      });
      log.info(
        { ok: outcome.completion.ok, exitCode: outcome.exitCode, signal: outcome.signal, events: outcome.events, timedOut: outcome.timedOut, cancelled: outcome.cancelled },
        'engine finished',
      );
      if (unreachable) {
        return { ok: false, answer: '', error: unreachable, planPublished, ...(parser.resumeToken ? { resumeToken: parser.resumeToken } : {}) };
      }
      if (outcome.cancelled) throw new CancelledFailure('the engine run was stopped; its process group was terminated');
      if (!done) emit(outcome.completion); // a completion run-stream made (time cap) reaches the sink once
      return { ...toResult(outcome.completion, outcome.resumeToken ?? resumeToken), planPublished };
    } catch (err) {
      if (err instanceof EngineSpawnError) {
        const binary = engine === 'script' ? '/bin/sh' : (cfg?.binary ?? DEFAULT_BINARIES[engine]);
        if (err.code === 'ENOENT' || err.code === 'EACCES') {
          checkWorktree(engine, input.cwd); // removed while starting
          throw notInstalled(engine, binary, 'could not start');
        }
      }
      throw err;
    } finally {
      if (timer) clearInterval(timer);
      ctx?.cancellationSignal.removeEventListener('abort', onCancel);
    }
  }

  function processSpec(engine: EngineName, input: EngineRunInput, resumeToken: string | undefined): EngineProcessSpec {
    const cfg = config.engines[engine];
    const baseEnv = env();
    const kaiEnv = {
      KAI_ISSUE_ID: input.issueId,
      KAI_ISSUE_IDENTIFIER: input.issueIdentifier,
      KAI_AGENT_SESSION_ID: input.agentSessionId,
    };
    if (engine === 'script') {
      return {
        command: '/bin/sh',
        args: ['-c', cfg!.command!],
        cwd: input.cwd,
        stdin: input.prompt,
        env: buildEngineEnv({
          engine,
          base: baseEnv,
          configured: cfg?.env,
          context: { ...kaiEnv, KAI_PROMPT: input.prompt, KAI_MODEL: input.model ?? '', KAI_REASONING: input.reasoning ?? '', KAI_RESUME_TOKEN: resumeToken ?? '' },
        }),
      };
    }
    const binary = cfg?.binary ?? DEFAULT_BINARIES[engine];
    const resolved = findExecutable(binary, baseEnv.PATH);
    if (!resolved) throw notInstalled(engine, binary, 'no executable found for');
    const inv = buildInvocation(engine, { prompt: input.prompt, model: input.model, reasoning: input.reasoning, resumeToken }, cfg);
    // The issue's engine home: the conversation stays with the workspace, not with the worker's HOME.
    const home = deps.dataDir ? prepareEngineHome({ engine, issueId: input.issueId, dataDir: deps.dataDir, env: { ...baseEnv, ...cfg?.env } }) : {};
    const invocation = { ...inv.env, ...home };
    return { command: resolved, args: inv.args, cwd: input.cwd, stdin: inv.stdin, env: buildEngineEnv({ engine, base: baseEnv, configured: cfg?.env, invocation, context: kaiEnv }) };
  }

  async function runScriptEdits(
    input: EngineRunInput,
    resumeToken: string | undefined,
    emit: (e: EngineEvent) => void,
    signal: AbortSignal | undefined,
  ): Promise<EngineRunResult> {
    const token = resumeToken ?? `script-${randomUUID()}`;
    emit({ type: 'started', resumeToken: token });
    const edits = (deps.scriptEdits ?? defaultScriptEdits)(input);
    const result = await applyScriptEdits(input.cwd, edits, emit, signal);
    if (signal?.aborted) throw new CancelledFailure('the script engine was stopped');
    const completion: CompletedEvent = result.ok
      ? { type: 'completed', ok: true, answer: `Applied ${result.changed.length} scripted edit(s): ${result.changed.join(', ') || 'none'}.`, resumeToken: token }
      : { type: 'completed', ok: false, answer: '', error: result.error, resumeToken: token };
    emit(completion);
    return toResult(completion, token);
  }

  async function engineRemoveHomes(input: { issueId: string }): Promise<void> {
    if (deps.dataDir) await removeEngineHomes(deps.dataDir, input.issueId);
  }

  return { engineResolve, engineRun, engineRemoveHomes };
}

/** The engine's stored conversation is gone (claude, codex, opencode wording). */
const RESUME_LOST = /no conversation found|no rollout found|session not found|conversation not found|thread not found/i;

export function isResumeLost(error: string | undefined): boolean {
  return error !== undefined && RESUME_LOST.test(error);
}

export const RESUME_LOST_LINE = 'Note: the earlier conversation could not be resumed, so this run started a fresh one from a recap.';

/** Reconnects an engine may report before kai gives up on its API (per run). */
export const DEFAULT_MAX_RECONNECTS = 4;

function safeEmit(sink: ProgressSink, event: EngineEvent, log: Pick<Logger, 'warn'>) {
  try {
    sink.emit(event);
  } catch (err) {
    log.warn({ err }, 'progress sink failed on an engine event');
  }
}

function toResult(c: CompletedEvent, resumeToken: string | undefined): EngineRunResult {
  const result: EngineRunResult = { ok: c.ok, answer: c.answer };
  const token = c.resumeToken ?? resumeToken;
  if (token) result.resumeToken = token;
  if (c.error) result.error = stripAnsi(c.error);
  if (c.usage) result.usage = c.usage;
  if (c.limitations?.length) {
    // Not a clean success: the final answer says what the engine could not do.
    result.limitations = c.limitations;
    const note = `kai: the engine could not do everything it tried:\n${c.limitations.map((l) => `- ${l}`).join('\n')}`;
    result.answer = result.answer ? `${result.answer}\n\n${note}` : note;
  }
  return result;
}
