// Activities that record every call, for tests about the workflow itself. The engine can be
// held mid-run (heartbeating, cancellable) so a test can signal while it runs.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { EngineRunInput, EngineRunResult, LinearElicitation, SessionActivities } from '../../src/activities/types';
import type { IssueContext } from '../../src/domain/issue';

export interface Call {
  name: string;
  input: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  at: number;
}

export class FakeActivities {
  readonly calls: Call[] = [];
  private held = false;
  private waiters: Array<() => void> = [];
  private failures = new Map<string, Array<Error>>();
  private engineRuns = 0;
  private gates = new Map<string, { open: Promise<void>; release(): void }>();
  /** Called with every recorded call (the crash test writes them to a file). */
  onCall?: (call: Call) => void;
  /** Each engine run takes this long (heartbeating) before it answers. */
  engineDurationMs = 0;
  /** Engine result override; by default each run succeeds with a new resume token. */
  engineResult?: (input: EngineRunInput, n: number) => EngineRunResult;
  issue: IssueContext = {
    id: 'issue-1',
    identifier: 'ENG-1',
    title: 'Add a greeting',
    url: 'https://linear.app/acme/issue/ENG-1',
    teamId: 'team-1',
    teamKey: 'ENG',
    labels: [],
    stateType: 'unstarted',
  };

  /** Engine runs wait (heartbeating) until release(). */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Calls of activity `name` wait (after being recorded) until releaseActivity(name). */
  holdActivity(name: keyof SessionActivities | 'linearElicit'): void {
    let release!: () => void;
    const open = new Promise<void>((r) => (release = r));
    this.gates.set(name, { open, release });
  }

  releaseActivity(name: keyof SessionActivities | 'linearElicit'): void {
    this.gates.get(name)?.release();
    this.gates.delete(name);
  }

  /** The next call of `name` throws `error` (queue several for several calls). */
  failNext(name: keyof SessionActivities | 'linearElicit', error: Error): void {
    const list = this.failures.get(name) ?? [];
    list.push(error);
    this.failures.set(name, list);
  }

  named(name: string): Call[] {
    return this.calls.filter((c) => c.name === name);
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** Final posts (response or error), in order. */
  finals(): Array<{ agentSessionId: string; kind: string; body: string }> {
    return this.named('linearPostFinal').map((c) => ({ agentSessionId: c.input.agentSessionId, kind: c.input.kind, body: c.input.body }));
  }

  private record(name: string, input: unknown): void {
    const call = { name, input, at: Date.now() };
    this.calls.push(call);
    this.onCall?.(call);
    const failure = this.failures.get(name)?.shift();
    if (failure) throw failure;
  }

  activities(): SessionActivities & LinearElicitation {
    const rec = <T>(name: keyof SessionActivities | 'linearElicit', result: (input: any) => T | Promise<T>) => async (input: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      this.record(name, input);
      const gate = this.gates.get(name);
      if (gate) await gate.open;
      return result(input);
    };
    return {
      linearAcknowledge: rec('linearAcknowledge', () => undefined),
      linearLoadIssue: rec('linearLoadIssue', () => this.issue),
      linearUpdateSession: rec('linearUpdateSession', () => undefined),
      linearPostFinal: rec('linearPostFinal', () => undefined),
      linearTransitionIssue: rec('linearTransitionIssue', (i) => ({ changed: true, to: i.to })),
      linearLinkPullRequest: rec('linearLinkPullRequest', () => undefined),
      linearRecordOutcome: rec('linearRecordOutcome', () => undefined),
      linearElicit: rec('linearElicit', () => undefined),
      engineResolve: rec('engineResolve', (i) => ({ engine: 'script', prompt: i.body })),
      engineRemoveHomes: rec('engineRemoveHomes', () => undefined),
      engineRun: async (input: EngineRunInput) => {
        this.record('engineRun', input);
        const n = ++this.engineRuns;
        const ctx = Context.current();
        const until = Date.now() + this.engineDurationMs;
        while (Date.now() < until) {
          ctx.heartbeat({ progress: n });
          await ctx.sleep(Math.min(200, Math.max(1, until - Date.now())));
        }
        while (this.held) {
          ctx.heartbeat({ waiting: true });
          const released = new Promise<void>((r) => this.waiters.push(r));
          try {
            await Promise.race([released, ctx.cancelled, ctx.sleep(200)]);
          } catch (err) {
            const cancelled = { name: 'engineRun:cancelled', input, at: Date.now() };
            this.calls.push(cancelled);
            this.onCall?.(cancelled);
            throw err;
          }
        }
        return this.engineResult?.(input, n) ?? { ok: true, answer: `Did: ${input.prompt}`, resumeToken: `token-${n}` };
      },
      gitPrepareWorktree: rec('gitPrepareWorktree', () => ({ repoPath: '/repo', worktreePath: '/repo/.worktrees/kai/ENG-1', branch: 'kai/ENG-1' })),
      gitPublish: rec('gitPublish', () => ({
        changed: true,
        commitSha: 'abc123',
        pullRequest: { url: 'https://github.com/acme/app/pull/1', number: 1, title: 'ENG-1: Add a greeting', created: true },
      })),
      gitCommitAndPush: rec('gitCommitAndPush', (i) => ({ changed: true, commitSha: 'abc123', pushed: true, branch: i.workspace.branch })),
      githubOpenPullRequest: rec('githubOpenPullRequest', () => ({
        url: 'https://github.com/acme/app/pull/1',
        number: 1,
        title: 'ENG-1: Add a greeting',
        created: true,
      })),
      gitDescribe: rec('gitDescribe', () => ({ uncommittedFiles: 2, unpushedCommits: 0 })),
      gitCleanup: rec('gitCleanup', () => undefined),
      filesDownloadAttachments: rec('filesDownloadAttachments', () => []),
      filesCommand: rec('filesCommand', (i) => `ok ${i.op} ${i.path}`),
    };
  }
}

export function permanentError(message: string, type = 'LinearUserError'): Error {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}
