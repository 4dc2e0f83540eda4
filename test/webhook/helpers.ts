// Linear webhook bodies shaped like Linear's (per @linear/sdk's webhook payload types), signing,
// posting, and a recording stand-in for SessionClient.
import { createHmac, randomUUID } from 'node:crypto';
import type { SessionSignal } from '../../src/client';
import type { SessionSink } from '../../src/ingress/dispatch';

export const SECRET = 'test-signing-secret-0123456789';
export const APP_USER_ID = 'app-user-kai';
export const ORG_ID = 'org-1';

export function sign(raw: string | Buffer, secret = SECRET): string {
  return createHmac('sha256', secret).update(raw).digest('hex');
}

export interface PostResult {
  status: number;
  body: string;
  ms: number;
}

export async function postRaw(url: string, raw: string, headers: Record<string, string>, method = 'POST'): Promise<PostResult> {
  const t0 = performance.now();
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: method === 'GET' ? undefined : raw });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - t0 };
}

/** Signs and posts a body the way Linear does; a fresh webhookTimestamp unless the body has one. */
export async function deliver(url: string, payload: Record<string, unknown>, deliveryId: string = randomUUID()): Promise<PostResult> {
  const raw = JSON.stringify({ webhookTimestamp: Date.now(), ...payload });
  return postRaw(url, raw, { 'Linear-Delivery': deliveryId, 'Linear-Event': String(payload.type), 'Linear-Signature': sign(raw) });
}

const base = () => ({
  createdAt: new Date().toISOString(),
  organizationId: ORG_ID,
  webhookId: 'webhook-1',
  webhookTimestamp: Date.now(),
});

const user = (id: string, name: string) => ({ id, name, email: `${id}@example.com`, url: `https://linear.app/acme/profiles/${id}`, avatarUrl: null });

export interface IssueOpts {
  issueId: string;
  identifier?: string;
  title?: string;
  description?: string | null;
}

function issueChild(o: IssueOpts) {
  return {
    id: o.issueId,
    identifier: o.identifier ?? 'ENG-1',
    title: o.title ?? 'Add a greeting',
    description: o.description ?? null,
    url: `https://linear.app/acme/issue/${o.identifier ?? 'ENG-1'}`,
    teamId: 'team-1',
    team: { id: 'team-1', key: 'ENG', name: 'Engineering' },
  };
}

function agentSession(o: IssueOpts & { sessionId: string; commentId?: string; commentBody?: string }) {
  return {
    id: o.sessionId,
    appUserId: APP_USER_ID,
    organizationId: ORG_ID,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    status: 'pending',
    type: 'commentThread',
    url: `https://linear.app/acme/agent-session/${o.sessionId}`,
    issueId: o.issueId,
    issue: issueChild(o),
    commentId: o.commentId ?? null,
    comment: o.commentId ? { id: o.commentId, body: o.commentBody ?? '', issueId: o.issueId, userId: 'user-1' } : null,
    sourceCommentId: o.commentId ?? null,
    creatorId: 'user-1',
    creator: user('user-1', 'Ada'),
    startedAt: null,
    endedAt: null,
    summary: null,
    sourceMetadata: null,
    archivedAt: null,
  };
}

export function agentSessionCreated(o: IssueOpts & { sessionId: string; commentId?: string; commentBody?: string }) {
  return {
    ...base(),
    type: 'AgentSessionEvent',
    action: 'created',
    appUserId: APP_USER_ID,
    oauthClientId: 'oauth-client-1',
    agentSession: agentSession(o),
    promptContext: `<issue identifier="${o.identifier ?? 'ENG-1'}"><title>${o.title ?? 'Add a greeting'}</title></issue>`,
    previousComments: [],
    guidance: [],
  };
}

export function agentSessionPrompted(o: IssueOpts & { sessionId: string; body: string; signal?: 'stop'; sourceCommentId?: string }) {
  return {
    ...base(),
    type: 'AgentSessionEvent',
    action: 'prompted',
    appUserId: APP_USER_ID,
    oauthClientId: 'oauth-client-1',
    agentSession: agentSession(o),
    agentActivity: {
      id: randomUUID(),
      agentSessionId: o.sessionId,
      content: { type: 'prompt', body: o.body },
      signal: o.signal ?? null,
      signalMetadata: null,
      sourceCommentId: o.sourceCommentId ?? null,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      archivedAt: null,
      userId: 'user-1',
      user: user('user-1', 'Ada'),
    },
  };
}

export function commentCreated(o: IssueOpts & { commentId?: string; body: string; userId?: string; parentId?: string }) {
  const userId = o.userId ?? 'user-1';
  return {
    ...base(),
    type: 'Comment',
    action: 'create',
    url: `https://linear.app/acme/issue/ENG-1#comment-${o.commentId ?? 'c'}`,
    actor: { ...user(userId, 'Ada'), type: 'user' },
    data: {
      id: o.commentId ?? randomUUID(),
      body: o.body,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      reactionData: {},
      issueId: o.issueId,
      parentId: o.parentId ?? null,
      userId,
      user: user(userId, userId === APP_USER_ID ? 'kai' : 'Ada'),
      issue: issueChild(o),
    },
  };
}

export function issueUpdated(
  o: IssueOpts & {
    updatedFrom: Record<string, unknown>;
    delegateId?: string | null;
    stateType?: string;
    priority?: number;
    cycle?: { startsAt: string; endsAt: string } | null;
  },
) {
  return {
    ...base(),
    type: 'Issue',
    action: 'update',
    url: `https://linear.app/acme/issue/${o.identifier ?? 'ENG-1'}`,
    updatedFrom: o.updatedFrom,
    data: {
      ...issueChild(o),
      number: 1,
      priority: o.priority ?? 0,
      priorityLabel: 'No priority',
      prioritySortOrder: 0,
      sortOrder: 0,
      labelIds: [],
      labels: [],
      previousIdentifiers: [],
      reactionData: {},
      releases: [],
      subscriberIds: [],
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      stateId: 'state-x',
      state: { id: 'state-x', name: o.stateType === 'canceled' ? 'Canceled' : 'In Progress', type: o.stateType ?? 'started', color: '#000' },
      delegateId: o.delegateId ?? null,
      delegate: null,
      assigneeId: null,
      cycleId: o.cycle === undefined ? undefined : o.cycle ? 'cycle-1' : null,
      cycle: o.cycle ? { id: 'cycle-1', number: 1, name: null, ...o.cycle } : undefined,
    },
  };
}

export function oauthRevoked() {
  return { ...base(), type: 'OAuthApp', action: 'revoked', oauthClientId: 'oauth-client-1' };
}

export function permissionChange(removedTeamIds: string[]) {
  return {
    ...base(),
    type: 'PermissionChange',
    action: 'teamAccessChanged',
    appUserId: APP_USER_ID,
    oauthClientId: 'oauth-client-1',
    addedTeamIds: [],
    removedTeamIds,
    canAccessAllPublicTeams: false,
  };
}

export function reactionCreated() {
  return { ...base(), type: 'Reaction', action: 'create', data: { id: randomUUID(), emoji: 'tada' } };
}

/** Records what would have been signalled; `running` says which issues have a workflow. */
export class RecordingSink implements SessionSink {
  readonly sent: Array<SessionSignal & { at: number; ifRunning: boolean }> = [];
  running = new Set<string>();
  failWith?: Error;
  delayMs = 0;

  async send(event: SessionSignal): Promise<unknown> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith;
    this.sent.push({ ...event, at: Date.now(), ifRunning: false });
    this.running.add(event.issueId);
    return { workflowId: `kai-issue-${event.issueId}`, runId: 'run' };
  }

  async sendIfRunning(event: SessionSignal): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    if (!this.running.has(event.issueId)) return false;
    this.sent.push({ ...event, at: Date.now(), ifRunning: true });
    return true;
  }

  byDelivery(): Map<string, number> {
    const m = new Map<string, number>();
    for (const s of this.sent) m.set(s.payload.deliveryId, (m.get(s.payload.deliveryId) ?? 0) + 1);
    return m;
  }
}

export const silentLogger = () => require('pino')({ level: process.env.KAI_TEST_LOG ? 'debug' : 'silent' });
