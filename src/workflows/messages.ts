// Texts the workflow posts to Linear. Pure, so they are tested without a server.
import { HELP_COMMANDS, HELP_DIRECTIVES } from './commands';
import type { PublishResult, WorkspaceState } from '../domain/workspace';

export function ackText(source: string | undefined, queuedBehind: boolean): string {
  if (queuedBehind) return 'Got it. A run is in progress on this issue; this message is queued and runs next.';
  if (source === 'created') return 'On it: reading the issue.';
  return 'Got it: continuing.';
}

export function helpText(engine: string | undefined, model: string | undefined): string {
  const rows = (list: ReadonlyArray<readonly [string, string]>) =>
    list.map(([cmd, what]) => `| \`${cmd}\` | ${what} |`).join('\n');
  return [
    '**kai commands** (write them as a message or comment):',
    '',
    '| Command | Effect |',
    '|---|---|',
    rows(HELP_COMMANDS),
    '',
    '**Title directives and labels:**',
    '',
    '| Directive | Effect |',
    '|---|---|',
    rows(HELP_DIRECTIVES),
    '',
    `Current engine: \`${engine ?? 'default'}\`${model ? `, model \`${model}\`` : ''}.`,
  ].join('\n');
}

export function finalText(answer: string, publish: PublishResult | undefined): string {
  const parts = [answer.trim() || 'Done.'];
  if (publish?.pullRequest) {
    const verb = publish.pullRequest.created ? 'Opened' : 'Updated';
    parts.push(`${verb} pull request: [${publish.pullRequest.title}](${publish.pullRequest.url})`);
  } else if (publish && !publish.changed) {
    parts.push('No files changed, so no pull request was opened.');
  }
  return parts.join('\n\n');
}

export function stoppedText(work: WorkspaceState | undefined, droppedNote: string, branch?: string): string {
  const parts = ['Stopped: the run was cancelled and the engine process was ended.'];
  if (!work) parts.push('No changes were made in the working tree yet.');
  else if (work.uncommittedFiles === 0 && work.unpushedCommits === 0)
    parts.push(`The working tree${branch ? ` on \`${branch}\`` : ''} has no uncommitted changes.`);
  else
    parts.push(
      `The working tree${branch ? ` on \`${branch}\`` : ''} keeps ${work.uncommittedFiles} uncommitted file(s)` +
        (work.unpushedCommits ? ` and ${work.unpushedCommits} unpushed commit(s)` : '') +
        '; nothing was pushed. Send a message to continue from there.',
    );
  if (droppedNote) parts.push(droppedNote);
  return parts.join(' ');
}

/** How far a turn had come when a Stop arrived too late to cancel anything. */
export type LateStop =
  | { at: 'done' }
  /** The engine had returned: publishing ran to its end and was reported. */
  | { at: 'publishing'; published: boolean; pullRequestUrl?: string };

export function lateStopText(droppedNote: string, late: LateStop = { at: 'done' }): string {
  let head = 'The run had already finished when Stop arrived, so nothing was cancelled.';
  if (late.at === 'publishing') {
    head = late.published
      ? 'Stop arrived after the engine had finished, while its work was being published: publishing was completed' +
        (late.pullRequestUrl ? ` ([pull request](${late.pullRequestUrl}))` : '') +
        ' and reported above, so nothing was cancelled.'
      : 'Stop arrived after the engine had finished, while its work was being published: publishing did not complete (see the error above), and nothing was cancelled.';
  }
  return [head, droppedNote].filter(Boolean).join(' ');
}

export function stillWorkingText(running: boolean): string {
  return running ? 'Still working on it.' : 'Still queued: another run on this issue is in progress; this message runs after it.';
}

export const IDLE_STOP_TEXT = 'Nothing is running on this issue right now, so there is nothing to stop.';
export const RESET_TEXT =
  'Starting fresh: the conversation was cleared, and the next message begins a new one with the engine.';
export const DROPPED_BY_STOP_TEXT = 'This message was dropped because the run on this issue was stopped.';

export function errorText(step: string, message: string): string {
  return `kai could not finish this run: ${step} failed: ${message}\n\nReply here to try again.`;
}

export const NO_ISSUE_TEXT =
  'kai works on Linear issues: delegate an issue to kai, or mention it in a comment on an issue, and it reads the issue, ' +
  "makes the change in the issue's repository with a coding agent, opens a pull request and reports back in the session. " +
  'This session is not on an issue, so there is nothing to work on here: start it from an issue. Write `/help` there for the commands.';

export function elicitRepositoryText(issue: string, options: string[]): string {
  return `Which repository should kai work in for ${issue}? Pick one of: ${options.map((o) => `\`${o}\``).join(', ')}. The choice is remembered for this issue.`;
}

/** The recap an engine starts from when its earlier conversation cannot be resumed: built from
 *  the workflow's own record of the issue's turns. */
export function recapText(record: ReadonlyArray<{ prompt: string; answer?: string }>, prUrl: string | undefined): string | undefined {
  if (record.length === 0 && !prUrl) return undefined;
  const lines = ['Recap of the earlier conversation on this issue (the previous engine session could not be resumed):'];
  record.forEach((turn, i) => {
    lines.push(`${i + 1}. The user asked: ${turn.prompt}`);
    if (turn.answer) lines.push(`   You answered: ${turn.answer}`);
  });
  if (prUrl) lines.push(`The work so far is in the pull request ${prUrl}.`);
  lines.push('The new request follows.');
  return lines.join('\n');
}

/** How the engine conversation went on after a turn moved to another worker. */
export type MovedConversation = 'resumed' | 'recap' | 'new';

/** The one line a user gets when the worker holding the issue was gone and the turn moved. */
export function movedText(from: string, to: string | undefined, conversation: MovedConversation): string {
  const there = to ? `worker ${to}` : 'another worker';
  const how =
    conversation === 'resumed'
      ? 'and resumed the engine conversation'
      : conversation === 'recap'
        ? 'and started the engine conversation again from a recap of the earlier turns'
        : 'and carried on';
  return `The worker that held this issue (${from}) did not answer, so ${there} checked the branch out again from the remote ${how}.`;
}
