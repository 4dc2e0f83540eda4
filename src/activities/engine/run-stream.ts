// The engine runner's core, free of Temporal: start the CLI in its own process group, parse its
// stdout line by line into normalized events, and end it cleanly on stop or at the time cap.
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { Logger } from 'pino';
import type { EngineEvent } from './events';
import { describeEarlyEnd, tail, type CompletedEvent, type EngineStreamParser } from './parser';
import { groupAlive, terminateGroup } from './process-group';

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

  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true, // its own process group (setsid): stop reaches every descendant
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new EngineSpawnError(`could not start ${spec.command}: ${err.message}`, err.code)),
    );
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await spawned;
  child.on('error', (err) => log?.warn({ err }, 'engine process error'));
  const pid = child.pid!;
  opts.onSpawn?.(pid);

  for (const e of parser.begin()) emit(e);

  child.stdin.on('error', () => undefined); // an engine that never reads stdin closes it early
  if (spec.stdin !== undefined) child.stdin.end(spec.stdin);
  else child.stdin.end();

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });

  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  const stdoutDone = new Promise<void>((resolve) => lines.once('close', () => resolve()));
  lines.on('line', (line) => {
    for (const e of parser.line(line)) emit(e);
  });

  let timedOut = false;
  let cancelled = false;
  let stopping: Promise<boolean> | undefined;
  const stop = () => {
    stopping ??= terminateGroup(pid, graceMs);
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
    const exit = await exited;
    // Whatever the engine left behind in its group goes too: nothing keeps writing to the worktree.
    if (groupAlive(pid)) await stop();
    else if (stopping) await stopping;
    // stdout closes once every writer is gone; bounded in case a descendant escaped the group.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([stdoutDone, new Promise<void>((r) => (bound = setTimeout(r, 2000)))]);
    clearTimeout(bound);
    lines.close();

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
    if (groupAlive(pid)) await terminateGroup(pid, 0);
  }
}
