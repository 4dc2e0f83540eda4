// The emulator's in-memory Linear workspace: plain records and the operations on them that
// behave like Linear where kai depends on it (ephemeral replacement, client ids that must be
// UUID v4 and are refused when reused, session status derived from the last activity, final
// activities that become comments by the app user, `Entity not found` for missing entities).
// docs/linear.md names the Linear behaviour behind each rule.
import { randomUUID } from 'node:crypto';

export type StateType = 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled';
export type PlanStatus = 'pending' | 'inProgress' | 'completed' | 'canceled';

export interface OrganizationRec { id: string; name: string; urlKey: string; createdAt: string }
export interface UserRec { id: string; name: string; displayName: string; email: string; app: boolean; active: boolean; createdAt: string }
export interface TeamRec { id: string; key: string; name: string; issueEstimationType: string; createdAt: string; nextNumber: number }
export interface WorkflowStateRec { id: string; teamId: string; name: string; type: StateType; position: number; color: string; createdAt: string }
export interface ProjectRec { id: string; name: string; description: string; teamIds: string[]; createdAt: string }
export interface CycleRec { id: string; teamId: string; number: number; name?: string; startsAt: string; endsAt: string; createdAt: string }
export interface LabelRec { id: string; name: string; color: string; teamId?: string; createdAt: string }
export interface IssueRec {
  id: string;
  teamId: string;
  number: number;
  identifier: string;
  title: string;
  description?: string;
  stateId: string;
  priority: number;
  estimate?: number;
  parentId?: string;
  projectId?: string;
  cycleId?: string;
  labelIds: string[];
  assigneeId?: string;
  delegateId?: string;
  creatorId?: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  canceledAt?: string;
}
/** `userId` is absent for the thread-root comment Linear itself writes for a delegated session. */
export interface CommentRec { id: string; issueId: string; body: string; userId?: string; parentId?: string; createdAt: string }
export interface ExternalUrlRec { label: string; url: string }
export interface PlanItemRec { content: string; status: PlanStatus }
export interface SessionRec {
  id: string;
  issueId?: string;
  /** The session thread's root comment. */
  commentId?: string;
  /** The comment that opened the session (an @mention); the root itself for a delegation. */
  sourceCommentId?: string;
  creatorId?: string;
  appUserId: string;
  plan?: PlanItemRec[];
  externalUrls: ExternalUrlRec[];
  summary?: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
}
export type ActivityContent = { type: string; [key: string]: unknown };
export interface ActivityRec {
  id: string;
  sessionId: string;
  content: ActivityContent;
  ephemeral: boolean;
  signal?: string;
  signalMetadata?: unknown;
  userId: string;
  createdAt: string;
  /** The comment the activity is shown as (user prompts, and response/error/elicitation). */
  sourceCommentId?: string;
  /** An ephemeral activity the next activity in its session replaced (Linear hides it). */
  replaced: boolean;
}
export interface AttachmentRec {
  id: string;
  issueId: string;
  title: string;
  subtitle?: string;
  url: string;
  metadata: Record<string, unknown>;
  sourceType?: string;
  creatorId: string;
  createdAt: string;
}
export interface UploadRec {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  metaData?: unknown;
  uploadUrl: string;
  assetUrl: string;
  data?: Buffer;
  createdAt: string;
}

/** A refusal Linear reports as a user error (`INPUT_ERROR`, `userError: true`). */
export class LinearUserError extends Error {
  constructor(message: string, readonly userPresentableMessage = message) {
    super(message);
  }
}

/** Linear documents client-chosen ids (`AgentActivityCreateInput.id`, `IssueCreateInput.id`) as UUID v4. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function requireUuidV4(id: string, field: string): void {
  if (!UUID_V4.test(id)) throw new LinearUserError('Argument Validation Error', `${field} must be a UUID v4.`);
}

/** What Linear writes as the root of a delegated session's thread. */
export function sessionMarker(appName: string): string {
  return `This thread is for an agent session with ${appName}.`;
}

export function entityNotFound(entity: string): LinearUserError {
  return new LinearUserError(`Entity not found: ${entity}`, `Could not find referenced ${entity}.`);
}

const now = () => new Date().toISOString();

export class LinearStore {
  organization: OrganizationRec = { id: randomUUID(), name: 'Kai Emulated', urlKey: 'kai-emulated', createdAt: now() };
  /** The OAuth app user (actor=app) every request acts as. */
  appUser: UserRec = {
    id: randomUUID(),
    name: 'kai',
    displayName: 'kai',
    email: 'kai@apps.linear.local',
    app: true,
    active: true,
    createdAt: now(),
  };
  readonly users = new Map<string, UserRec>([[this.appUser.id, this.appUser]]);
  readonly teams = new Map<string, TeamRec>();
  readonly states = new Map<string, WorkflowStateRec>();
  readonly projects = new Map<string, ProjectRec>();
  readonly cycles = new Map<string, CycleRec>();
  readonly labels = new Map<string, LabelRec>();
  readonly issues = new Map<string, IssueRec>();
  readonly comments = new Map<string, CommentRec>();
  readonly sessions = new Map<string, SessionRec>();
  readonly activities = new Map<string, ActivityRec>();
  /** Activity ids per session, in creation order. */
  readonly sessionActivities = new Map<string, string[]>();
  readonly attachments = new Map<string, AttachmentRec>();
  readonly uploads = new Map<string, UploadRec>();
  lastSyncId = 1000;
  /** Called for every comment created (by a user, by kai, or for a final activity): the
   *  server sends Linear's `Comment` webhook for it. */
  onComment?: (comment: CommentRec) => void;

  constructor(readonly baseUrl: string) {}

  /** The root of the thread a comment belongs to (Linear threads are one level deep). */
  threadRoot(commentId: string): CommentRec {
    const c = this.get(this.comments, commentId, 'Comment');
    return c.parentId ? (this.comments.get(c.parentId) ?? c) : c;
  }

  nextSyncId(): number {
    return ++this.lastSyncId;
  }

  // ---------------------------------------------------------------- lookups
  get<T>(map: Map<string, T>, id: string | undefined | null, entity: string): T {
    const found = id ? map.get(id) : undefined;
    if (!found) throw entityNotFound(entity);
    return found;
  }

  /** Issues are found by UUID or by identifier (`ENG-1`), as in Linear. */
  issue(idOrIdentifier: string): IssueRec {
    const byId = this.issues.get(idOrIdentifier);
    if (byId) return byId;
    for (const issue of this.issues.values()) if (issue.identifier.toLowerCase() === idOrIdentifier.toLowerCase()) return issue;
    throw entityNotFound('Issue');
  }

  issueUrl(issue: IssueRec): string {
    return `${this.baseUrl}/${this.organization.urlKey}/issue/${issue.identifier}`;
  }

  teamStates(teamId: string): WorkflowStateRec[] {
    return [...this.states.values()].filter((s) => s.teamId === teamId).sort((a, b) => a.position - b.position);
  }

  visibleActivities(sessionId: string): ActivityRec[] {
    return (this.sessionActivities.get(sessionId) ?? []).map((id) => this.activities.get(id)!).filter((a) => !a.replaced);
  }

  /** Linear derives the session's status from its last activity; the agent never sets it. */
  sessionStatus(sessionId: string): string {
    const all = this.visibleActivities(sessionId).filter((a) => a.content.type !== 'prompt');
    const last = all[all.length - 1];
    if (!last) return 'pending';
    switch (last.content.type) {
      case 'response':
        return 'complete';
      case 'error':
        return 'error';
      case 'elicitation':
        return 'awaitingInput';
      default:
        return 'active';
    }
  }

  // ---------------------------------------------------------------- seeding
  addTeam(input: { key: string; name?: string; id?: string; states?: Array<{ name: string; type: StateType; position?: number; id?: string }> }): TeamRec {
    const team: TeamRec = {
      id: input.id ?? randomUUID(),
      key: input.key,
      name: input.name ?? input.key,
      issueEstimationType: 'fibonacci',
      createdAt: now(),
      nextNumber: 1,
    };
    this.teams.set(team.id, team);
    const states: Array<{ name: string; type: StateType; position?: number; id?: string }> = input.states ?? DEFAULT_STATES;
    states.forEach((s, i) => {
      const state: WorkflowStateRec = {
        id: s.id ?? randomUUID(),
        teamId: team.id,
        name: s.name,
        type: s.type,
        position: s.position ?? i,
        color: '#bec2c8',
        createdAt: now(),
      };
      this.states.set(state.id, state);
    });
    return team;
  }

  addProject(input: { name: string; teamIds: string[]; id?: string; description?: string }): ProjectRec {
    const project: ProjectRec = { id: input.id ?? randomUUID(), name: input.name, description: input.description ?? '', teamIds: input.teamIds, createdAt: now() };
    this.projects.set(project.id, project);
    return project;
  }

  addCycle(input: { teamId: string; number?: number; name?: string; startsAt?: string; endsAt?: string; id?: string }): CycleRec {
    const start = input.startsAt ?? new Date(Date.now() - 7 * 86400_000).toISOString();
    const end = input.endsAt ?? new Date(Date.now() + 7 * 86400_000).toISOString();
    const cycle: CycleRec = { id: input.id ?? randomUUID(), teamId: input.teamId, number: input.number ?? 1, name: input.name, startsAt: start, endsAt: end, createdAt: now() };
    this.cycles.set(cycle.id, cycle);
    return cycle;
  }

  addUser(input: { name: string; email?: string; id?: string; app?: boolean }): UserRec {
    const user: UserRec = {
      id: input.id ?? randomUUID(),
      name: input.name,
      displayName: input.name.toLowerCase().replace(/\s+/g, ''),
      email: input.email ?? `${input.name.toLowerCase().replace(/\s+/g, '.')}@example.com`,
      app: input.app ?? false,
      active: true,
      createdAt: now(),
    };
    this.users.set(user.id, user);
    return user;
  }

  addLabel(input: { name: string; teamId?: string; color?: string; id?: string }): LabelRec {
    const team = input.teamId;
    const clash = [...this.labels.values()].find(
      (l) => l.name.toLowerCase() === input.name.toLowerCase() && (l.teamId === team || !l.teamId || !team),
    );
    if (clash) throw new LinearUserError(`Duplicate label name: ${input.name}`, `A label named "${input.name}" already exists.`);
    const label: LabelRec = { id: input.id ?? randomUUID(), name: input.name, color: input.color ?? '#5e6ad2', teamId: team, createdAt: now() };
    this.labels.set(label.id, label);
    return label;
  }

  addIssue(input: {
    teamId: string;
    title: string;
    description?: string;
    stateId?: string;
    stateType?: StateType;
    priority?: number;
    estimate?: number;
    parentId?: string;
    projectId?: string;
    cycleId?: string;
    labelIds?: string[];
    creatorId?: string;
    delegateId?: string;
    id?: string;
  }): IssueRec {
    const team = this.get(this.teams, input.teamId, 'Team');
    if (input.id) requireUuidV4(input.id, 'id');
    if (input.id && this.issues.has(input.id)) throw new LinearUserError(`Issue with id ${input.id} already exists`);
    const states = this.teamStates(team.id);
    const state = input.stateId
      ? this.get(this.states, input.stateId, 'WorkflowState')
      : states.find((s) => s.type === (input.stateType ?? 'backlog')) ?? states[0];
    if (!state) throw new LinearUserError(`Team ${team.key} has no workflow states`);
    if (input.parentId) this.get(this.issues, input.parentId, 'Issue');
    for (const id of input.labelIds ?? []) this.get(this.labels, id, 'IssueLabel');
    const number = team.nextNumber++;
    const issue: IssueRec = {
      id: input.id ?? randomUUID(),
      teamId: team.id,
      number,
      identifier: `${team.key}-${number}`,
      title: input.title,
      description: input.description,
      stateId: state.id,
      priority: input.priority ?? 0,
      estimate: input.estimate,
      parentId: input.parentId,
      projectId: input.projectId,
      cycleId: input.cycleId,
      labelIds: [...(input.labelIds ?? [])],
      creatorId: input.creatorId,
      delegateId: input.delegateId,
      createdAt: now(),
      updatedAt: now(),
    };
    this.issues.set(issue.id, issue);
    return issue;
  }

  /** `userId: null` writes a comment with no author, as Linear's own session marker is. */
  addComment(input: { issueId: string; body: string; userId?: string | null; parentId?: string; id?: string }): CommentRec {
    this.get(this.issues, input.issueId, 'Issue');
    // Replies to a reply land in the root's thread: Linear threads are one level deep.
    const parentId = input.parentId ? this.threadRoot(input.parentId).id : undefined;
    const comment: CommentRec = {
      id: input.id ?? randomUUID(),
      issueId: input.issueId,
      body: input.body,
      userId: input.userId === null ? undefined : (input.userId ?? this.appUser.id),
      parentId,
      createdAt: now(),
    };
    this.comments.set(comment.id, comment);
    this.onComment?.(comment);
    return comment;
  }

  addSession(input: { issueId?: string; commentId?: string; sourceCommentId?: string; creatorId?: string; id?: string }): SessionRec {
    if (input.issueId) this.get(this.issues, input.issueId, 'Issue');
    const session: SessionRec = {
      id: input.id ?? randomUUID(),
      issueId: input.issueId,
      commentId: input.commentId,
      sourceCommentId: input.sourceCommentId ?? input.commentId,
      creatorId: input.creatorId,
      appUserId: this.appUser.id,
      externalUrls: [],
      createdAt: now(),
      updatedAt: now(),
    };
    this.sessions.set(session.id, session);
    this.sessionActivities.set(session.id, []);
    return session;
  }

  deleteSession(id: string): void {
    this.sessions.delete(id);
  }

  deleteIssue(id: string): void {
    this.issues.delete(id);
  }

  // ---------------------------------------------------------------- mutations
  createActivity(input: {
    agentSessionId: string;
    content: ActivityContent;
    ephemeral?: boolean | null;
    id?: string | null;
    signal?: string | null;
    signalMetadata?: unknown;
    userId?: string;
    /** A user's prompt written as a comment in the session thread. */
    sourceCommentId?: string;
  }): ActivityRec {
    const session = this.get(this.sessions, input.agentSessionId, 'AgentSession');
    if (input.id) {
      requireUuidV4(input.id, 'id');
      // Linear documents no idempotency for the client id: a second create with it is refused.
      if (this.activities.has(input.id)) throw new LinearUserError(`Agent activity with id ${input.id} already exists`, 'An entity with this id already exists.');
    }
    const content = validateContent(input.content);
    const ephemeral = Boolean(input.ephemeral);
    if (ephemeral && content.type !== 'thought' && content.type !== 'action')
      throw new LinearUserError(`Only thought and action activities can be ephemeral, not ${content.type}`);
    validateSignal(content.type, input.signal ?? undefined, input.signalMetadata);
    const ids = this.sessionActivities.get(session.id)!;
    const previous = ids.length ? this.activities.get(ids[ids.length - 1]!) : undefined;
    if (previous?.ephemeral) previous.replaced = true;
    const activity: ActivityRec = {
      id: input.id ?? randomUUID(),
      sessionId: session.id,
      content,
      ephemeral,
      signal: input.signal ?? undefined,
      signalMetadata: input.signalMetadata ?? undefined,
      userId: input.userId ?? this.appUser.id,
      createdAt: now(),
      sourceCommentId: input.sourceCommentId,
      replaced: false,
    };
    this.activities.set(activity.id, activity);
    ids.push(activity.id);
    session.updatedAt = activity.createdAt;
    session.startedAt ??= activity.createdAt;
    if (content.type === 'response' || content.type === 'error') session.endedAt = activity.createdAt;
    // What the agent says to the user shows in the issue as a reply by the app user in the
    // session's thread, and Linear sends the Comment webhook for it like for any comment.
    if (COMMENT_TYPES.has(content.type) && session.issueId && this.issues.has(session.issueId)) {
      const comment = this.addComment({ issueId: session.issueId, body: String(content.body), userId: this.appUser.id, parentId: session.commentId });
      activity.sourceCommentId = comment.id;
    }
    return activity;
  }

  updateSession(
    id: string,
    input: {
      plan?: unknown;
      externalUrls?: ExternalUrlRec[] | null;
      addedExternalUrls?: ExternalUrlRec[] | null;
      removedExternalUrls?: string[] | null;
      summary?: string | null;
      externalLink?: string | null;
    },
  ): SessionRec {
    const session = this.get(this.sessions, id, 'AgentSession');
    if (input.plan !== undefined && input.plan !== null) session.plan = validatePlan(input.plan);
    if (input.externalUrls) session.externalUrls = input.externalUrls.map(({ label, url }) => ({ label, url }));
    if (input.externalLink) session.externalUrls = mergeUrls(session.externalUrls, [{ label: 'External link', url: input.externalLink }]);
    if (input.addedExternalUrls) session.externalUrls = mergeUrls(session.externalUrls, input.addedExternalUrls);
    if (input.removedExternalUrls) session.externalUrls = session.externalUrls.filter((u) => !input.removedExternalUrls!.includes(u.url));
    if (input.summary !== undefined && input.summary !== null) session.summary = input.summary;
    session.updatedAt = now();
    return session;
  }

  updateIssue(idOrIdentifier: string, input: Record<string, unknown>): IssueRec {
    const issue = this.issue(idOrIdentifier);
    const str = (k: string) => (typeof input[k] === 'string' ? (input[k] as string) : undefined);
    if (str('stateId')) {
      const state = this.get(this.states, str('stateId'), 'WorkflowState');
      if (state.teamId !== issue.teamId) throw new LinearUserError('The workflow state does not belong to the issue’s team');
      issue.stateId = state.id;
      if (state.type === 'started') issue.startedAt ??= now();
      if (state.type === 'completed') issue.completedAt = now();
      if (state.type === 'canceled') issue.canceledAt = now();
    }
    if (str('title') !== undefined) issue.title = str('title')!;
    if (str('description') !== undefined) issue.description = str('description');
    if (typeof input.priority === 'number') issue.priority = input.priority;
    if (typeof input.estimate === 'number') issue.estimate = input.estimate;
    if (str('parentId')) issue.parentId = this.get(this.issues, str('parentId'), 'Issue').id;
    if (str('projectId')) issue.projectId = this.get(this.projects, str('projectId'), 'Project').id;
    if (str('cycleId')) issue.cycleId = this.get(this.cycles, str('cycleId'), 'Cycle').id;
    if (str('assigneeId')) issue.assigneeId = this.get(this.users, str('assigneeId'), 'User').id;
    if (str('delegateId')) issue.delegateId = this.get(this.users, str('delegateId'), 'User').id;
    const ids = (k: string) => (Array.isArray(input[k]) ? (input[k] as string[]) : undefined);
    for (const id of [...(ids('labelIds') ?? []), ...(ids('addedLabelIds') ?? [])]) this.get(this.labels, id, 'IssueLabel');
    if (ids('labelIds')) issue.labelIds = [...new Set(ids('labelIds'))];
    if (ids('addedLabelIds')) issue.labelIds = [...new Set([...issue.labelIds, ...ids('addedLabelIds')!])];
    if (ids('removedLabelIds')) issue.labelIds = issue.labelIds.filter((l) => !ids('removedLabelIds')!.includes(l));
    issue.updatedAt = now();
    return issue;
  }

  createAttachment(input: { issueId: string; title: string; url: string; subtitle?: string | null; metadata?: Record<string, unknown> | null; sourceType?: string; id?: string | null }): AttachmentRec {
    const issue = this.issue(input.issueId);
    // Linear keys attachments by (issue, url): linking the same URL again updates it.
    const existing = [...this.attachments.values()].find((a) => a.issueId === issue.id && a.url === input.url);
    if (existing) {
      existing.title = input.title;
      if (input.subtitle) existing.subtitle = input.subtitle;
      if (input.metadata) existing.metadata = input.metadata;
      return existing;
    }
    const attachment: AttachmentRec = {
      id: input.id ?? randomUUID(),
      issueId: issue.id,
      title: input.title,
      subtitle: input.subtitle ?? undefined,
      url: input.url,
      metadata: input.metadata ?? {},
      sourceType: input.sourceType,
      creatorId: this.appUser.id,
      createdAt: now(),
    };
    this.attachments.set(attachment.id, attachment);
    return attachment;
  }

  createUpload(input: { filename: string; contentType: string; size: number; metaData?: unknown }): UploadRec {
    if (input.size <= 0) throw new LinearUserError('size must be positive');
    const id = randomUUID();
    const upload: UploadRec = {
      id,
      filename: input.filename,
      contentType: input.contentType,
      size: input.size,
      metaData: input.metaData,
      uploadUrl: `${this.baseUrl}/_emulator/uploads/${id}`,
      assetUrl: `${this.baseUrl}/_emulator/assets/${id}/${encodeURIComponent(input.filename)}`,
      createdAt: now(),
    };
    this.uploads.set(id, upload);
    return upload;
  }
}

export const DEFAULT_STATES: Array<{ name: string; type: StateType; position: number }> = [
  { name: 'Triage', type: 'triage', position: 0 },
  { name: 'Backlog', type: 'backlog', position: 1 },
  { name: 'Todo', type: 'unstarted', position: 2 },
  { name: 'In Progress', type: 'started', position: 3 },
  { name: 'In Review', type: 'started', position: 4 },
  { name: 'Done', type: 'completed', position: 5 },
  { name: 'Canceled', type: 'canceled', position: 6 },
];

/** Agent activities that Linear shows as a comment by the app user. */
const COMMENT_TYPES = new Set(['response', 'error', 'elicitation']);

/** Signals and the activity types they apply to (Linear's signals page). */
const SIGNAL_TYPES: Record<string, string[]> = {
  stop: ['prompt'],
  continue: ['prompt'],
  auth: ['elicitation'],
  select: ['elicitation'],
};

function validateSignal(type: string, signal: string | undefined, metadata: unknown): void {
  if (signal === undefined) return;
  const applies = SIGNAL_TYPES[signal];
  if (!applies) throw new LinearUserError(`Invalid agent activity signal: ${signal}`);
  if (!applies.includes(type)) throw new LinearUserError(`The ${signal} signal applies to ${applies.join('/')} activities, not ${type}`);
  if (signal === 'select') {
    const options = (metadata as { options?: unknown } | undefined)?.options;
    if (!Array.isArray(options) || options.length === 0 || !options.every((o) => typeof (o as { value?: unknown })?.value === 'string'))
      throw new LinearUserError('The select signal needs signalMetadata.options: a non-empty list of {value: string}');
  }
  if (signal === 'auth' && typeof (metadata as { url?: unknown } | undefined)?.url !== 'string')
    throw new LinearUserError('The auth signal needs signalMetadata.url');
}

const CONTENT_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  thought: { required: ['body'], optional: [] },
  elicitation: { required: ['body'], optional: [] },
  response: { required: ['body'], optional: [] },
  error: { required: ['body'], optional: [] },
  prompt: { required: ['body'], optional: [] },
  action: { required: ['action', 'parameter'], optional: ['result'] },
};

function validateContent(content: ActivityContent): ActivityContent {
  const spec = content && typeof content.type === 'string' ? CONTENT_FIELDS[content.type] : undefined;
  if (!spec) throw new LinearUserError(`Invalid agent activity content type: ${String(content?.type)}`);
  for (const key of spec.required)
    if (typeof content[key] !== 'string') throw new LinearUserError(`Agent activity content of type ${content.type} needs a string "${key}"`);
  for (const key of Object.keys(content))
    if (key !== 'type' && !spec.required.includes(key) && !spec.optional.includes(key))
      throw new LinearUserError(`Unknown field "${key}" in ${content.type} activity content`);
  return { ...content };
}

const PLAN_STATUSES: readonly string[] = ['pending', 'inProgress', 'completed', 'canceled'];

function validatePlan(plan: unknown): PlanItemRec[] {
  if (!Array.isArray(plan)) throw new LinearUserError('plan must be a list of {content, status}');
  return plan.map((item, i) => {
    const it = item as Record<string, unknown>;
    if (typeof it?.content !== 'string' || !PLAN_STATUSES.includes(String(it.status)))
      throw new LinearUserError(`plan[${i}] must be {content: string, status: pending|inProgress|completed|canceled}`);
    return { content: it.content, status: it.status as PlanStatus };
  });
}

function mergeUrls(current: ExternalUrlRec[], added: ExternalUrlRec[]): ExternalUrlRec[] {
  const out = [...current];
  for (const { label, url } of added) {
    const at = out.findIndex((u) => u.url === url);
    if (at >= 0) out[at] = { label, url };
    else out.push({ label, url });
  }
  return out;
}
