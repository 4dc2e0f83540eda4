// Turns one verified Linear event into what kai should do about it. Pure and stateless: the
// webhook server and the ingester decide identically, in any process, and put the same dedupe
// key in the signal (derived from what Linear signed, see event-key.ts). Which session a message
// belongs to and whether two events are one message is the workflow's call, keyed by the
// comment and thread ids carried here.
import type { SessionSignal } from '../client';
import { parseCommand } from '../workflows/commands';
import type { PromptSignal } from '../workflows/signals';
import type { IssueRef } from '../workflows/types';
import { noIssueKey } from '../domain/issue';
import { DEFAULT_ATTACHMENT_HOSTS, findAttachments } from './attachments';
import { eventKey } from './event-key';
import { commentTextById } from './prompt-context';
import type {
  AgentSessionEventBody,
  AppUserNotificationEventBody,
  CommentEventBody,
  IssueChild,
  IssueEventBody,
  LinearEvent,
} from './payloads';

export { DEFAULT_ATTACHMENT_HOSTS, findAttachments } from './attachments';

export interface RouteContext {
  /** ISO time at which kai received the event. */
  receivedAt: string;
  /** kai's app user id: its own comments are ignored. Unknown: no comment becomes a prompt. */
  appUserId?: string;
  commentFollowupsEnabled: boolean;
  /** Hosts whose links in a message count as attachments. */
  attachmentHosts?: readonly string[];
}

export type IngressNotice =
  | { kind: 'oauth-revoked'; at: string; oauthClientId?: string; deliveryId: string }
  | { kind: 'permission-change'; at: string; addedTeamIds: string[]; removedTeamIds: string[]; deliveryId: string };

export type RouteDecision =
  | {
      kind: 'signal';
      signal: SessionSignal;
      /** Signal only an existing running workflow (never start one). */
      onlyIfRunning: boolean;
      /** Send only if the issue's status type is one of these (looked up when the event lacks it). */
      ifIssueStateIn?: readonly string[];
      label: string;
    }
  | { kind: 'notice'; notice: IngressNotice; label: string }
  | { kind: 'ignore'; reason: string; label: string };

/** Linear's own root comment of a delegated session's thread: not something a user wrote. */
const SESSION_MARKER = /^\s*This thread is for an agent session/i;
/** Status types after which kai stops working on an issue. */
export const TERMINAL_STATE_TYPES = ['canceled', 'completed'] as const;

export function routeLinearEvent(event: LinearEvent, ctx: RouteContext): RouteDecision {
  const deliveryId = eventKey(event);
  switch (event.type) {
    case 'AgentSessionEvent':
      return routeAgentSession(event.body, deliveryId, ctx);
    case 'Comment':
      return routeComment(event.body, deliveryId, ctx);
    case 'Issue':
      return routeIssue(event.body, deliveryId, ctx);
    case 'AppUserNotification':
      return routeNotification(event.body, deliveryId, ctx);
    case 'OAuthApp': {
      const label = `OAuthApp.${event.body.action}`;
      if (event.body.action !== 'revoked') return { kind: 'ignore', reason: 'not a revocation', label };
      return {
        kind: 'notice',
        label,
        notice: { kind: 'oauth-revoked', at: ctx.receivedAt, oauthClientId: event.body.oauthClientId ?? undefined, deliveryId },
      };
    }
    case 'PermissionChange':
      return {
        kind: 'notice',
        label: `PermissionChange.${event.body.action}`,
        notice: {
          kind: 'permission-change',
          at: ctx.receivedAt,
          addedTeamIds: event.body.addedTeamIds,
          removedTeamIds: event.body.removedTeamIds,
          deliveryId,
        },
      };
    case 'other':
      return { kind: 'ignore', reason: 'kai does not act on this type', label: `${event.linearType}.${event.action}` };
  }
}

function routeAgentSession(body: AgentSessionEventBody, deliveryId: string, ctx: RouteContext): RouteDecision {
  const label = `AgentSessionEvent.${body.action}`;
  const session = body.agentSession;
  const issueId = session.issue?.id ?? session.issueId ?? undefined;
  if (!issueId) return noIssueSession(body, deliveryId, ctx, label);
  const issue = session.issue ? issueRef(session.issue) : { id: issueId };
  const threadId = session.commentId ?? session.comment?.id ?? undefined;
  const base = { deliveryId, agentSessionId: session.id };
  const signal = (s: SessionSignal): RouteDecision => ({ kind: 'signal', signal: s, onlyIfRunning: false, label });
  const prompt = (fields: Pick<PromptSignal, 'body' | 'author' | 'attachments' | 'source'> & Partial<PromptSignal>): RouteDecision =>
    signal({ type: 'prompt', issueId, payload: withIds({ ...base, ...fields, receivedAt: ctx.receivedAt, issue }, fields.commentId, threadId) });
  const hosts = ctx.attachmentHosts ?? DEFAULT_ATTACHMENT_HOSTS;

  if (body.action === 'created') {
    const mention = mentionOf(body);
    const promptContext = withGuidance(body.promptContext ?? undefined, body.guidance ?? undefined);
    if (mention) {
      return prompt({
        body: mention.text,
        author: session.creator?.name ?? session.creatorId ?? undefined,
        attachments: findAttachments([mention.text], hosts),
        source: 'created',
        promptContext,
        commentId: mention.commentId,
      });
    }
    // A delegation: the request is the issue itself. agentSession.comment is Linear's marker.
    const title = session.issue?.title?.trim();
    const description = session.issue?.description?.trim();
    const issueText = [title, description].filter((s): s is string => !!s).join('\n\n');
    return prompt({
      body: issueText || session.issue?.identifier || issueId,
      author: session.creator?.name ?? session.creatorId ?? undefined,
      attachments: findAttachments([description], hosts),
      source: 'created',
      promptContext,
    });
  }

  if (body.action === 'prompted') {
    const activity = body.agentActivity!;
    const commentId = activity.sourceCommentId ?? undefined;
    if (activity.signal === 'stop') return signal({ type: 'stop', issueId, payload: base });
    const message = activityBody(activity.content);
    if (!message) return { kind: 'ignore', reason: 'the prompt carries no message', label };
    const command = parseCommand(message);
    if (command?.kind === 'stop') return signal({ type: 'stop', issueId, payload: base });
    if (command?.kind === 'reset') return signal({ type: 'reset', issueId, payload: base });
    return prompt({
      body: message,
      author: activity.user?.name ?? activity.userId ?? undefined,
      attachments: findAttachments([message], hosts),
      source: 'prompted',
      commentId,
    });
  }
  return { kind: 'ignore', reason: `agent session action "${body.action}" needs nothing`, label };
}

/** The @mention that opened a session, when one did: found by `sourceCommentId` in
 *  `previousComments`, then in `agentSession.comment`, then in `promptContext`. A top-level
 *  mention without `sourceCommentId` is `agentSession.comment` itself (unless it is the marker). */
function mentionOf(body: AgentSessionEventBody): { text: string; commentId: string } | undefined {
  const session = body.agentSession;
  const sourceId = session.sourceCommentId ?? undefined;
  const usable = (t: string | null | undefined): t is string => !!t && !!t.trim() && !SESSION_MARKER.test(t);
  if (sourceId) {
    const candidates = [
      body.previousComments?.find((c) => c.id === sourceId)?.body,
      session.comment?.id === sourceId ? session.comment.body : undefined,
      body.promptContext ? commentTextById(body.promptContext, sourceId) : undefined,
    ];
    const text = candidates.find(usable);
    return text ? { text: text.trim(), commentId: sourceId } : undefined;
  }
  const root = session.comment;
  if (root && root.userId && usable(root.body)) return { text: root.body.trim(), commentId: root.id };
  return undefined;
}

function withIds(payload: PromptSignal, commentId: string | undefined, threadId: string | undefined): PromptSignal {
  const out = { ...payload };
  if (commentId) out.commentId = commentId;
  else delete out.commentId;
  if (threadId) out.threadId = threadId;
  return out;
}

/** Linear's guidance rules for the engine, unless promptContext already carries them. */
function withGuidance(promptContext: string | undefined, guidance: Array<{ body: string }> | undefined): string | undefined {
  const rules = (guidance ?? []).map((g) => g.body.trim()).filter((b) => b && !promptContext?.includes(b));
  if (rules.length === 0) return promptContext;
  const block = `<guidance>\n${rules.map((r) => `<guidance-rule>${r}</guidance-rule>`).join('\n')}\n</guidance>`;
  return promptContext ? `${promptContext}\n\n${block}` : block;
}

function routeComment(body: CommentEventBody, deliveryId: string, ctx: RouteContext): RouteDecision {
  const label = `Comment.${body.action}`;
  const c = body.data;
  const ignore = (reason: string): RouteDecision => ({ kind: 'ignore', reason, label });
  if (body.action !== 'create') return ignore('only new comments are follow-ups');
  if (!ctx.commentFollowupsEnabled) return ignore('comment follow-ups are disabled');
  const issueId = c.issueId ?? c.issue?.id ?? undefined;
  if (!issueId) return ignore('the comment is not on an issue');
  if (!ctx.appUserId) return ignore("kai's app user id is unknown (set transports.linear.app_id or LINEAR_APP_ID), so its own comments cannot be told apart");
  const authorId = c.userId ?? c.user?.id ?? undefined;
  if (authorId === ctx.appUserId) return ignore("kai's own comment");
  if (!authorId) return ignore('a comment with no user author (Linear or an integration wrote it)');
  if (SESSION_MARKER.test(c.body)) return ignore("Linear's agent session marker");
  if (!c.body.trim()) return ignore('an empty comment');
  const prompt: PromptSignal = {
    deliveryId,
    agentSessionId: '',
    body: c.body,
    author: c.user?.name ?? authorId,
    attachments: findAttachments([c.body], ctx.attachmentHosts ?? DEFAULT_ATTACHMENT_HOSTS),
    receivedAt: ctx.receivedAt,
    source: 'comment',
    issue: c.issue ? issueRef(c.issue) : { id: issueId },
    commentId: c.id,
    threadId: c.parentId ?? c.id,
  };
  return { kind: 'signal', label, onlyIfRunning: true, signal: { type: 'prompt', issueId, payload: prompt } };
}

/** A session with no issue still gets an answer (what kai can do), from a small workflow keyed
 *  by the agent session id; a stop there has nothing to stop. */
function noIssueSession(body: AgentSessionEventBody, deliveryId: string, ctx: RouteContext, label: string): RouteDecision {
  const agentSessionId = body.agentSession.id;
  if (body.action !== 'created' && body.action !== 'prompted') return { kind: 'ignore', reason: 'the agent session is not on an issue', label };
  if (body.action === 'prompted' && body.agentActivity?.signal === 'stop') return { kind: 'ignore', reason: 'a stop in a session with no issue', label };
  return {
    kind: 'signal',
    label: `${label} (no issue)`,
    onlyIfRunning: false,
    signal: {
      type: 'prompt',
      issueId: noIssueKey(agentSessionId),
      payload: { deliveryId, agentSessionId, body: body.agentActivity?.content?.body ?? '', receivedAt: ctx.receivedAt, source: body.action },
    },
  };
}

/** An issue-level stop: no agent session of its own (the workflow stops its running turn). */
function issueStop(issueId: string, deliveryId: string, label: string, extra: Partial<Extract<RouteDecision, { kind: 'signal' }>> = {}): RouteDecision {
  return { kind: 'signal', label, onlyIfRunning: true, ...extra, signal: { type: 'stop', issueId, payload: { deliveryId, agentSessionId: '' } } };
}

function routeIssue(body: IssueEventBody, deliveryId: string, ctx: RouteContext): RouteDecision {
  const label = `Issue.${body.action}`;
  const issue = body.data;
  const from = body.updatedFrom ?? {};
  if (body.action === 'remove') return issueStop(issue.id, deliveryId, `${label} (issue deleted)`);
  if (body.action !== 'update') return { kind: 'ignore', reason: 'only issue updates can stop kai', label };
  if ('delegateId' in from && removedFrom(from.delegateId, issue.delegateId, ctx.appUserId)) return issueStop(issue.id, deliveryId, `${label} (delegation removed)`);
  if ('assigneeId' in from && ctx.appUserId && from.assigneeId === ctx.appUserId && issue.assigneeId !== ctx.appUserId)
    return issueStop(issue.id, deliveryId, `${label} (unassigned)`);
  const canceledNow = issue.state?.type === 'canceled' && ('stateId' in from || 'canceledAt' in from);
  if (canceledNow) return issueStop(issue.id, deliveryId, `${label} (canceled)`);
  return { kind: 'ignore', reason: 'the update does not concern kai', label };
}

/** Inbox notifications to kai's app user: unassignment, a terminal status, deletion stop the run. */
function routeNotification(body: AppUserNotificationEventBody, deliveryId: string, ctx: RouteContext): RouteDecision {
  const n = body.notification;
  const kind = n.type ?? body.action;
  const label = `AppUserNotification.${kind}`;
  const issueId = n.issueId ?? n.issue?.id ?? undefined;
  if (!issueId) return { kind: 'ignore', reason: 'the notification is not about an issue', label };
  const appUserId = ctx.appUserId ?? body.appUserId ?? undefined;
  if (appUserId && n.actorId === appUserId) return { kind: 'ignore', reason: "kai's own change", label };
  switch (kind) {
    case 'issueUnassignedFromYou':
      return issueStop(issueId, deliveryId, `${label} (unassigned)`);
    case 'issueDeleted':
    case 'issueArchived':
      return issueStop(issueId, deliveryId, `${label} (issue removed)`);
    case 'issueStatusChanged': {
      const stateType = n.issueStatusType ?? n.issue?.state?.type ?? undefined;
      if (stateType === undefined) return issueStop(issueId, deliveryId, `${label} (status changed)`, { ifIssueStateIn: TERMINAL_STATE_TYPES });
      if ((TERMINAL_STATE_TYPES as readonly string[]).includes(stateType)) return issueStop(issueId, deliveryId, `${label} (${stateType})`);
      return { kind: 'ignore', reason: `the issue moved to a ${stateType} status`, label };
    }
    default:
      return { kind: 'ignore', reason: 'this notification needs nothing (agent session events carry mentions and delegations)', label };
  }
}

/** Whether kai (the app user, or any delegate when kai's id is unknown) stopped being delegate. */
function removedFrom(previous: unknown, current: string | null | undefined, appUserId: string | undefined): boolean {
  if (appUserId) return previous === appUserId && current !== appUserId;
  return typeof previous === 'string' && !current;
}

function activityBody(content: { type?: string | null; body?: string | null } & Record<string, unknown>): string | undefined {
  const candidates = [content.body, content.text, content.action === 'message' ? content.parameter : undefined];
  for (const c of candidates) if (typeof c === 'string' && c.trim()) return c;
  return undefined;
}

export function issueRef(issue: IssueChild): IssueRef {
  const ref: IssueRef = { id: issue.id };
  if (issue.identifier) ref.identifier = issue.identifier;
  if (issue.title) ref.title = issue.title;
  if (issue.url) ref.url = issue.url;
  const teamId = issue.teamId ?? issue.team?.id;
  if (teamId) ref.teamId = teamId;
  if (issue.team?.key) ref.teamKey = issue.team.key;
  const projectId = issue.projectId ?? issue.project?.id;
  if (projectId) ref.projectId = projectId;
  return ref;
}
