// The Linear activities the session workflow calls. Every activity carries a uuid4 chosen by
// the workflow, and a refusal of an id Linear already holds counts as posted, so a retried
// activity never posts twice and never fails for it; every failure is classified so Temporal
// retries what can succeed later and stops at once on what cannot.
import type { Logger } from 'pino';
import type {
  AcknowledgeInput,
  ElicitInput,
  LinearActivities,
  LinearElicitation,
  LinkPullRequestInput,
  PostFinalInput,
  RecordOutcomeInput,
  RecordRepositoryInput,
  TransitionInput,
  TransitionResult,
  UpdateSessionInput,
} from '../../contracts/activities';
import type { IssueContext } from '../../domain/issue';
import type { LinearPluginConfig, LinearTransportConfig } from '../../config/schema';
import { logger as defaultLogger } from '../../log';
import type { LinearGateway } from './gateway';
import { messageParts, trimMessage } from '../../domain/message-parts';
import { postActivity, type ActivityWrite } from './post-activity';
import { chooseTransition } from './transitions';
import { estimateFromChecklist, parseChecklist } from './checklist';
import { isPermanent } from './errors';
import { REPOSITORY_METADATA_KEY, recordedRepository, repositoryRecordUrl } from './repository-record';
import { permanent } from '../errors';
import {
  ISSUE_EXTRAS_QUERY,
  ISSUE_QUERY,
  LABELS_BY_NAME_QUERY,
  type IssueExtrasResult,
  type IssueQueryResult,
  type LabelsByNameResult,
} from './queries';
import { errorText } from '../../util';

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

const withRepository = (repository: string | undefined) => (repository ? { repository } : {});

/** Two first turns creating the same outcome label at once: the second is told it exists. */
function isDuplicateLabel(err: unknown): boolean {
  const msg = errorText(err);
  return /duplicate label name|label .*already exists/i.test(msg);
}

export function createLinearActivities(deps: LinearActivitiesDeps): LinearActivities & LinearElicitation {
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
  // (which under a rate limit would never get past them); a refused repeat covers the rest.
  const done = new Set<string>();
  const remember = (key: string) => {
    done.add(key);
    if (done.size > 5000) done.delete(done.values().next().value!);
  };

  let viewerId: string | undefined;
  async function fetchIssue(issueId: string): Promise<IssueData> {
    const data = await linear.raw<IssueQueryResult>('load the issue', ISSUE_QUERY, { id: issueId });
    if (data.viewer?.id) viewerId = data.viewer.id;
    issueCache.set(issueId, { at: now(), issue: data.issue });
    if (issueCache.size > 500) issueCache.delete(issueCache.keys().next().value!);
    return data.issue;
  }

  async function issueFresh(issueId: string, maxAgeMs: number): Promise<IssueData> {
    const hit = issueCache.get(issueId);
    if (hit && now() - hit.at <= maxAgeMs) return hit.issue;
    return fetchIssue(issueId);
  }

  async function createActivity(what: string, input: ActivityWrite): Promise<void> {
    if (done.has(input.id)) return;
    const outcome = await postActivity(linear, what, input);
    if (outcome === 'already-posted') log.info({ what, activityId: input.id, agentSessionId: input.agentSessionId }, 'Linear already holds this activity id: posted by an earlier try');
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
        delegateId: issue.delegate?.id ?? undefined,
        assigneeId: issue.assignee?.id ?? undefined,
        kaiIsDelegate: viewerId ? issue.delegate?.id === viewerId : undefined,
        kaiIsAssignee: viewerId ? issue.assignee?.id === viewerId : undefined,
        ...withRepository(recordedRepository(issue.attachments?.nodes ?? [])),
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
      // One final activity, one comment: what does not fit goes first as lasting thoughts.
      let parts = overflow === 'trim' ? [trimMessage(input.body, maxBody)] : messageParts(input.body, maxBody);
      const ids = input.partIds ?? [];
      if (parts.length - 1 > ids.length) {
        log.warn({ parts: parts.length, partIds: ids.length, agentSessionId: input.agentSessionId }, 'Not enough part ids for a long final message; posting it trimmed');
        parts = [trimMessage(input.body, maxBody)];
      }
      const final = parts.pop()!;
      for (const [i, body] of parts.entries()) {
        await createActivity(`post part ${i + 1} of ${parts.length + 1} of the ${input.kind}`, {
          id: ids[i]!,
          agentSessionId: input.agentSessionId,
          content: { type: 'thought', body },
          ephemeral: false,
        });
      }
      await createActivity(`post the ${input.kind}`, { id: input.activityId, agentSessionId: input.agentSessionId, content: { type: input.kind, body: final } });
    },

    async linearElicit(input: ElicitInput): Promise<void> {
      const options = [...new Set(input.options.map((o) => o.trim()).filter(Boolean))];
      if (!options.length) throw permanent('invalidInput', 'An elicitation needs at least one option to select from');
      await createActivity('ask the user', {
        id: input.activityId,
        agentSessionId: input.agentSessionId,
        content: { type: 'elicitation', body: trimMessage(input.body, maxBody) },
        signal: 'select',
        signalMetadata: { options: options.map((value) => ({ value })) },
      });
    },

    async linearRecordRepository(input: RecordRepositoryInput): Promise<void> {
      await linear.request('record the chosen repository', (c) =>
        c.createAttachment({
          issueId: input.issueId,
          url: repositoryRecordUrl(input.issueUrl),
          title: `Repository: ${input.project}`,
          subtitle: 'Chosen for kai: its work on this issue goes there',
          metadata: { [REPOSITORY_METADATA_KEY]: input.project },
        }),
      );
      log.info({ issueId: input.issueId, project: input.project }, 'Recorded the chosen repository on the issue');
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
        log.info({ reason: errorText(err) }, 'attachmentLinkGitHubPR refused; attaching the PR as a link');
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
      try {
        const created = await linear.request(`create the label ${wanted}`, (c) => c.createIssueLabel({ name: wanted, teamId: issue.teamId }));
        const id = created.issueLabelId;
        if (!id) throw new Error(`create the label ${wanted}: Linear returned no label id`);
        label = { id, name: wanted, team: { id: issue.teamId } };
      } catch (err) {
        // Another turn created it between our look-up and our create: use theirs.
        if (!(isPermanent(err) && isDuplicateLabel(err))) throw err;
        const again = await linear.raw<LabelsByNameResult>('find the outcome label', LABELS_BY_NAME_QUERY, { filter: { name: { eqIgnoreCase: wanted } } });
        label = again.issueLabels.nodes
          .filter((l) => !l.team || l.team.id === issue.teamId)
          .sort((a, b) => Number(Boolean(b.team)) - Number(Boolean(a.team)))[0];
        if (!label) throw err;
        log.info({ label: wanted }, 'The outcome label was created by another turn meanwhile; using it');
      }
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
        // Looked up by title above, so a retry does not create it twice (Linear takes only a
        // UUID v4 as a client id, which a retry could not reproduce).
        await linear.request('create a sub-issue', (c) =>
          c.createIssue({
            teamId: issue.teamId,
            parentId: issue.id,
            title: item.text,
            ...(extras.issue.project ? { projectId: extras.issue.project.id } : {}),
          }),
        );
        existing.add(item.text.trim().toLowerCase());
      }
    }
    if (plugin.estimate_updates_enabled && extras.issue.estimate === null) {
      await linear.request('set the estimate', (c) => c.updateIssue(issue.id, { estimate: estimateFromChecklist(items) }));
    }
  }
}
