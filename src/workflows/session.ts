// The issue session workflow: one per Linear issue, carrying every agent session on it.
// Handlers only record and enqueue (in the Session entity); the main loop runs one queued
// item at a time; a second loop posts acknowledgements and replies at once, even while a
// long turn runs; the session continues as new when Temporal suggests it and ends when idle.
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExternalUrl } from '../domain/linear';
import type { WorkspaceState } from '../domain/workspace';
import { SEARCH_ATTRIBUTES, webUiWorkflowUrl } from '../names';
import { isNoIssueKey } from '../domain/issue';
import { sessionActivities } from './activity-options';
import { noIssueSession } from './no-issue';
import { finalIds } from './final';
import { DROPPED_BY_STOP_TEXT, RESET_TEXT, ackText, lateStopText, stillWorkingText, stoppedText } from './messages';
import { DEFAULT_SESSION_OPTIONS, type SessionInput, type SessionOptions, type SessionResult } from './options';
import { lifecyclePlan } from './plan';
import { PATCHES, Session, describeDropped, type PendingPost, type QueueItem } from './session-entity';
import { promptSignal, resetSignal, statusQuery, stopSignal, type PromptSignal } from './signals';
import { sessionDetails } from './summary';
import { describeError, runTurn, workspaceCalls, type TurnEnd } from './turn';
import type { SessionPhase } from './types';

export { DEFAULT_SESSION_OPTIONS, type SessionInput, type SessionOptions, type SessionResult };

export async function issueSessionWorkflow(input: SessionInput): Promise<SessionResult> {
  // No running history has such an id (ingress ignored sessions with no issue before).
  if (isNoIssueKey(input.issueId)) return noIssueSession(input);
  const opts: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...input.options };
  const info = workflowInfo();
  const acts = sessionActivities(opts, info.taskQueue);
  const session = new Session(input.issueId, input.carried, { patched, warn: (m, a) => log.warn(m, a) }, opts.maxSeenDeliveries);
  const state = session.state;
  const webUiUrl = opts.webUiBaseUrl ? webUiWorkflowUrl(opts.webUiBaseUrl, info.namespace, info.workflowId) : undefined;

  // ---------------------------------------------------------------- handlers
  setHandler(promptSignal, (prompt) => session.onPrompt(prompt));
  setHandler(resetSignal, (reset) => session.onReset(reset));
  setHandler(stopSignal, (stop) => session.onStop(stop));
  setHandler(statusQuery, () => session.status());

  setPhase('idle');
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.issueId, value: input.issueId }, { key: SEARCH_ATTRIBUTES.phase, value: 'idle' }]);

  // ---------------------------------------------------------------- main loop
  let posting = false;
  // Held comments count as pending: the session neither ends nor continues as new under them
  // (continue-as-new would carry them, but their grace timers would restart).
  const postsDone = () => session.posts.length === 0 && !posting && session.held.length === 0;
  void postLoop();
  void graceLoop();
  void keepAliveLoop();
  for (;;) {
    const woke = await condition(() => state.queue.length > 0, opts.idleTimeoutMs, { summary: 'idle: wait for the next message' });
    if (woke || state.queue.length > 0) {
      await runItem(state.queue.shift()!);
      if (workflowInfo().continueAsNewSuggested && state.queue.every((q) => q.acked)) {
        // Whatever is still pending is carried in the input: nothing accepted is lost.
        await condition(() => postsDone() && allHandlersFinished());
        return continueAsNew<typeof issueSessionWorkflow>({ issueId: input.issueId, options: input.options, carried: session.snapshot() });
      }
      continue;
    }
    // Idle long enough: post what is pending, remove the worktree, and end unless a message
    // arrived meanwhile (then it runs, and the session stays).
    await condition(() => postsDone() && allHandlersFinished());
    if (opts.cleanupWorktreeOnEnd && state.workspace) {
      await workspaceCalls({ session, acts })
        .git.gitCleanup({ workspace: state.workspace }, 'remove the worktree')
        .catch((err) => log.warn('Could not remove the worktree', { error: describeError(err) }));
      state.workspace = undefined;
    }
    // The engine homes go with the session: a later one starts with no token that names them.
    if (opts.cleanupWorktreeOnEnd && state.holder && patched(PATCHES.engineHomesRemoved)) {
      await workspaceCalls({ session, acts })
        .engine.engineRemoveHomes({ issueId: input.issueId }, 'remove the engine homes')
        .catch((err) => log.warn('Could not remove the engine homes', { error: describeError(err) }));
    }
    if ((state.queue.length > 0 || !postsDone()) && patched(PATCHES.nothingLostAtEnd)) {
      await condition(() => postsDone() && allHandlersFinished());
      if (state.queue.length > 0) continue;
    }
    setPhase('completed');
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'completed' }]);
    return { issueId: input.issueId, turns: state.turns, prUrl: state.prUrl };
  }

  // ---------------------------------------------------------------- one queued item
  async function runItem(item: QueueItem): Promise<void> {
    if (item.kind === 'reset') {
      session.forgetResumeTokens();
      state.lastAgentSessionId = item.reset.agentSessionId;
      await postFinal(item.reset.agentSessionId, 'response', RESET_TEXT).catch((err) =>
        log.warn('Could not post to Linear', { error: describeError(err) }),
      );
      return;
    }
    const prompt = session.answerElicitation(item.prompt);
    state.lastAgentSessionId = prompt.agentSessionId;
    state.turns += 1;
    session.stopRequested = undefined;
    const scope = new CancellationScope();
    session.turn = { agentSessionId: prompt.agentSessionId, cancel: () => scope.cancel() };
    setPhase('acknowledging');
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'running' }]);
    try {
      const end = await scope.run(async () => {
        await acknowledge(item, false).catch((err) => {
          if (isCancellation(err)) throw err;
          log.warn('Could not acknowledge', { error: describeError(err) });
        });
        return runTurn(
          {
            session,
            acts,
            issueId: input.issueId,
            patched,
            labelIssue: (issue) =>
              upsertSearchAttributes([
                { key: SEARCH_ATTRIBUTES.issueIdentifier, value: issue.identifier },
                { key: SEARCH_ATTRIBUTES.team, value: issue.teamKey ?? issue.teamId },
              ]),
            labelEngine: (engine) => upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.engine, value: engine }]),
            assigneeHolds: opts.assigneeHolds,
          },
          prompt,
        );
      });
      // Stop arrived when nothing was left to cancel: the queue still goes and the user
      // still learns what became of the run.
      const late = session.stopRequested as { agentSessionId: string } | undefined; // set by the stop handler meanwhile
      if (late?.agentSessionId) {
        session.posts.push({ kind: 'reply', agentSessionId: late.agentSessionId, body: lateStopText(describeDropped(session.dropQueue()), lateStop(end)) });
      } else if (late) {
        session.dropQueue();
      }
    } catch (err) {
      if (!(isCancellation(err) && session.stopRequested)) throw err;
      setPhase('stopping');
      await CancellationScope.nonCancellable(() => reportStopped(prompt));
    } finally {
      session.turn = undefined;
      session.stopRequested = undefined;
      setPhase('idle');
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'idle' }]);
    }
  }

  async function reportStopped(prompt: PromptSignal): Promise<void> {
    const dropped = session.dropQueue();
    let work: WorkspaceState | undefined;
    if (state.workspace) {
      const workspace = state.workspace;
      work = await workspaceCalls({ session, acts })
        .git.gitDescribe({ workspace }, 'describe the worktree after stop')
        .catch((err) => void log.warn('Could not describe the worktree after stop', { error: describeError(err) }));
    }
    try {
      // Linear's Stop: after the stop signal, no API call but the one final activity (the
      // describe above is local git). The engine activity is cancelled with
      // WAIT_CANCELLATION_COMPLETED, so its process group is dead before this answer is posted.
      await postFinal(prompt.agentSessionId, 'response', stoppedText(work ?? undefined, describeDropped(dropped), state.workspace?.branch));
      if (!patched(PATCHES.stopIsFinal)) {
        await acts.linear.linearUpdateSession(
          { agentSessionId: prompt.agentSessionId, plan: lifecyclePlan('Do the work', 'Do the work') },
          'plan: stopped',
        );
      }
    } catch (err) {
      log.warn('Could not post the stop response', { error: describeError(err) });
    }
    // Other sessions whose messages were dropped still get an answer.
    const others = new Set(
      dropped.map((d) => (d.kind === 'prompt' ? d.prompt.agentSessionId : d.reset.agentSessionId)).filter((id) => id !== prompt.agentSessionId),
    );
    for (const id of others) {
      await postFinal(id, 'response', DROPPED_BY_STOP_TEXT).catch((err) => log.warn('Could not post to Linear', { error: describeError(err) }));
    }
  }

  // ---------------------------------------------------------------- one message, one run
  /** Each held comment waits its grace period for the AgentSessionEvent of the same message
   *  (which then runs instead); otherwise it runs as a comment follow-up. */
  async function graceLoop(): Promise<void> {
    for (;;) {
      await condition(() => session.held.length > 0);
      const commentId = session.held[0]!.commentId!;
      const claimed = await condition(() => !session.held.some((h) => h.commentId === commentId), opts.commentGraceMs, {
        summary: 'grace: wait for the comment\'s agent session event',
      });
      if (!claimed) session.releaseHeld(commentId);
    }
  }

  // ---------------------------------------------------------------- never stale while working
  /** Linear marks a session stale after 30 min without an activity: while kai holds sessions
   *  (a turn runs, messages wait behind it), each gets an ephemeral thought every keepAliveMs.
   *  Never after a Stop: then only the final answer may be posted. */
  async function keepAliveLoop(): Promise<void> {
    const busy = () => session.turn !== undefined || state.queue.length > 0;
    for (;;) {
      await condition(busy);
      if (!patched(PATCHES.keepAlive)) return;
      const idleAgain = await condition(() => !busy(), opts.keepAliveMs, { summary: 'keep-alive: wait before the next still-working note' });
      if (idleAgain) continue;
      for (const agentSessionId of session.heldSessions()) {
        if (session.stopRequested) break;
        const running = session.turn?.agentSessionId === agentSessionId;
        await acts.linear
          .linearAcknowledge({ agentSessionId, activityId: uuid4(), body: stillWorkingText(running) }, running ? 'still working' : 'still queued')
          .catch((err) => log.warn('Could not post the keep-alive thought', { error: describeError(err) }));
      }
    }
  }

  // ---------------------------------------------------------------- acknowledgements and replies
  async function postLoop(): Promise<void> {
    for (;;) {
      await condition(() => session.posts.length > 0);
      posting = true;
      const next: PendingPost = session.posts[0]!;
      try {
        if (next.kind === 'reply') {
          await postFinal(next.agentSessionId, 'response', next.body);
        } else {
          const item = session.queued(next.deliveryId);
          if (item && !item.acked) await acknowledge(item, next.queuedBehind);
        }
      } catch (err) {
        log.warn('Could not post to Linear', { error: describeError(err) });
      } finally {
        session.posts.shift();
        posting = false;
      }
    }
  }

  async function acknowledge(item: QueueItem, queuedBehind: boolean): Promise<void> {
    if (item.acked) return;
    item.acked = true; // claim first: the post loop and the turn never both post it
    const signal = item.kind === 'prompt' ? item.prompt : item.reset;
    const externalUrls: ExternalUrl[] = [];
    // Every agent session gets its links (not once per issue); the Temporal link only where a
    // Web UI is configured.
    if (webUiUrl && session.needsLinks(signal.agentSessionId)) externalUrls.push({ label: 'Temporal run', url: webUiUrl });
    await acts.linear.linearAcknowledge(
      {
        agentSessionId: signal.agentSessionId,
        activityId: uuid4(),
        body: ackText(item.kind === 'prompt' ? item.prompt.source : undefined, queuedBehind),
        externalUrls: externalUrls.length ? externalUrls : undefined,
      },
      queuedBehind ? 'acknowledge a queued message' : 'acknowledge the message',
    );
    if (externalUrls.length) {
      state.externalUrlsSet = true;
      session.linked(signal.agentSessionId);
    }
  }

  async function postFinal(agentSessionId: string, kind: 'response' | 'error', body: string): Promise<void> {
    await acts.linear.linearPostFinal({ agentSessionId, ...finalIds(body), kind, body }, `post ${kind}`);
  }

  function setPhase(phase: SessionPhase): void {
    session.phase = phase;
    if (phase === 'idle' || phase === 'completed') {
      setCurrentDetails(sessionDetails({ issueId: input.issueId, issue: state.issue, engine: state.engine, phase, turns: state.turns, prUrl: state.prUrl }));
    }
  }
}

function lateStop(end: TurnEnd): Parameters<typeof lateStopText>[1] {
  if (!end.publishing) return { at: 'done' };
  return { at: 'publishing', published: end.published !== undefined, pullRequestUrl: end.published?.pullRequest?.url };
}
