// The engine runner's core, free of Temporal: start the CLI in its own process group, parse its
// stdout line by line into normalized events, and end it cleanly on stop or at the time cap.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { findExecutable } from './binary';
import type { EngineEvent } from './events';
import { DEFAULT_MAX_LINE_BYTES, readBoundedLines } from './lines';
import { describeEarlyEnd, tail, type CompletedEvent, type EngineStreamParser } from './parser';
import {
  RUN_MARKER_VAR,
  clearRunRecord,
  createRunCgroup,
  readRunRecord,
  removeRunCgroup,
  runMembers,
  terminateRun,
  writeRunRecord,
  type EngineRunHandle,
} from './process-group';
import { SUPERVISOR_SOURCE } from './supervisor';
import { withTimeout } from '../../util';

export interface EngineProcessSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (Codex reads its prompt there). */
  stdin?: string;
}

export interface RunStreamOptions {
  spec: EngineProcessSpec;
  parser: EngineStreamParser;
  /** Receives every event, in order. Errors it throws are logged, never fatal. */
  emit: (event: EngineEvent) => void;
  /** Wall-clock cap; the group is stopped when it passes. */
  timeoutMs?: number;
  /** Stop the run (Temporal cancellation). */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  onSpawn?: (pid: number) => void;
  /** The run's identity, to record (heartbeat details) so a retry can end it if it outlives us. */
  onRun?: (run: EngineRunHandle) => void;
  /** Runs recorded by earlier attempts: any of their processes still alive is ended first. */
  earlierRuns?: EngineRunHandle[];
  /** 'auto' (cgroup v2 where the worker may create one, plus the /proc walk) or 'proc' only. */
  containment?: 'auto' | 'proc';
  /** Bound on one stdout line; longer lines are cut and reported. */
  maxLineBytes?: number;
  log?: Pick<Logger, 'warn' | 'debug'>;
}

export interface EngineStreamOutcome {
  completion: CompletedEvent;
  resumeToken?: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  timedOut: boolean;
  cancelled: boolean;
  events: number;
  pid?: number;
}

/** The binary could not be started (not installed, not executable). */
export class EngineSpawnError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'EngineSpawnError';
  }
}

const STDERR_KEEP = 8192;

export async function runEngineStream(opts: RunStreamOptions): Promise<EngineStreamOutcome> {
  const { spec, parser, log } = opts;
  const graceMs = opts.killGraceMs ?? 2000;
  let completion: CompletedEvent | undefined;
  let events = 0;
  const emit = (event: EngineEvent) => {
    if (event.type === 'completed') {
      if (completion) {
        log?.debug({ event }, 'engine sent a second completion; keeping the first');
        return;
      }
      completion = event;
    }
    events++;
    try {
      opts.emit(event);
    } catch (err) {
      log?.warn({ err }, 'progress sink failed on an engine event');
    }
  };

  if (opts.signal?.aborted) {
    return {
      completion: { type: 'completed', ok: false, answer: '', error: 'cancelled before the engine started' },
      exitCode: null,
      signal: null,
      stderrTail: '',
      timedOut: false,
      cancelled: true,
      events: 0,
    };
  }

  // No earlier run in this worktree may still be alive: a crashed worker's engine, a retry's.
  const earlier = [...(opts.earlierRuns ?? []), readRunRecord(spec.cwd)].filter((r): r is EngineRunHandle => r !== undefined);
  for (const run of earlier) {
    const left = runMembers(run);
    if (left.length > 0) {
      log?.warn({ runId: run.runId, processes: left.length }, 'an earlier engine run in this worktree is still alive; ending it first');
      await terminateRun(run, graceMs);
    }
    if (run.cgroup) removeRunCgroup(run.cgroup);
  }

  const baseEnv = spec.env ?? process.env;
  if (!findExecutable(spec.command, baseEnv.PATH))
    throw new EngineSpawnError(`could not start ${spec.command}: no such executable`, 'ENOENT');
  const runId = randomUUID();
  const marker = `${RUN_MARKER_VAR}=${runId}`;
  const cgroup = opts.containment === 'proc' ? undefined : createRunCgroup(runId);
  const child = spawn(process.execPath, ['-e', SUPERVISOR_SOURCE, '--', cgroup ?? '', marker, spec.command, ...spec.args], {
    cwd: spec.cwd,
    env: { ...baseEnv, [RUN_MARKER_VAR]: runId },
    detached: true, // the supervisor leads a new process group (setsid); the engine joins it
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });

  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new EngineSpawnError(`could not start ${spec.command}: ${err.message}`, err.code)),
    );
  });
  const supervisorExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await spawned;
  } catch (err) {
    removeRunCgroup(cgroup);
    throw err;
  }
  child.on('error', (err) => log?.warn({ err }, 'engine process error'));
  const pid = child.pid!;
  const run: EngineRunHandle = { runId, pgid: pid };
  if (cgroup) run.cgroup = cgroup;
  writeRunRecord(spec.cwd, run);
  log?.debug({ runId, pgid: pid, containment: cgroup ? 'cgroup+proc' : 'proc' }, 'engine supervisor started');
  opts.onSpawn?.(pid);
  opts.onRun?.(run);

  // The supervisor reports the engine's own exit on fd 3; its own exit stands in if it died.
  const control = child.stdio[3] as Socket;
  control.on('error', () => undefined);
  const engineExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
    let buffered = '';
    control.setEncoding('utf8');
    control.on('data', (chunk: string) => {
      buffered = (buffered + chunk).slice(-4096);
      for (;;) {
        const nl = buffered.indexOf('\n');
        if (nl === -1) break;
        const msg = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const parsed = JSON.parse(msg) as { exit?: { code: number | null; signal: NodeJS.Signals | null; error?: string } };
          if (parsed.exit) resolve(parsed.exit);
        } catch {
          // not a report
        }
      }
    });
    void supervisorExited.then(resolve);
  });

  for (const e of parser.begin()) emit(e);

  child.stdin!.on('error', () => undefined); // an engine that never reads stdin closes it early
  if (spec.stdin !== undefined) child.stdin!.end(spec.stdin);
  else child.stdin!.end();

  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });

  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const stdoutDone = readBoundedLines(
    child.stdout!,
    (line, info) => {
      if (info.truncated) {
        log?.warn({ bytes: info.bytes, kept: maxLine }, 'an engine output line was too long and was cut');
        emit({ type: 'thought', text: `The engine wrote one output line of ${formatBytes(info.bytes)}; kai kept its first ${formatBytes(maxLine)}.` });
      }
      for (const e of parser.line(line)) emit(e);
    },
    maxLine,
  );

  let timedOut = false;
  let cancelled = false;
  let stopping: Promise<boolean> | undefined;
  const mine = { trustGroup: true, exclude: [pid] }; // the supervisor goes when fd 3 closes
  const stop = () => {
    stopping ??= terminateRun(run, graceMs, mine);
    return stopping;
  };
  const timer =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          void stop();
        }, opts.timeoutMs)
      : undefined;
  const onAbort = () => {
    cancelled = true;
    void stop();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const exit = await engineExited;
    // Whatever the engine left behind goes too (setsid'd descendants included): nothing keeps
    // writing to the worktree after the run.
    if (runMembers(run, mine).length > 0) await stop();
    else if (stopping) await stopping;
    control.end();
    // Neither rejects: a timeout only ends the wait.
    await withTimeout(supervisorExited, 2000).catch(() => undefined);
    // stdout closes once every writer is gone.
    await withTimeout(stdoutDone, 2000).catch(() => undefined);
    if ('error' in exit && exit.error)
      throw new EngineSpawnError(`could not start ${spec.command}: ${tail(stderr.trim(), 300) || exit.error}`, exit.error);

    const stderrTail = tail(stderr.trim(), 2000);
    if (!completion || timedOut || cancelled) {
      const end = { exitCode: exit.code, signal: exit.signal, stderrTail };
      if (cancelled && !completion) {
        completion = { type: 'completed', ok: false, answer: '', error: 'stopped' };
        if (parser.resumeToken) completion.resumeToken = parser.resumeToken;
      } else if (timedOut && !completion) {
        const secs = Math.round((opts.timeoutMs ?? 0) / 1000);
        const c: CompletedEvent = {
          type: 'completed',
          ok: false,
          answer: '',
          error: `the engine ran longer than its ${secs}s limit and was stopped. ${describeEarlyEnd(spec.command, end)}`,
        };
        if (parser.resumeToken) c.resumeToken = parser.resumeToken;
        emit(c);
      } else if (!completion) {
        for (const e of parser.finish(end)) emit(e);
      }
    } else {
      // Complete already; let the parser close what it tracks (the script engine's action).
      for (const e of parser.finish({ exitCode: exit.code, signal: exit.signal, stderrTail })) emit(e);
    }
    const final = completion!;
    return {
      completion: final,
      resumeToken: final.resumeToken ?? parser.resumeToken,
      exitCode: exit.code,
      signal: exit.signal,
      stderrTail,
      timedOut,
      cancelled,
      events,
      pid,
    };
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    control.destroy();
    await terminateRun(run, 0, { trustGroup: true });
    removeRunCgroup(cgroup);
    clearRunRecord(spec.cwd, runId);
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n >= 10 * 1024 * 1024 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}
