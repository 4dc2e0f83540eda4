// Resolvers for the emulator's schema: records become view objects whose fields graphql-js
// reads (methods receive the field's arguments). Connections honour `filter` and `first`.
import type { LinearStore, IssueRec, LabelRec, WorkflowStateRec, TeamRec, ActivityRec, SessionRec, AttachmentRec, CommentRec } from './store';
import { LinearUserError, entityNotFound } from './store';

type Args = Record<string, unknown>;
type Filter = Record<string, unknown> | undefined | null;

const PAGE_INFO = { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null };
const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];

function connection<T, V>(items: T[], args: Args, view: (t: T) => V) {
  const first = typeof args.first === 'number' ? args.first : 50;
  if (first > 250) throw new LinearUserError('first must be at most 250');
  const nodes = items.slice(0, first).map(view);
  return { nodes, pageInfo: { ...PAGE_INFO, hasNextPage: items.length > first } };
}

function matchString(value: string | undefined, cmp: Filter): boolean {
  if (!cmp) return true;
  const v = value ?? '';
  for (const [op, arg] of Object.entries(cmp)) {
    if (arg === undefined || arg === null) continue;
    const a = arg as string & string[];
    const ok =
      op === 'eq' ? v === a
      : op === 'neq' ? v !== a
      : op === 'in' ? a.includes(v)
      : op === 'nin' ? !a.includes(v)
      : op === 'eqIgnoreCase' ? v.toLowerCase() === a.toLowerCase()
      : op === 'neqIgnoreCase' ? v.toLowerCase() !== a.toLowerCase()
      : op === 'contains' ? v.includes(a)
      : op === 'containsIgnoreCase' ? v.toLowerCase().includes(a.toLowerCase())
      : op === 'startsWith' ? v.startsWith(a)
      : op === 'endsWith' ? v.endsWith(a)
      : false;
    if (!ok) return false;
  }
  return true;
}

function matchNumber(value: number, cmp: Filter): boolean {
  if (!cmp) return true;
  for (const [op, a] of Object.entries(cmp)) {
    if (a === undefined || a === null) continue;
    const n = a as number & number[];
    const ok =
      op === 'eq' ? value === n
      : op === 'neq' ? value !== n
      : op === 'lt' ? value < n
      : op === 'lte' ? value <= n
      : op === 'gt' ? value > n
      : op === 'gte' ? value >= n
      : op === 'in' ? n.includes(value)
      : op === 'nin' ? !n.includes(value)
      : false;
    if (!ok) return false;
  }
  return true;
}

function combine<T>(f: Filter, item: T, self: (f: Filter, item: T) => boolean): boolean {
  if (!f) return true;
  if (Array.isArray(f.and) && !f.and.every((g) => self(g as Filter, item))) return false;
  if (Array.isArray(f.or) && !f.or.some((g) => self(g as Filter, item))) return false;
  return true;
}

function matchTeam(f: Filter, team: TeamRec | undefined): boolean {
  if (!f) return true;
  if (f.null === true && team) return false;
  if (f.null === false && !team) return false;
  if ((f.id || f.key || f.name) && !team) return false;
  if (team && !(matchString(team.id, f.id as Filter) && matchString(team.key, f.key as Filter) && matchString(team.name, f.name as Filter)))
    return false;
  return combine(f, team, matchTeam);
}

export function createRoot(store: LinearStore) {
  const team = (t: TeamRec) => ({
    id: t.id,
    key: t.key,
    name: t.name,
    displayName: t.name,
    issueEstimationType: t.issueEstimationType,
    createdAt: t.createdAt,
    organization: () => organization(),
    states: (args: Args) => connection(store.teamStates(t.id).filter((s) => matchState(args.filter as Filter, s)), args, state),
    labels: (args: Args) =>
      connection([...store.labels.values()].filter((l) => l.teamId === t.id && matchLabel(args.filter as Filter, l)), args, label),
    projects: (args: Args) => connection([...store.projects.values()].filter((p) => p.teamIds.includes(t.id)), args, project),
    cycles: (args: Args) => connection([...store.cycles.values()].filter((c) => c.teamId === t.id), args, cycle),
    activeCycle: () => {
      const c = [...store.cycles.values()].find((c) => c.teamId === t.id && isActive(c));
      return c ? cycle(c) : null;
    },
  });

  const matchState = (f: Filter, s: WorkflowStateRec): boolean =>
    !f ||
    (matchString(s.id, f.id as Filter) &&
      matchString(s.name, f.name as Filter) &&
      matchString(s.type, f.type as Filter) &&
      matchNumber(s.position, f.position as Filter) &&
      (!f.team || matchTeam(f.team as Filter, store.teams.get(s.teamId))) &&
      combine(f, s, matchState));

  const matchLabel = (f: Filter, l: LabelRec): boolean =>
    !f ||
    (matchString(l.id, f.id as Filter) &&
      matchString(l.name, f.name as Filter) &&
      (!f.team || matchTeam(f.team as Filter, l.teamId ? store.teams.get(l.teamId) : undefined)) &&
      combine(f, l, matchLabel));

  const isActive = (c: { startsAt: string; endsAt: string }) => Date.parse(c.startsAt) <= Date.now() && Date.now() < Date.parse(c.endsAt);

  const organization = () => ({
    ...store.organization,
    labels: (args: Args) => connection([...store.labels.values()].filter((l) => !l.teamId && matchLabel(args.filter as Filter, l)), args, label),
    teams: (args: Args) => connection([...store.teams.values()].filter((t) => matchTeam(args.filter as Filter, t)), args, team),
  });

  const user = (id: string | undefined) => {
    const u = id ? store.users.get(id) : undefined;
    if (!u) return null;
    return { ...u, url: `${store.baseUrl}/${store.organization.urlKey}/profiles/${u.displayName}`, avatarUrl: null, organization: () => organization() };
  };

  const state = (s: WorkflowStateRec) => ({
    ...s,
    description: null,
    updatedAt: s.createdAt,
    team: () => team(store.get(store.teams, s.teamId, 'Team')),
  });

  const label = (l: LabelRec) => ({
    id: l.id,
    name: l.name,
    color: l.color,
    description: null,
    isGroup: false,
    createdAt: l.createdAt,
    team: () => (l.teamId ? team(store.get(store.teams, l.teamId, 'Team')) : null),
    parent: null,
  });

  const project = (p: { id: string; name: string; description: string; teamIds: string[]; createdAt: string }) => ({
    ...p,
    slugId: p.id.slice(0, 12),
    url: `${store.baseUrl}/${store.organization.urlKey}/project/${p.id}`,
    teams: (args: Args) => connection(p.teamIds.map((id) => store.get(store.teams, id, 'Team')), args, team),
  });

  const cycle = (c: { id: string; teamId: string; number: number; name?: string; startsAt: string; endsAt: string; createdAt: string }) => ({
    ...c,
    name: c.name ?? null,
    isActive: isActive(c),
    team: () => team(store.get(store.teams, c.teamId, 'Team')),
  });

  const issue = (i: IssueRec): Record<string, unknown> => ({
    id: i.id,
    identifier: i.identifier,
    number: i.number,
    title: i.title,
    description: i.description ?? null,
    url: store.issueUrl(i),
    branchName: `kai/${i.identifier.toLowerCase()}`,
    priority: i.priority,
    priorityLabel: PRIORITY_LABELS[i.priority] ?? 'No priority',
    estimate: i.estimate ?? null,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    startedAt: i.startedAt ?? null,
    completedAt: i.completedAt ?? null,
    canceledAt: i.canceledAt ?? null,
    labelIds: i.labelIds,
    team: () => team(store.get(store.teams, i.teamId, 'Team')),
    state: () => state(store.get(store.states, i.stateId, 'WorkflowState')),
    project: () => (i.projectId && store.projects.get(i.projectId) ? project(store.projects.get(i.projectId)!) : null),
    cycle: () => (i.cycleId && store.cycles.get(i.cycleId) ? cycle(store.cycles.get(i.cycleId)!) : null),
    parent: () => (i.parentId && store.issues.get(i.parentId) ? issue(store.issues.get(i.parentId)!) : null),
    assignee: () => user(i.assigneeId),
    delegate: () => user(i.delegateId),
    creator: () => user(i.creatorId),
    children: (args: Args) =>
      connection(
        [...store.issues.values()].filter((c) => c.parentId === i.id).sort((a, b) => a.number - b.number),
        args,
        issue,
      ),
    labels: (args: Args) =>
      connection(
        i.labelIds.map((id) => store.labels.get(id)).filter((l): l is LabelRec => !!l && matchLabel(args.filter as Filter, l)),
        args,
        label,
      ),
    comments: (args: Args) => connection([...store.comments.values()].filter((c) => c.issueId === i.id), args, comment),
    attachments: (args: Args) => connection([...store.attachments.values()].filter((a) => a.issueId === i.id), args, attachment),
  });

  const comment = (c: CommentRec): Record<string, unknown> => ({
    id: c.id,
    body: c.body,
    url: `${store.baseUrl}/${store.organization.urlKey}/comment/${c.id}`,
    createdAt: c.createdAt,
    updatedAt: c.createdAt,
    issueId: c.issueId,
    parentId: c.parentId ?? null,
    issue: () => (store.issues.get(c.issueId) ? issue(store.issues.get(c.issueId)!) : null),
    parent: () => (c.parentId && store.comments.get(c.parentId) ? comment(store.comments.get(c.parentId)!) : null),
    user: () => user(c.userId),
  });

  const attachment = (a: AttachmentRec) => ({
    ...a,
    subtitle: a.subtitle ?? null,
    sourceType: a.sourceType ?? null,
    updatedAt: a.createdAt,
    issue: () => issue(store.issue(a.issueId)),
    creator: () => user(a.creatorId),
  });

  const session = (s: SessionRec): Record<string, unknown> => ({
    id: s.id,
    status: store.sessionStatus(s.id),
    plan: s.plan ?? null,
    summary: s.summary ?? null,
    externalUrls: s.externalUrls,
    externalLinks: s.externalUrls,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    startedAt: s.startedAt ?? null,
    endedAt: s.endedAt ?? null,
    url: `${store.baseUrl}/${store.organization.urlKey}/agent-session/${s.id}`,
    issue: () => (s.issueId && store.issues.get(s.issueId) ? issue(store.issues.get(s.issueId)!) : null),
    comment: () => (s.commentId && store.comments.get(s.commentId) ? comment(store.comments.get(s.commentId)!) : null),
    creator: () => user(s.creatorId),
    appUser: () => user(s.appUserId),
    activities: (args: Args) => connection(store.visibleActivities(s.id), args, activity),
  });

  const activity = (a: ActivityRec): Record<string, unknown> => ({
    id: a.id,
    content: contentView(a.content),
    ephemeral: a.ephemeral,
    signal: a.signal ?? null,
    signalMetadata: a.signalMetadata ?? null,
    createdAt: a.createdAt,
    updatedAt: a.createdAt,
    agentSession: () => session(store.get(store.sessions, a.sessionId, 'AgentSession')),
    sourceComment: () => (a.sourceCommentId && store.comments.get(a.sourceCommentId) ? comment(store.comments.get(a.sourceCommentId)!) : null),
    user: () => user(a.userId),
  });

  const payload = <K extends string, V>(key: K, value: V) => ({ [key]: value, lastSyncId: store.nextSyncId(), success: true }) as Record<K, V> & { lastSyncId: number; success: boolean };

  const uploadView = (u: { uploadUrl: string; assetUrl: string; filename: string; contentType: string; size: number; metaData?: unknown }) => ({
    uploadUrl: u.uploadUrl,
    assetUrl: u.assetUrl,
    filename: u.filename,
    contentType: u.contentType,
    size: u.size,
    metaData: u.metaData ?? null,
    headers: [
      { key: 'Content-Type', value: u.contentType },
      { key: 'Cache-Control', value: 'public, max-age=31536000' },
    ],
  });

  return {
    // ------------------------------------------------------------ queries
    viewer: () => user(store.appUser.id),
    organization: () => organization(),
    issue: (args: Args) => issue(store.issue(String(args.id))),
    team: (args: Args) => team(store.get(store.teams, String(args.id), 'Team')),
    teams: (args: Args) => connection([...store.teams.values()].filter((t) => matchTeam(args.filter as Filter, t)), args, team),
    workflowStates: (args: Args) =>
      connection(
        [...store.states.values()].sort((a, b) => a.position - b.position).filter((s) => matchState(args.filter as Filter, s)),
        args,
        state,
      ),
    issueLabels: (args: Args) => connection([...store.labels.values()].filter((l) => matchLabel(args.filter as Filter, l)), args, label),
    agentSession: (args: Args) => session(store.get(store.sessions, String(args.id), 'AgentSession')),
    agentActivity: (args: Args) => activity(store.get(store.activities, String(args.id), 'AgentActivity')),
    attachment: (args: Args) => attachment(store.get(store.attachments, String(args.id), 'Attachment')),
    comment: (args: Args) => comment(store.get(store.comments, args.id as string, 'Comment')),
    project: (args: Args) => project(store.get(store.projects, String(args.id), 'Project')),

    // ------------------------------------------------------------ mutations
    agentActivityCreate: (args: Args) => {
      const input = args.input as Parameters<LinearStore['createActivity']>[0];
      return payload('agentActivity', activity(store.createActivity(input)));
    },
    agentSessionUpdate: (args: Args) =>
      payload('agentSession', session(store.updateSession(String(args.id), args.input as Parameters<LinearStore['updateSession']>[1]))),
    issueUpdate: (args: Args) => payload('issue', issue(store.updateIssue(String(args.id), args.input as Record<string, unknown>))),
    issueCreate: (args: Args) => {
      const input = args.input as Parameters<LinearStore['addIssue']>[0] & { title?: string };
      if (!input.title) throw new LinearUserError('title is required');
      return payload('issue', issue(store.addIssue({ ...input, title: input.title, creatorId: store.appUser.id })));
    },
    issueLabelCreate: (args: Args) => {
      const input = args.input as { name: string; teamId?: string; color?: string; id?: string };
      if (input.teamId) store.get(store.teams, input.teamId, 'Team');
      return payload('issueLabel', label(store.addLabel(input)));
    },
    attachmentCreate: (args: Args) => {
      const input = args.input as Parameters<LinearStore['createAttachment']>[0];
      return payload('attachment', attachment(store.createAttachment(input)));
    },
    attachmentLinkGitHubPR: (args: Args) => {
      const url = String(args.url);
      const m = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/pull\/(\d+)/.exec(url);
      if (!m) throw new LinearUserError(`Not a GitHub pull request URL: ${url}`);
      const a = store.createAttachment({
        issueId: String(args.issueId),
        id: args.id as string | undefined,
        title: (args.title as string | undefined) ?? `${m[1]}/${m[2]}#${m[3]}`,
        url,
        sourceType: 'github',
        metadata: { owner: m[1], repo: m[2], number: Number(m[3]), linkKind: args.linkKind ?? 'links' },
      });
      return payload('attachment', attachment(a));
    },
    commentCreate: (args: Args) => {
      const input = args.input as { body?: string; issueId?: string; parentId?: string; id?: string };
      if (!input.issueId) throw entityNotFound('Issue');
      return payload('comment', comment(store.addComment({ issueId: store.issue(input.issueId).id, body: input.body ?? '', parentId: input.parentId, id: input.id })));
    },
    fileUpload: (args: Args) => {
      const u = store.createUpload({
        filename: String(args.filename),
        contentType: String(args.contentType),
        size: Number(args.size),
        metaData: args.metaData,
      });
      return payload('uploadFile', uploadView(u));
    },
  };
}

function contentView(content: { type: string; [key: string]: unknown }) {
  const typename = `AgentActivity${content.type[0]!.toUpperCase()}${content.type.slice(1)}Content`;
  if (content.type === 'action') return { __typename: typename, ...content, result: content.result ?? null, resultData: null };
  return { __typename: typename, bodyData: {}, reasonCode: null, title: null, ...content };
}
