// The Linear activities the session workflow calls. Every write carries an id chosen by the
// workflow (or derived from one), so a retried activity never posts twice; every failure is
// classified so Temporal retries what can succeed later and stops at once on what cannot.
import type { Logger } from 'pino';
import type {
  AcknowledgeInput,
  LinearActivities,
  LinkPullRequestInput,
  PostFinalInput,
  RecordOutcomeInput,
  TransitionInput,
  TransitionResult,
  UpdateSessionInput,
} from '../types';
import type { IssueContext } from '../../domain/issue';
import type { LinearPluginConfig, LinearTransportConfig } from '../../config/schema';
import { logger as defaultLogger } from '../../log';
import type { LinearGateway } from './gateway';
import { fitMessage } from './message';
import { partActivityId, uuidFromName } from './ids';
import { chooseTransition } from './transitions';
import { estimateFromChecklist, parseChecklist } from './checklist';
import { isPermanent } from './errors';
import {
  ISSUE_EXTRAS_QUERY,
  ISSUE_QUERY,
  LABELS_BY_NAME_QUERY,
  type IssueExtrasResult,
  type IssueQueryResult,
  type LabelsByNameResult,
} from './queries';

export type LinearMessageConfig = Pick<LinearTransportConfig, 'message_overflow' | 'max_body_chars'>;
export type LinearOutcomeConfig = Pick<
  LinearPluginConfig,
  | 'success_state_name'
  | 'success_state_names'
  | 'auto_labels_enabled'
  | 'auto_labels'
  | 'subissues_enabled'
  | 'subissues_max'
  | 'estimate_updates_enabled'
>;

export interface LinearActivitiesDeps {
  linear: LinearGateway;
  transport?: Partial<LinearMessageConfig>;
  plugin?: Partial<LinearOutcomeConfig>;
  logger?: Logger;
  /** How long an issue read by linearLoadIssue may stand in for a fresh one when moving it to
   *  started (the two run back to back in a turn). */
  issueCacheMs?: number;
  now?: () => number;
}

type IssueData = IssueQueryResult['issue'];

/** A retried create whose client id Linear already holds means the first try got through. */
function isDuplicateId(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /already (exists|in use)|duplicate (id|key)/i.test(msg) && !/label/i.test(msg);
}

export function createLinearActivities(deps: LinearActivitiesDeps): LinearActivities {
  const linear = deps.linear;
  const log = (deps.logger ?? defaultLogger).child({ component: 'linear-activities' });
  const now = deps.now ?? Date.now;
  const maxBody = deps.transport?.max_body_chars ?? 10_000;
  const overflow = deps.transport?.message_overflow ?? 'split';
  const plugin = deps.plugin ?? {};
  const cacheMs = deps.issueCacheMs ?? 30_000;
  const issueCache = new Map<string, { at: number; issue: IssueData }>();
  // Writes this worker already saw succeed. A retried activity usually lands on the same worker;
  // skipping what it already posted keeps a split message from re-sending every earlier part
  // (which under a rate limit would never get past them). Linear's id idempotency covers the rest.
  const done = new Set<string>();
  const remember = (key: string) => {
    done.add(key);
    if (done.size > 5000) done.delete(done.values().next().value!);
  };

  async function fetchIssue(issueId: string): Promise<IssueData> {
    const data = await linear.raw<IssueQueryResult>('load the issue', ISSUE_QUERY, { id: issueId });
    issueCache.set(issueId, { at: now(), issue: data.issue });
    if (issueCache.size > 500) issueCache.delete(issueCache.keys().next().value!);
    return data.issue;
  }

  async function issueFresh(issueId: string, maxAgeMs: number): Promise<IssueData> {
    const hit = issueCache.get(issueId);
    if (hit && now() - hit.at <= maxAgeMs) return hit.issue;
    return fetchIssue(issueId);
  }

  async function createActivity(what: string, input: { id: string; agentSessionId: string; content: Record<string, unknown>; ephemeral?: boolean }): Promise<void> {
    if (done.has(input.id)) return;
    try {
      await linear.request(what, (c) => c.createAgentActivity(input));
    } catch (err) {
      if (!(isPermanent(err) && isDuplicateId(err))) throw err;
    }
    remember(input.id);
  }

  async function updateSession(what: string, agentSessionId: string, input: { plan?: unknown; addedExternalUrls?: Array<{ label: string; url: string }> }): Promise<void> {
    if (input.plan === undefined && !input.addedExternalUrls?.length) return;
    await linear.request(what, (c) =>
      c.updateAgentSession(agentSessionId, {
        ...(input.plan !== undefined ? { plan: input.plan as Record<string, unknown> } : {}),
        ...(input.addedExternalUrls?.length ? { addedExternalUrls: input.addedExternalUrls } : {}),
      }),
    );
  }

  return {
    async linearAcknowledge(input: AcknowledgeInput): Promise<void> {
      // The thought goes first: it is what makes the session look alive within Linear's 10 s.
      await createActivity('acknowledge', {
        id: input.activityId,
        agentSessionId: input.agentSessionId,
        content: { type: 'thought', body: input.body },
        ephemeral: true,
      });
      await updateSession('set the session links', input.agentSessionId, { addedExternalUrls: input.externalUrls });
    },

    async linearLoadIssue({ issueId }): Promise<IssueContext> {
      const issue = await fetchIssue(issueId);
      return {
        id: issue.id,
        identifier: issue.identifier,
        title: issue.title,
        description: issue.description ?? undefined,
        url: issue.url,
        teamId: issue.team.id,
        teamKey: issue.team.key,
        projectId: issue.project?.id,
        labels: issue.labels.nodes.map((l) => l.name),
        stateType: issue.state.type,
        stateName: issue.state.name,
        priority: issue.priority,
      };
    },

    async linearUpdateSession(input: UpdateSessionInput): Promise<void> {
      await updateSession('update the session', input.agentSessionId, { plan: input.plan, addedExternalUrls: input.addedExternalUrls });
    },

    async linearPostFinal(input: PostFinalInput): Promise<void> {
      // Plan and links first, so the final activity is the session's last word.
      const updateKey = `${input.activityId}:session`;
      if (!done.has(updateKey)) {
        await updateSession('complete the plan', input.agentSessionId, { plan: input.plan, addedExternalUrls: input.addedExternalUrls });
        remember(updateKey);
      }
      const parts = fitMessage(input.body, maxBody, overflow);
      for (const [i, body] of parts.entries()) {
        await createActivity(parts.length > 1 ? `post the ${input.kind} (part ${i + 1} of ${parts.length})` : `post the ${input.kind}`, {
          id: partActivityId(input.activityId, i),
          agentSessionId: input.agentSessionId,
          content: { type: input.kind, body },
        });
      }
    },

    async linearTransitionIssue(input: TransitionInput): Promise<TransitionResult> {
      // Moving to success happens after a long run: read the issue afresh, a person may have
      // moved it meanwhile. Moving to started follows linearLoadIssue directly.
      const issue = input.to === 'started' ? await issueFresh(input.issueId, cacheMs) : await fetchIssue(input.issueId);
      const target = chooseTransition(input.to, issue.state, issue.team.states.nodes, plugin);
      if (!target) return { changed: false, from: issue.state.name };
      await linear.request(`move the issue to ${target.name}`, (c) => c.updateIssue(issue.id, { stateId: target.id }));
      issueCache.set(input.issueId, { at: now(), issue: { ...issue, state: target } });
      log.info({ issue: issue.identifier, from: issue.state.name, to: target.name }, 'Moved the issue');
      return { changed: true, from: issue.state.name, to: target.name };
    },

    async linearLinkPullRequest(input: LinkPullRequestInput): Promise<void> {
      try {
        await linear.request('link the pull request', (c) => c.attachmentLinkGitHubPR(input.issueId, input.url, { title: input.title }));
      } catch (err) {
        // Without Linear's GitHub integration the PR link is refused: a plain attachment works.
        if (!isPermanent(err)) throw err;
        log.info({ reason: err instanceof Error ? err.message : String(err) }, 'attachmentLinkGitHubPR refused; attaching the PR as a link');
        await linear.request('attach the pull request', (c) =>
          c.createAttachment({ issueId: input.issueId, url: input.url, title: input.title, subtitle: 'Pull request opened by kai' }),
        );
      }
    },

    async linearRecordOutcome(input: RecordOutcomeInput): Promise<void> {
      if (plugin.auto_labels_enabled) await applyOutcomeLabel(input);
      if (input.outcome === 'processed' && (plugin.subissues_enabled || plugin.estimate_updates_enabled)) await applyPlanningExtras(input.issue);
    },
  };

  async function applyOutcomeLabel({ issue, outcome }: RecordOutcomeInput): Promise<void> {
    const names = {
      processed: plugin.auto_labels?.processed ?? 'agent:processed',
      completed: plugin.auto_labels?.completed ?? 'agent:completed',
      failed: plugin.auto_labels?.failed ?? 'agent:failed',
    };
    const wanted = names[outcome];
    // The end of a turn replaces the other end's label: an issue is completed or failed, not both.
    const opposite = outcome === 'completed' ? names.failed : outcome === 'failed' ? names.completed : undefined;
    // Linear treats label names case-insensitively: `Agent:Processed` is the label we want.
    const found = await linear.raw<LabelsByNameResult>('find the outcome labels', LABELS_BY_NAME_QUERY, {
      filter: { or: [wanted, ...(opposite ? [opposite] : [])].map((name) => ({ name: { eqIgnoreCase: name } })) },
    });
    const usable = found.issueLabels.nodes.filter((l) => !l.team || l.team.id === issue.teamId);
    const pick = (name: string) =>
      usable.find((l) => l.name.toLowerCase() === name.toLowerCase() && l.team) ?? usable.find((l) => l.name.toLowerCase() === name.toLowerCase());
    let label = pick(wanted);
    if (!label) {
      const created = await linear.request(`create the label ${wanted}`, (c) => c.createIssueLabel({ name: wanted, teamId: issue.teamId }));
      const id = created.issueLabelId;
      if (!id) throw new Error(`create the label ${wanted}: Linear returned no label id`);
      label = { id, name: wanted, team: { id: issue.teamId } };
    }
    const remove = opposite ? pick(opposite) : undefined;
    const has = (name: string) => issue.labels.some((l) => l.toLowerCase() === name.toLowerCase());
    if (has(wanted) && !(remove && has(opposite!))) return;
    await linear.request(`label the issue ${wanted}`, (c) =>
      c.updateIssue(issue.id, { addedLabelIds: [label!.id], ...(remove ? { removedLabelIds: [remove.id] } : {}) }),
    );
  }

  async function applyPlanningExtras(issue: IssueContext): Promise<void> {
    const extras = await linear.raw<IssueExtrasResult>('read the issue checklist', ISSUE_EXTRAS_QUERY, { id: issue.id });
    const items = parseChecklist(extras.issue.description ?? undefined);
    if (plugin.subissues_enabled) {
      const max = plugin.subissues_max ?? 5;
      const existing = new Set(extras.issue.children.nodes.map((c) => c.title.trim().toLowerCase()));
      for (const item of items.filter((i) => !i.done).slice(0, max)) {
        if (existing.has(item.text.trim().toLowerCase())) continue;
        try {
          await linear.request('create a sub-issue', (c) =>
            c.createIssue({
              // Derived from the parent and the item: a retry cannot create it twice.
              id: uuidFromName(issue.id, `subissue:${item.text}`),
              teamId: issue.teamId,
              parentId: issue.id,
              title: item.text,
              ...(extras.issue.project ? { projectId: extras.issue.project.id } : {}),
            }),
          );
        } catch (err) {
          if (!(isPermanent(err) && isDuplicateId(err))) throw err;
        }
      }
    }
    if (plugin.estimate_updates_enabled && extras.issue.estimate === null) {
      await linear.request('set the estimate', (c) => c.updateIssue(issue.id, { estimate: estimateFromChecklist(items) }));
    }
  }
}
