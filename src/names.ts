// The one place that spells out workflow ids, task-queue names and search-attribute keys.
// Everything that starts, signals, queries or lists kai's workflows goes through here.
import { defineSearchAttributeKey } from '@temporalio/common';

export const WORKFLOW_ID_PREFIX = 'kai-issue-';

/** Workflow id of the session workflow for one Linear issue (by its UUID). */
export function issueWorkflowId(linearIssueId: string): string {
  return `${WORKFLOW_ID_PREFIX}${linearIssueId}`;
}

/** Inverse of issueWorkflowId: the Linear issue id, or undefined when not a kai id. */
export function issueIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(WORKFLOW_ID_PREFIX) ? workflowId.slice(WORKFLOW_ID_PREFIX.length) : undefined;
}

export const DEFAULT_TASK_QUEUE = 'kai';
/** Engine runs get their own queue so a worker can cap concurrent runs separately. */
export const DEFAULT_ENGINE_TASK_QUEUE = 'kai-engine';
export const DEFAULT_NAMESPACE = 'default';

export const SEARCH_ATTRIBUTES = {
  issueId: defineSearchAttributeKey('KaiIssueId', 'KEYWORD'),
  issueIdentifier: defineSearchAttributeKey('KaiIssueIdentifier', 'KEYWORD'),
  team: defineSearchAttributeKey('KaiTeam', 'KEYWORD'),
  engine: defineSearchAttributeKey('KaiEngine', 'KEYWORD'),
  phase: defineSearchAttributeKey('KaiPhase', 'KEYWORD'),
} as const;

/** name -> Temporal CLI type, for `temporal server start-dev --search-attribute` and registration. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword'> = Object.fromEntries(
  Object.values(SEARCH_ATTRIBUTES).map((k) => [k.name, 'Keyword' as const]),
);

/** Link to a workflow in the Temporal Web UI. */
export function webUiWorkflowUrl(baseUrl: string, namespace: string, workflowId: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The engine task queue that belongs to a main task queue (`kai` -> `kai-engine`). */
export function engineTaskQueueFor(taskQueue: string): string {
  return `${taskQueue}-engine`;
}

/** A worker's own queue beside a shared one (`kai` -> `kai.worker.kai-worker-0`): the queue of
 *  the issues whose worktree and engine home that worker holds. */
export function workerTaskQueue(sharedQueue: string, workerName: string): string {
  return `${sharedQueue}.worker.${workerName}`;
}
