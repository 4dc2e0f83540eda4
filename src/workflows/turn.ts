// One turn of a session, in the order it happens: read the issue, prepare the workspace, run
// the engine, publish, report back. Each step is named once, through step(), so a failure
// says which step failed and the Web UI shows the step running now.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  setCurrentDetails,
  TimeoutFailure,
  uuid4,
} from '@temporalio/workflow';
import type { IssueContext } from '../domain/issue';
import type { ExternalUrl } from '../domain/linear';
import type { PublishResult, Workspace, WorkspaceHolder } from '../domain/workspace';
import type { EngineRunResult } from '../activities/types';
import { ErrorTypes } from '../domain/errors';
import type { SessionActivityProxies, WorkspaceProxies } from './activity-options';
import { parseCommand } from './commands';
import { finalIds } from './final';
import { elicitRepositoryText, errorText, finalText, helpText, movedText, recapText } from './messages';
import { lifecyclePlan, type LifecycleStep } from './plan';
import { PATCHES, type Session } from './session-entity';
import { sessionSummary } from './summary';
import type { PromptSignal } from './signals';

export interface TurnDeps {
  session: Session;
  acts: SessionActivityProxies;
  issueId: string;
  patched(patchId: string): boolean;
  /** Search attributes that follow the issue and the engine. */
  labelIssue(issue: IssueContext): void;
  labelEngine(engine: string): void;
  /** An issue assigned to kai counts as given to it (default true). */
  assigneeHolds?: boolean;
}

/** How a turn ended, for a Stop that arrived too late to cancel anything. */
export interface TurnEnd {
  /** The engine had returned and publishing had begun. */
  publishing: boolean;
  published?: PublishResult;
}

/** A step of the turn failed; `step` names it for the user. */
class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly failure: unknown,
  ) {
    super(describeError(failure));
  }
}

export async function runTurn(deps: TurnDeps, prompt: PromptSignal): Promise<TurnEnd> {
  const { session, acts } = deps;
  const state = session.state;
  const turnNo = state.turns;
  const command = parseCommand(prompt.body);
  const end: TurnEnd = { publishing: false };
  const postFinal = (kind: 'response' | 'error', body: string) =>
    acts.linear.linearPostFinal({ agentSessionId: prompt.agentSessionId, ...finalIds(body), kind, body }, `post ${kind}`);

  if (command?.kind === 'help') {
    await postFinal('response', helpText(state.engine, state.model));
    return end;
  }

  /** Runs `fn` as the step `name`: shown as the workflow's current details, named on failure. */
  async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    setCurrentDetails(`${sessionSummary(deps.issueId, state.issue)}\n\nturn ${turnNo}: **${name}**`);
    try {
      return await fn();
    } catch (err) {
      if (isCancellation(err) || err instanceof StepFailed) throw err;
      throw new StepFailed(name, err);
    }
  }

  const showsEachStep = deps.patched(PATCHES.planShowsEachStep);
  let ownPlan = true; // false once the engine has published a todo list of its own
  const showPlan = async (current: LifecycleStep) => {
    if (ownPlan) await acts.linear.linearUpdateSession({ agentSessionId: prompt.agentSessionId, plan: lifecyclePlan(current) }, `plan: ${current}`);
  };

  let shownWork = false; // the plan's "Do the work" is shown once, however often the turn moves
  /** Prepare, attachments, engine choice and run: the steps that need the worktree. */
  async function workOnHolder(issue: IssueContext): Promise<Worked | undefined> {
    const who = issue.identifier;
    const workspace = await step('prepare the worktree', async () => {
      try {
        return await ensureWorkspace(deps, issue);
      } catch (err) {
        // No repository known for the issue, or several could serve: ask (Linear's
        // elicitation, the `select` signal); the answer picks it and runs this request.
        const options = repositoryChoices(err);
        if (!options || !deps.patched(PATCHES.elicitRepository)) throw err;
        await acts.linear.linearElicit(
          { agentSessionId: prompt.agentSessionId, activityId: uuid4(), body: elicitRepositoryText(who, options), options },
          'ask which repository',
        );
        state.asking = { agentSessionId: prompt.agentSessionId, options, prompt };
        return undefined;
      }
    });
    if (!workspace) return undefined;
    const work = workspaceCalls(deps);
    const files = prompt.attachments?.length
      ? await step('download attachments', () =>
          work.files.filesDownloadAttachments(
            { attachments: prompt.attachments!, workspace },
            `download ${prompt.attachments!.length} attachment(s)`,
          ),
        )
      : undefined;

    const selection = await step('choose the engine', () =>
      work.engine.engineResolve(
        { issue, body: prompt.body, promptContext: prompt.promptContext, followUp: turnNo > 1 || prompt.source !== 'created', files },
        `choose the engine (turn ${turnNo})`,
      ),
    );
    state.model = selection.model;
    if (state.engine !== selection.engine) {
      state.engine = selection.engine;
      deps.labelEngine(selection.engine);
    }

    if (showsEachStep && !shownWork) await step('show the plan', () => showPlan('Do the work'));
    shownWork = true;
    session.phase = 'running';
    const hadToken = state.resumeTokens[selection.engine] !== undefined;
    const run = await step(`run ${selection.engine}`, async () => {
      const result = await work.engine.engineRun(
        {
          ...selection,
          cwd: workspace.worktreePath,
          resumeToken: state.resumeTokens[selection.engine],
          recap: state.resumeTokens[selection.engine] ? recapText(state.record ?? [], state.prUrl) : undefined,
          agentSessionId: prompt.agentSessionId,
          issueId: deps.issueId,
          issueIdentifier: who,
        },
        `run ${selection.engine} (turn ${turnNo})`,
      );
      if (result.resumeToken) state.resumeTokens[selection.engine] = result.resumeToken;
      if (!result.ok) throw ApplicationFailure.nonRetryable(result.error || 'the engine reported a failure', ErrorTypes.engineFailed);
      return result;
    });
    return { workspace, run, hadToken };
  }

  let loaded: IssueContext | undefined;
  try {
    if (showsEachStep) await step('show the plan', () => showPlan('Read the issue'));
    session.phase = 'planning';
    const issue = await step('load the issue', () => acts.linear.linearLoadIssue({ issueId: deps.issueId }, 'load the issue'));
    loaded = issue;
    if (session.rememberIssue(issue)) deps.labelIssue(issue);
    const who = issue.identifier;

    if (command?.kind === 'file') {
      await step(`/file ${command.op}`, async () => {
        session.phase = 'preparing';
        const workspace = await ensureWorkspace(deps, issue);
        const reply = await workspaceCalls(deps).files.filesCommand(
          { op: command.op, path: command.path, attachments: prompt.attachments ?? [], workspace, agentSessionId: prompt.agentSessionId },
          `/file ${command.op} in ${who}`,
        );
        await postFinal('response', reply);
      });
      return end;
    }

    await step('show the plan', () => showPlan('Prepare the workspace'));
    // Touch only what kai was given: the issue moves and gets outcome labels only when kai is
    // its delegate (or assignee); a mention on someone else's issue is answered, nothing more.
    const holdsIssue = kaiHolds(deps, issue);
    if (!state.issueStarted && holdsIssue) {
      await step('move the issue to started', async () => {
        await acts.linear.linearTransitionIssue({ issueId: deps.issueId, to: 'started' }, `move ${who} to started`);
        await acts.linear.linearRecordOutcome({ issue, outcome: 'processed' }, 'record outcome: processed');
      });
      state.issueStarted = true;
    }

    session.phase = 'preparing';
    // The workspace steps run on the worker that holds the worktree; when it stops answering,
    // the turn starts them again on another worker, which prepares the branch from the remote.
    const onHolder = deps.patched(PATCHES.workspaceOnHolder);
    let moved: WorkspaceHolder | undefined;
    let worked: Worked | undefined;
    for (let moves = 0; ; moves++) {
      try {
        worked = await workOnHolder(issue);
        break;
      } catch (err) {
        if (!onHolder || !holderLost(err) || moves >= MAX_MOVES) throw err;
        const lost = session.forgetHolder();
        moved ??= lost;
        log.warn('The worker holding the workspace did not pick up its step; moving the turn', { holder: lost?.worker, error: describeError(err) });
      }
    }
    if (!worked) return end;
    const { workspace, run } = worked;
    if (moved) {
      const conversation = !worked.hadToken ? 'new' : run.resumeLost ? 'recap' : 'resumed';
      await acts.linear
        .linearAcknowledge(
          { agentSessionId: prompt.agentSessionId, activityId: uuid4(), body: movedText(moved.worker, state.holder?.worker, conversation) },
          `moved from ${moved.worker} to ${state.holder?.worker ?? 'another worker'}`,
        )
        .catch((e) => log.warn('Could not say where the turn moved', { error: describeError(e) }));
    }
    if (run.planPublished) ownPlan = false;
    session.recordTurn(prompt.body, run.answer);

    // The engine has returned: from here the turn ends at a consistent point whatever a Stop
    // says, with its work published and reported (or a publishing error reported).
    end.publishing = true;
    const publishAndReport = async () => {
      if (showsEachStep) await step('show the plan', () => showPlan('Open the pull request'));
      session.phase = 'publishing';
      const publish = await publishWork(deps, step, issue, workspace, run.answer);
      end.published = publish;
      const addedExternalUrls: ExternalUrl[] = [];
      const pr = publish.pullRequest;
      if (pr && state.prUrl !== pr.url) {
        state.prUrl = pr.url;
        await step('link the pull request', () =>
          acts.linear.linearLinkPullRequest(
            { issueId: deps.issueId, agentSessionId: prompt.agentSessionId, url: pr.url, title: pr.title },
            `link PR #${pr.number}`,
          ),
        );
        addedExternalUrls.push({ label: 'Pull request', url: pr.url });
      }

      if (holdsIssue) {
        await step('move the issue to its success state', async () => {
          await acts.linear.linearTransitionIssue({ issueId: deps.issueId, to: 'success' }, `move ${who} to its success state`);
          await acts.linear.linearRecordOutcome({ issue, outcome: 'completed' }, 'record outcome: completed');
        });
      }

      if (showsEachStep) await step('show the plan', () => showPlan('Report back'));
      session.phase = 'responding';
      await step('post the response', () =>
        acts.linear.linearPostFinal(
          {
            agentSessionId: prompt.agentSessionId,
            ...finalIds(finalText(run.answer, publish)),
            kind: 'response',
            body: finalText(run.answer, publish),
            // The engine's own todo list, when it published one, stays as the session's plan.
            plan: ownPlan ? lifecyclePlan(undefined) : undefined,
            addedExternalUrls: addedExternalUrls.length ? addedExternalUrls : undefined,
          },
          'post response',
        ),
      );
    };
    if (deps.patched(PATCHES.publishFinishesAfterStop)) await CancellationScope.nonCancellable(publishAndReport);
    else await publishAndReport();
    state.lastError = undefined;
  } catch (err) {
    if (isCancellation(err) && session.stopRequested) throw err;
    const failed = err instanceof StepFailed ? err.step : 'the run';
    const message = err instanceof StepFailed ? err.message : describeError(err);
    state.lastError = `${failed}: ${message}`;
    // A holder lost after the engine ran (commit and push): the next turn prepares elsewhere.
    if (holderLost(err)) session.forgetHolder();
    log.error('Turn failed', { step: failed, error: message });
    const issue = loaded;
    await CancellationScope.nonCancellable(async () => {
      if (issue && state.issueStarted && kaiHolds(deps, issue)) {
        await acts.linear
          .linearRecordOutcome({ issue, outcome: 'failed' }, 'record outcome: failed')
          .catch((e) => log.warn('Could not record the failed outcome', { error: describeError(e) }));
      }
      await postFinal('error', errorText(failed, message)).catch((e) =>
        log.warn('Could not post the error to Linear', { error: describeError(e) }),
      );
    });
  }
  return end;
}

/** Whether kai may move and label the issue: it is the delegate, or the assignee where
 *  `assigneeHolds` is on. Unknown (kai's id not read) counts as given, as before. */
function kaiHolds(deps: TurnDeps, issue: IssueContext): boolean {
  if (issue.kaiIsDelegate === undefined || !deps.patched(PATCHES.touchOnlyGiven)) return true;
  return issue.kaiIsDelegate || (deps.assigneeHolds !== false && issue.kaiIsAssignee === true);
}

type Step = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** Commit and push (git), then open or update the pull request (GitHub): two activities, two
 *  retry classes. Histories from before the split replay the single gitPublish. */
async function publishWork(deps: TurnDeps, step: Step, issue: IssueContext, workspace: Workspace, summary: string): Promise<PublishResult> {
  const { git: github } = deps.acts;
  const { git } = workspaceCalls(deps);
  if (!deps.patched(PATCHES.gitPushThenPullRequest)) {
    return step('commit and open the pull request', () => git.gitPublish({ issue, workspace, summary }, 'commit, push and open the PR'));
  }
  const pushed = await step('commit and push', () => git.gitCommitAndPush({ issue, workspace, summary }, `commit and push ${workspace.branch}`));
  const pullRequest = await step('open the pull request', () =>
    github.githubOpenPullRequest({ issue, workspace, summary, commitSha: pushed.commitSha }, 'open PR'),
  );
  return { changed: pushed.changed || pullRequest !== undefined, commitSha: pushed.commitSha, pullRequest };
}

/** The worktree for this turn. Where workspaces have holders, prepared every turn (on the
 *  holder, or on the shared queue by whichever worker takes it): the mirror is fetched and a
 *  worktree lost with its worker's disk is made again from the branch on the remote. */
async function ensureWorkspace(deps: TurnDeps, issue: IssueContext): Promise<Workspace> {
  const state = deps.session.state;
  const everyTurn = deps.patched(PATCHES.workspaceOnHolder);
  if (!state.workspace || everyTurn) {
    const input = state.project ? { issue, title: issue.title, project: state.project } : { issue, title: issue.title };
    const prepare = everyTurn ? deps.acts.on(state.holder).git : deps.acts.git;
    state.workspace = await prepare.gitPrepareWorktree(input, `prepare the worktree for ${issue.identifier}`);
    if (everyTurn && state.workspace.holder) state.holder = state.workspace.holder;
  }
  return state.workspace;
}

/** The workspace steps: on the holder's queues once one is known. Histories from before
 *  workspaces had holders never learn one, so they keep the shared queues. */
export function workspaceCalls(deps: { session: Session; acts: SessionActivityProxies }): WorkspaceProxies {
  const { acts, session } = deps;
  return session.state.holder ? acts.on(session.state.holder) : { git: acts.git, files: acts.files, engine: acts.engine };
}

/** Turns one holder loss may move (each move waits for a worker to take the prepare). */
const MAX_MOVES = 3;

interface Worked {
  workspace: Workspace;
  run: EngineRunResult;
  /** The run was given a conversation to resume. */
  hadToken: boolean;
}

/** A workspace step was not picked up in time: the worker that holds the workspace is gone. */
export function holderLost(err: unknown): boolean {
  let e: unknown = err;
  while (e && typeof e === 'object') {
    if (e instanceof TimeoutFailure && e.timeoutType === 'SCHEDULE_TO_START') return true;
    e = e instanceof StepFailed ? e.failure : (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The configured projects a `NotConfigured` failure of the worktree step offers, if any. */
function repositoryChoices(err: unknown): string[] | undefined {
  let e: unknown = err;
  while (e && typeof e === 'object') {
    if (e instanceof ApplicationFailure && e.type === ErrorTypes.notConfigured) {
      const projects = (e.details?.[0] as { projects?: unknown } | undefined)?.projects;
      return Array.isArray(projects) && projects.length > 0 && projects.every((p) => typeof p === 'string') ? (projects as string[]) : undefined;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The innermost message of an activity failure, for the user and the log. */
export function describeError(err: unknown): string {
  let e: unknown = err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  if (e instanceof Error) return e.message;
  return String(e);
}
