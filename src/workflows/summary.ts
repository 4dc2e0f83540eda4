// What the Temporal Web UI shows of a session: a one-line summary (`ENG-123: title`) and
// markdown details (team, engine, phase). Pure: the client sets them as the workflow's static
// summary and details when it starts the workflow; the workflow shows them as its current details.
import { isNoIssueKey, noIssueSessionId, type IssueRef } from '../domain/issue';

const MAX_SUMMARY = 200;

/** `ENG-123: Fix the login`, or the issue's id while its identifier is not known yet, or the
 *  agent session's id for a session opened outside any issue. */
export function sessionSummary(issueId: string, issue?: IssueRef): string {
  const head = issue?.identifier
    ? `${issue.identifier}${issue.title ? `: ${oneLine(issue.title)}` : ''}`
    : isNoIssueKey(issueId)
      ? `Linear agent session ${noIssueSessionId(issueId)} (no issue)`
      : `Linear issue ${issueId}`;
  return head.length > MAX_SUMMARY ? `${head.slice(0, MAX_SUMMARY - 1)}…` : head;
}

export interface SessionFacts {
  issueId: string;
  issue?: IssueRef;
  engine?: string;
  phase?: string;
  turns?: number;
  prUrl?: string;
}

/** Markdown lines: the issue (linked), team, engine and, for a running session, phase and PR. */
export function sessionDetails(facts: SessionFacts): string {
  const { issue } = facts;
  const title = sessionSummary(facts.issueId, issue);
  return [
    issue?.url ? `**[${title}](${issue.url})**` : `**${title}**`,
    issue?.teamKey || issue?.teamId ? `team: ${issue.teamKey ?? issue.teamId}` : '',
    facts.engine ? `engine: ${facts.engine}` : '',
    facts.phase ? `phase: ${facts.phase}` : '',
    facts.turns !== undefined ? `turns: ${facts.turns}` : '',
    facts.prUrl ? `pull request: ${facts.prUrl}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
