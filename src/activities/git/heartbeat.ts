// Heartbeats of the git activities: while a long command runs (clone, fetch, worktree add on a
// large repository, push), the activity beats on a timer with the step it is in, so a worker
// that dies is noticed within the heartbeat timeout, and a cancelled activity kills its command.
import { Context } from '@temporalio/activity';

export interface GitHeartbeatDetails {
  /** The git step in progress ("git fetch origin", "git push origin kai/ENG-1", ...). */
  step: string;
  startedAt: number;
}

export interface GitBeat {
  /** Names the step now running and beats at once. */
  step(name: string): void;
  /** Aborts when the activity is cancelled; undefined outside an activity. */
  readonly signal?: AbortSignal;
  /** The activity's attempt (1 outside an activity). */
  readonly attempt: number;
  stop(): void;
}

const QUIET: GitBeat = { step() {}, stop() {}, attempt: 1 };

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called directly (tests, CLI), not as an activity
  }
}

export function startGitBeat(everyMs: number): GitBeat {
  const ctx = currentContext();
  if (!ctx) return QUIET;
  let details: GitHeartbeatDetails = { step: 'starting', startedAt: Date.now() };
  const beat = () => ctx.heartbeat(details);
  const timer = setInterval(beat, everyMs);
  timer.unref?.();
  return {
    step(name: string) {
      details = { step: name, startedAt: Date.now() };
      beat();
    },
    signal: ctx.cancellationSignal,
    attempt: ctx.info.attempt,
    stop: () => clearInterval(timer),
  };
}

/** Runs `fn` with a heartbeat timer that stops when it returns or throws. */
export async function withGitBeat<T>(everyMs: number, fn: (beat: GitBeat) => Promise<T>): Promise<T> {
  const beat = startGitBeat(everyMs);
  try {
    return await fn(beat);
  } finally {
    beat.stop();
  }
}
