// `kai status` and `kai sessions`: read sessions through the status query and visibility.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, issueIdFromWorkflowId, issueWorkflowId, webUiWorkflowUrl } from '../names';
import type { TemporalSettings } from '../temporal/connect';
import { withTimeout } from '../util';
import { statusQuery } from '../workflows/signals';

/** Where `kai dev` serves the Web UI: the terminal's link when no [temporal] web_ui_url is set. */
const LOCAL_WEB_UI_URL = 'http://localhost:8233';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]*-\d+$/;

/** The workflow id for an issue given as identifier (ENG-123, via visibility) or Linear id. */
export async function findIssueWorkflow(client: Client, issue: string): Promise<string | undefined> {
  if (!IDENTIFIER.test(issue)) return issueWorkflowId(issue);
  const query = `${SEARCH_ATTRIBUTES.issueIdentifier.name} = '${issue.toUpperCase()}'`;
  for await (const wf of client.workflow.list({ query, pageSize: 1 })) return wf.workflowId;
  return undefined;
}

export async function printStatus(client: Client, settings: TemporalSettings, issue: string, json: boolean): Promise<number> {
  const workflowId = await findIssueWorkflow(client, issue);
  if (!workflowId) {
    process.stderr.write(`No kai session found for ${issue}. \`kai sessions --all\` lists the sessions kai knows.\n`);
    return 1;
  }
  const handle = client.workflow.getHandle(workflowId);
  try {
    const desc = await handle.describe();
    const url = webUiWorkflowUrl(settings.webUiUrl ?? LOCAL_WEB_UI_URL, settings.namespace, workflowId);
    const status = desc.status.name === 'RUNNING' ? await handle.query(statusQuery) : undefined;
    if (json) {
      process.stdout.write(`${JSON.stringify({ workflowId, execution: desc.status.name, status, webUiUrl: url }, null, 2)}\n`);
      return 0;
    }
    const lines = [`${status?.issueIdentifier ?? issue}  (${workflowId})`, `  workflow: ${desc.status.name}`];
    if (status) {
      lines.push(
        `  phase: ${status.phase}`,
        `  agent session: ${status.agentSessionId ?? '-'}`,
        `  queued prompts: ${status.queuedPrompts}   held by worker: ${status.holder ?? '-'}`,
        `  engine: ${status.engine ?? '-'}   resume tokens: ${Object.keys(status.resumeTokens).join(', ') || 'none'}`,
        `  turns: ${status.turns}   pull request: ${status.prUrl ?? '-'}`,
        `  last error: ${status.lastError ?? '-'}`,
      );
    }
    lines.push(`  Web UI: ${url}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      process.stderr.write(`No kai session found for ${issue}.\n`);
      return 1;
    }
    throw err;
  }
}

/** How long `kai sessions` waits for a running session to answer its status query (for the PR). */
const STATUS_QUERY_TIMEOUT_MS = 2_000;

async function pullRequestOf(client: Client, workflowId: string): Promise<string> {
  try {
    // No worker answering (all stopped) must not stall the listing: the PR column shows "?".
    const status = await withTimeout(client.workflow.getHandle(workflowId).query(statusQuery), STATUS_QUERY_TIMEOUT_MS);
    return status.prUrl ?? '-';
  } catch {
    return '?';
  }
}

export async function printSessions(client: Client, settings: TemporalSettings, opts: { all: boolean; limit: number }): Promise<void> {
  const query = `WorkflowType = 'issueSessionWorkflow'${opts.all ? '' : ` AND ExecutionStatus = 'Running'`}`;
  const rows: Array<Promise<string[]>> = [];
  for await (const wf of client.workflow.list({ query })) {
    const sa = wf.typedSearchAttributes;
    const cells = [
      sa.get(SEARCH_ATTRIBUTES.issueIdentifier) ?? issueIdFromWorkflowId(wf.workflowId) ?? wf.workflowId,
      wf.status.name,
      sa.get(SEARCH_ATTRIBUTES.phase) ?? '-',
      sa.get(SEARCH_ATTRIBUTES.engine) ?? '-',
      sa.get(SEARCH_ATTRIBUTES.team) ?? '-',
    ];
    const url = webUiWorkflowUrl(settings.webUiUrl ?? LOCAL_WEB_UI_URL, settings.namespace, wf.workflowId);
    // The pull request lives in the session's state, not in visibility: ask the running ones.
    const pr = wf.status.name === 'RUNNING' ? pullRequestOf(client, wf.workflowId) : Promise.resolve('-');
    rows.push(pr.then((p) => [...cells, p, url]));
    if (rows.length >= opts.limit) break;
  }
  if (rows.length === 0) {
    process.stdout.write(opts.all ? 'No kai sessions yet.\n' : 'No running kai sessions (`--all` includes ended ones).\n');
    return;
  }
  const table = await Promise.all(rows);
  const header = ['ISSUE', 'WORKFLOW', 'PHASE', 'ENGINE', 'TEAM', 'PULL REQUEST', 'WEB UI'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  for (const row of [header, ...table]) process.stdout.write(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
}
