// The issue session workflow: one per Linear issue, carrying every agent session on it.
// Handlers only record and enqueue; the main loop runs one turn at a time; a second loop
// acknowledges new messages at once, even while a long turn is running.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type {
  EngineActivities,
  FilesActivities,
  GitActivities,
  LinearActivities,
  PublishResult,
  Workspace,
  WorkspaceState,
} from '../activities/types';
import { SEARCH_ATTRIBUTES, engineTaskQueueFor, webUiWorkflowUrl } from '../names';
import { parseCommand } from './commands';
import {
  DROPPED_BY_STOP_TEXT,
  IDLE_STOP_TEXT,
  RESET_TEXT,
  ackText,
  errorText,
  finalText,
  helpText,
  lateStopText,
  stoppedText,
} from './messages';
import { lifecyclePlan, type LifecycleStep } from './plan';
import { promptSignal, resetSignal, statusQuery, stopSignal, type PromptSignal } from './signals';
import { SessionState, describeDropped, type CarriedState, type QueueItem } from './session-state';
import type { ExternalUrl, IssueContext, SessionPhase } from './types';

export interface SessionOptions {
  /** A session with nothing to do completes after this long. */
  idleTimeoutMs: number;
  engineTimeoutMs: number;
  engineHeartbeatTimeoutMs: number;
  /** Queue of the engine workers; defaults to `<task queue>-engine`. */
  engineTaskQueue?: string;
  /** Temporal Web UI base URL, for the session's link in Linear. */
  webUiBaseUrl?: string;
  cleanupWorktreeOnEnd: boolean;
  maxSeenDeliveries: number;
  linearMaxAttempts: number;
  gitMaxAttempts: number;
  engineMaxAttempts: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  idleTimeoutMs: 24 * 60 * 60 * 1000,
  engineTimeoutMs: 2 * 60 * 60 * 1000,
  engineHeartbeatTimeoutMs: 60 * 1000,
  cleanupWorktreeOnEnd: true,
  maxSeenDeliveries: 1000,
  linearMaxAttempts: 8,
  gitMaxAttempts: 5,
  engineMaxAttempts: 3,
};

export interface SessionInput {
  issueId: string;
  options?: Partial<SessionOptions>;
  /** State handed over by continue-as-new. */
  carried?: CarriedState;
}

export interface SessionResult {
  issueId: string;
  turns: number;
  prUrl?: string;
}

/** Workflow changes guarded for histories recorded before them (see test/workflows/replay.test.ts). */
const PATCH_HELP_AT_ONCE = 'help-answered-at-once';

/** Non-retryable failure types raised by activities (see src/activities/errors.ts). */
const PERMANENT_ERRORS = ['LinearUserError', 'NotConfigured', 'InvalidInput', 'EngineUnavailable'];

export async function issueSessionWorkflow(input: SessionInput): Promise<SessionResult> {
  const opts: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...input.options };
  const state = new SessionState(input.issueId, input.carried, opts.maxSeenDeliveries);
  const info = workflowInfo();
  const acts = activityProxies(opts, info.taskQueue);

  /** Posts that must not wait for the running turn (acks, answers that need no turn), in order. */
  const postQueue: Array<{ kind: 'ack'; item: QueueItem; queuedBehind: boolean } | { kind: 'reply'; agentSessionId: string; body: string }> = [];
  let turn: { scope: CancellationScope; agentSessionId: string } | undefined;
  let stopRequested: { agentSessionId: string } | undefined;
  let ending = false;

  setHandler(promptSignal, (prompt) => {
    if (!state.accept(prompt.deliveryId)) return;
    // Issue-level events (comments) carry no agent session: answer in the session last used.
    if (!prompt.agentSessionId && state.agentSessionId) prompt = { ...prompt, agentSessionId: state.agentSessionId };
    if (!prompt.agentSessionId) {
      log.warn('Dropping a prompt that names no agent session on an issue that has none', { deliveryId: prompt.deliveryId });
      return;
    }
    // /help needs no turn: answer it at once rather than behind a running engine.
    if (parseCommand(prompt.body)?.kind === 'help' && patched(PATCH_HELP_AT_ONCE)) {
      postQueue.push({ kind: 'reply', agentSessionId: prompt.agentSessionId, body: helpText(state.engine, state.model) });
      return;
    }
    const item = state.enqueuePrompt(prompt);
    postQueue.push({ kind: 'ack', item, queuedBehind: turn !== undefined });
  });
  setHandler(resetSignal, (reset) => {
    if (!state.accept(reset.deliveryId)) return;
    if (!reset.agentSessionId && state.agentSessionId) reset = { ...reset, agentSessionId: state.agentSessionId };
    const item = state.enqueueReset(reset);
    if (turn) postQueue.push({ kind: 'ack', item, queuedBehind: true });
    else item.acked = true; // answered by its own response right away
  });
  setHandler(stopSignal, (stop) => {
    if (!state.accept(stop.deliveryId)) return;
    if (turn) {
      stopRequested = { agentSessionId: stop.agentSessionId };
      turn.scope.cancel();
    } else if (stop.agentSessionId) {
      // An issue-level stop (delegate removed, issue canceled) while idle needs no answer.
      postQueue.push({ kind: 'reply', agentSessionId: stop.agentSessionId, body: IDLE_STOP_TEXT });
    }
  });
  setHandler(statusQuery, () => state.status());

  const setPhase = (phase: SessionPhase) => {
    state.phase = phase;
  };
  const upsert = (pairs: SearchAttributeUpdatePair[]) => upsertSearchAttributes(pairs);
  upsert([
    { key: SEARCH_ATTRIBUTES.issueId, value: input.issueId },
    { key: SEARCH_ATTRIBUTES.phase, value: 'idle' },
  ]);

  const webUiUrl = opts.webUiBaseUrl ? webUiWorkflowUrl(opts.webUiBaseUrl, info.namespace, info.workflowId) : undefined;

  // ------------------------------------------------------------------ acknowledgements
  async function postLoop(): Promise<void> {
    for (;;) {
      await condition(() => postQueue.length > 0 || ending);
      if (postQueue.length === 0) return;
      const next = postQueue.shift()!;
      try {
        if (next.kind === 'reply') {
          await postFinal(next.agentSessionId, 'response', next.body);
        } else if (!next.item.acked) {
          await acknowledge(next.item, next.queuedBehind);
        }
      } catch (err) {
        log.warn('Could not post to Linear', { error: describeError(err) });
      }
    }
  }

  async function acknowledge(item: QueueItem, queuedBehind: boolean): Promise<void> {
    if (item.acked) return;
    item.acked = true; // claim first: the post loop and the turn never both post it
    const signal = item.kind === 'prompt' ? item.prompt : item.reset;
    const externalUrls: ExternalUrl[] = [];
    if (!state.externalUrlsSet && webUiUrl) externalUrls.push({ label: 'Temporal run', url: webUiUrl });
    await acts.linear.linearAcknowledge({
      agentSessionId: signal.agentSessionId,
      activityId: uuid4(),
      body: ackText(item.kind === 'prompt' ? item.prompt.source : undefined, queuedBehind),
      externalUrls: externalUrls.length ? externalUrls : undefined,
    });
    if (externalUrls.length) state.externalUrlsSet = true;
  }

  // ------------------------------------------------------------------ one turn
  async function runTurn(prompt: PromptSignal): Promise<void> {
    const command = parseCommand(prompt.body);
    let step = 'acknowledge';
    if (command?.kind === 'help') {
      await postFinal(prompt.agentSessionId, 'response', helpText(state.engine, state.model));
      return;
    }

    const lifecycle = async (current: LifecycleStep) =>
      acts.linear.linearUpdateSession({ agentSessionId: prompt.agentSessionId, plan: lifecyclePlan(current) });

    let loaded: IssueContext | undefined;
    try {
      step = 'load the issue';
      setPhase('planning');
      const issue = await acts.linear.linearLoadIssue({ issueId: input.issueId });
      loaded = issue;
      rememberIssue(issue);

      if (command?.kind === 'file') {
        step = `/file ${command.op}`;
        setPhase('preparing');
        const workspace = await ensureWorkspace(issue);
        const reply = await acts.files.filesCommand({
          op: command.op,
          path: command.path,
          attachments: prompt.attachments ?? [],
          workspace,
          agentSessionId: prompt.agentSessionId,
        });
        await postFinal(prompt.agentSessionId, 'response', reply);
        return;
      }

      await lifecycle('Prepare the workspace');
      if (!state.issueStarted) {
        step = 'move the issue to started';
        await acts.linear.linearTransitionIssue({ issueId: input.issueId, to: 'started' });
        await acts.linear.linearRecordOutcome({ issue, outcome: 'processed' });
        state.issueStarted = true;
      }

      step = 'prepare the worktree';
      setPhase('preparing');
      const workspace = await ensureWorkspace(issue);

      let files: string[] | undefined;
      if (prompt.attachments?.length) {
        step = 'download attachments';
        files = await acts.files.filesDownloadAttachments({ attachments: prompt.attachments, workspace });
      }

      step = 'choose the engine';
      const followUp = state.turns > 1 || prompt.source !== 'created';
      const selection = await acts.engine.engineResolve({
        issue,
        body: prompt.body,
        promptContext: prompt.promptContext,
        followUp,
        files,
      });
      state.model = selection.model;
      if (state.engine !== selection.engine) {
        state.engine = selection.engine;
        upsert([{ key: SEARCH_ATTRIBUTES.engine, value: selection.engine }]);
      }

      step = `run ${selection.engine}`;
      setPhase('running');
      const run = await acts.engine.engineRun({
        ...selection,
        cwd: workspace.worktreePath,
        resumeToken: state.resumeTokens[selection.engine],
        agentSessionId: prompt.agentSessionId,
        issueId: input.issueId,
        issueIdentifier: issue.identifier,
      });
      if (run.resumeToken) state.resumeTokens[selection.engine] = run.resumeToken;
      if (!run.ok) throw ApplicationFailure.nonRetryable(run.error || 'the engine reported a failure', 'EngineFailed');

      step = 'commit and open the pull request';
      setPhase('publishing');
      const publish: PublishResult = await acts.git.gitPublish({ issue, workspace, summary: run.answer });
      const addedExternalUrls: ExternalUrl[] = [];
      if (publish.pullRequest) {
        const isNew = state.prUrl !== publish.pullRequest.url;
        state.prUrl = publish.pullRequest.url;
        if (isNew) {
          await acts.linear.linearLinkPullRequest({
            issueId: input.issueId,
            agentSessionId: prompt.agentSessionId,
            url: publish.pullRequest.url,
            title: publish.pullRequest.title,
          });
          addedExternalUrls.push({ label: 'Pull request', url: publish.pullRequest.url });
        }
      }

      step = 'move the issue to its success state';
      await acts.linear.linearTransitionIssue({ issueId: input.issueId, to: 'success' });
      await acts.linear.linearRecordOutcome({ issue, outcome: 'completed' });

      step = 'post the response';
      setPhase('responding');
      await acts.linear.linearPostFinal({
        agentSessionId: prompt.agentSessionId,
        activityId: uuid4(),
        kind: 'response',
        body: finalText(run.answer, publish),
        // The engine's own todo list, when it published one, stays as the session's plan.
        plan: run.planPublished ? undefined : lifecyclePlan(undefined),
        addedExternalUrls: addedExternalUrls.length ? addedExternalUrls : undefined,
      });
      state.lastError = undefined;
    } catch (err) {
      if (isCancellation(err) && stopRequested) throw err;
      const message = describeError(err);
      state.lastError = `${step}: ${message}`;
      log.error('Turn failed', { step, error: message });
      const issue = loaded;
      await CancellationScope.nonCancellable(async () => {
        if (issue && state.issueStarted) {
          await acts.linear.linearRecordOutcome({ issue, outcome: 'failed' }).catch((outcomeErr) =>
            log.warn('Could not record the failed outcome', { error: describeError(outcomeErr) }),
          );
        }
        await postFinal(prompt.agentSessionId, 'error', errorText(step, message)).catch((postErr) =>
          log.warn('Could not post the error to Linear', { error: describeError(postErr) }),
        );
      });
    }
  }

  async function ensureWorkspace(issue: IssueContext): Promise<Workspace> {
    if (!state.workspace) state.workspace = await acts.git.gitPrepareWorktree({ issue, title: issue.title });
    return state.workspace;
  }

  function rememberIssue(issue: IssueContext): void {
    const changed = state.issue?.identifier !== issue.identifier || state.issue?.teamId !== issue.teamId;
    state.issue = {
      ...state.issue,
      id: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      url: issue.url,
      teamId: issue.teamId,
      teamKey: issue.teamKey,
      projectId: issue.projectId,
    };
    if (changed)
      upsert([
        { key: SEARCH_ATTRIBUTES.issueIdentifier, value: issue.identifier },
        { key: SEARCH_ATTRIBUTES.team, value: issue.teamKey ?? issue.teamId },
      ]);
  }

  async function postFinal(agentSessionId: string, kind: 'response' | 'error', body: string): Promise<void> {
    await acts.linear.linearPostFinal({ agentSessionId, activityId: uuid4(), kind, body });
  }

  async function reportStopped(prompt: PromptSignal): Promise<void> {
    const dropped = state.dropQueue();
    let work: WorkspaceState | undefined;
    if (state.workspace) {
      try {
        work = await acts.git.gitDescribe({ workspace: state.workspace });
      } catch (err) {
        log.warn('Could not describe the worktree after stop', { error: describeError(err) });
      }
    }
    const body = stoppedText(work, describeDropped(dropped), state.workspace?.branch);
    try {
      await postFinal(prompt.agentSessionId, 'response', body);
      await acts.linear.linearUpdateSession({
        agentSessionId: prompt.agentSessionId,
        plan: lifecyclePlan('Do the work', 'Do the work'),
      });
    } catch (err) {
      log.warn('Could not post the stop response', { error: describeError(err) });
    }
    // Other sessions whose messages were dropped still get an answer.
    const others = new Set(
      dropped
        .map((d) => (d.kind === 'prompt' ? d.prompt.agentSessionId : d.reset.agentSessionId))
        .filter((id) => id !== prompt.agentSessionId),
    );
    for (const id of others) {
      await postFinal(id, 'response', DROPPED_BY_STOP_TEXT).catch((err) =>
        log.warn('Could not post to Linear', { error: describeError(err) }),
      );
    }
  }

  async function runItem(item: QueueItem): Promise<void> {
    if (item.kind === 'reset') {
      state.forgetResumeTokens();
      state.agentSessionId = item.reset.agentSessionId;
      await postFinal(item.reset.agentSessionId, 'response', RESET_TEXT).catch((err) =>
        log.warn('Could not post to Linear', { error: describeError(err) }),
      );
      return;
    }
    const prompt = item.prompt;
    state.agentSessionId = prompt.agentSessionId;
    state.turns += 1;
    stopRequested = undefined;
    const scope = new CancellationScope();
    turn = { scope, agentSessionId: prompt.agentSessionId };
    setPhase('acknowledging');
    upsert([{ key: SEARCH_ATTRIBUTES.phase, value: 'running' }]);
    try {
      await scope.run(async () => {
        await acknowledge(item, false).catch((err) => {
          if (isCancellation(err)) throw err;
          log.warn('Could not acknowledge', { error: describeError(err) });
        });
        await runTurn(prompt);
      });
      // Stop arrived after the last step had finished: nothing was left to cancel, but the
      // queue still goes and the user still gets an answer.
      const late = stopRequested as { agentSessionId: string } | undefined; // set by the stop handler meanwhile
      if (late) {
        const note = describeDropped(state.dropQueue());
        if (late.agentSessionId) postQueue.push({ kind: 'reply', agentSessionId: late.agentSessionId, body: lateStopText(note) });
      }
    } catch (err) {
      if (!(isCancellation(err) && stopRequested)) throw err;
      setPhase('stopping');
      await CancellationScope.nonCancellable(() => reportStopped(prompt));
    } finally {
      turn = undefined;
      stopRequested = undefined;
      setPhase('idle');
      upsert([{ key: SEARCH_ATTRIBUTES.phase, value: 'idle' }]);
    }
  }

  // ------------------------------------------------------------------ main loop
  const posting = postLoop();
  for (;;) {
    const woke = await condition(() => state.queue.length > 0, opts.idleTimeoutMs);
    if (!woke && state.queue.length === 0) break;
    const item = state.queue.shift()!;
    await runItem(item);
    if (workflowInfo().continueAsNewSuggested && state.queue.every((q) => q.acked)) {
      ending = true;
      await posting;
      await condition(allHandlersFinished);
      return continueAsNew<typeof issueSessionWorkflow>({
        issueId: input.issueId,
        options: input.options,
        carried: state.snapshot(),
      });
    }
  }

  ending = true;
  await posting;
  await condition(allHandlersFinished);
  if (opts.cleanupWorktreeOnEnd && state.workspace) {
    await acts.git.gitCleanup({ workspace: state.workspace }).catch((err) =>
      log.warn('Could not remove the worktree', { error: describeError(err) }),
    );
  }
  setPhase('completed');
  upsert([{ key: SEARCH_ATTRIBUTES.phase, value: 'completed' }]);
  return { issueId: input.issueId, turns: state.turns, prUrl: state.prUrl };
}

function activityProxies(opts: SessionOptions, taskQueue: string) {
  const linear = proxyActivities<LinearActivities>({
    startToCloseTimeout: '60s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '60s',
      maximumAttempts: opts.linearMaxAttempts,
      nonRetryableErrorTypes: PERMANENT_ERRORS,
    },
  });
  const resolve = proxyActivities<Pick<EngineActivities, 'engineResolve'>>({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', maximumAttempts: opts.gitMaxAttempts, nonRetryableErrorTypes: PERMANENT_ERRORS },
  });
  const run = proxyActivities<Pick<EngineActivities, 'engineRun'>>({
    taskQueue: opts.engineTaskQueue ?? engineTaskQueueFor(taskQueue),
    startToCloseTimeout: opts.engineTimeoutMs,
    heartbeatTimeout: opts.engineHeartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '2s',
      maximumAttempts: opts.engineMaxAttempts,
      nonRetryableErrorTypes: [...PERMANENT_ERRORS, 'EngineFailed', 'EngineTimeout'],
    },
  });
  const git = proxyActivities<GitActivities>({
    startToCloseTimeout: '10m',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumAttempts: opts.gitMaxAttempts,
      nonRetryableErrorTypes: PERMANENT_ERRORS,
    },
  });
  const files = proxyActivities<FilesActivities>({
    startToCloseTimeout: '10m',
    retry: { initialInterval: '2s', maximumAttempts: opts.gitMaxAttempts, nonRetryableErrorTypes: PERMANENT_ERRORS },
  });
  // Activity proxies are Proxy objects: pick the functions, spreading would copy nothing.
  return { linear, engine: { engineResolve: resolve.engineResolve, engineRun: run.engineRun }, git, files };
}

/** The innermost message of an activity failure, for the user and the log. */
function describeError(err: unknown): string {
  let e: unknown = err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  if (e instanceof Error) return e.message;
  return String(e);
}
