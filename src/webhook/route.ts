// Turns one verified Linear event plus its delivery id into what kai should do about it.
// Pure: shared by the webhook server and the ingester so both paths decide identically and
// carry the same delivery id (the workflow's dedupe key).
import type { PromptSignal } from '../workflows/signals';
import type { SessionSignal } from '../client';
import { parseCommand } from '../workflows/commands';
import type { Attachment, IssueRef } from '../workflows/types';
import type { AgentSessionEventBody, CommentEventBody, IssueChild, IssueEventBody, LinearEvent } from './payloads';

export interface RouteContext {
  /** Linear-Delivery (or the ingested row's external id). */
  deliveryId: string;
  /** ISO time at which kai received the event. */
  receivedAt: string;
  /** kai's app user id, when known: its own comments are ignored, its delegation tracked. */
  appUserId?: string;
  commentFollowupsEnabled: boolean;
  /** Hosts whose links in a message count as attachments. */
  attachmentHosts?: readonly string[];
}

/** A follow-up comment, to be coalesced with the issue's other comments in the window. */
export interface CommentFollowUp {
  issueId: string;
  deliveryId: string;
  commentId: string;
  parentId?: string;
  body: string;
  author?: string;
  attachments: Attachment[];
  issue?: IssueRef;
  receivedAt: string;
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
      /** The signal has no agent session of its own: use the workflow's current one. */
      needsSessionId?: boolean;
      /** Comments this event already answers (a mention or a reply in the session thread). */
      claimsCommentIds?: string[];
      /** Agent session thread root, to recognise later replies in it. */
      sessionThreadCommentId?: string;
      /** The app user id the event revealed. */
      appUserId?: string;
      label: string;
    }
  | { kind: 'comment'; followUp: CommentFollowUp; label: string }
  | { kind: 'notice'; notice: IngressNotice; label: string }
  | { kind: 'ignore'; reason: string; label: string; appUserId?: string };

export const DEFAULT_ATTACHMENT_HOSTS = ['uploads.linear.app'];

export function routeLinearEvent(event: LinearEvent, ctx: RouteContext): RouteDecision {
  switch (event.type) {
    case 'AgentSessionEvent':
      return routeAgentSession(event.body, ctx);
    case 'Comment':
      return routeComment(event.body, ctx);
    case 'Issue':
      return routeIssue(event.body, ctx);
    case 'OAuthApp': {
      const label = `OAuthApp.${event.body.action}`;
      if (event.body.action !== 'revoked') return { kind: 'ignore', reason: 'not a revocation', label };
      return {
        kind: 'notice',
        label,
        notice: { kind: 'oauth-revoked', at: ctx.receivedAt, oauthClientId: event.body.oauthClientId ?? undefined, deliveryId: ctx.deliveryId },
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
          deliveryId: ctx.deliveryId,
        },
      };
    case 'other':
      return { kind: 'ignore', reason: 'kai does not act on this type', label: `${event.linearType}.${event.action}` };
  }
}

function routeAgentSession(body: AgentSessionEventBody, ctx: RouteContext): RouteDecision {
  const label = `AgentSessionEvent.${body.action}`;
  const session = body.agentSession;
  const appUserId = body.appUserId ?? session.appUserId ?? undefined;
  const issueId = session.issue?.id ?? session.issueId ?? undefined;
  if (!issueId) return { kind: 'ignore', reason: 'the agent session is not on an issue', label, appUserId };
  const issue = session.issue ? issueRef(session.issue) : { id: issueId };
  const base = { deliveryId: ctx.deliveryId, agentSessionId: session.id };
  const threadRoot = session.commentId ?? session.comment?.id ?? undefined;
  const claims = [threadRoot, session.sourceCommentId, body.agentActivity?.sourceCommentId].filter((x): x is string => !!x);
  const common = { onlyIfRunning: false, claimsCommentIds: claims, sessionThreadCommentId: threadRoot, appUserId, label };
  // Both actions carry a message for the session; they differ in where it and its author come from.
  const prompt = (fields: Pick<PromptSignal, 'body' | 'author' | 'attachments' | 'source'> & Partial<Pick<PromptSignal, 'promptContext'>>): RouteDecision => ({
    kind: 'signal',
    ...common,
    signal: { type: 'prompt', issueId, payload: { ...base, ...fields, receivedAt: ctx.receivedAt, issue } },
  });

  if (body.action === 'created') {
    const mention = session.comment?.body?.trim();
    const issueText = [session.issue?.title, session.issue?.description].filter((s): s is string => !!s && !!s.trim()).join('\n\n');
    const messageBody = mention || issueText || session.issue?.identifier || issueId;
    return prompt({
      body: messageBody,
      author: session.creator?.name ?? session.creatorId ?? undefined,
      attachments: findAttachments([mention, session.issue?.description], ctx),
      source: 'created',
      promptContext: body.promptContext ?? undefined,
    });
  }

  if (body.action === 'prompted') {
    const activity = body.agentActivity!;
    if (activity.signal === 'stop') return { kind: 'signal', ...common, signal: { type: 'stop', issueId, payload: base } };
    const message = activityBody(activity.content);
    if (!message) return { kind: 'ignore', reason: 'the prompt carries no message', label, appUserId };
    const command = parseCommand(message);
    if (command?.kind === 'stop') return { kind: 'signal', ...common, signal: { type: 'stop', issueId, payload: base } };
    if (command?.kind === 'reset') return { kind: 'signal', ...common, signal: { type: 'reset', issueId, payload: base } };
    return prompt({
      body: message,
      author: activity.user?.name ?? activity.userId ?? undefined,
      attachments: findAttachments([message], ctx),
      source: 'prompted',
    });
  }
  return { kind: 'ignore', reason: `agent session action "${body.action}" needs nothing`, label, appUserId };
}

function routeComment(body: CommentEventBody, ctx: RouteContext): RouteDecision {
  const label = `Comment.${body.action}`;
  const c = body.data;
  if (body.action !== 'create') return { kind: 'ignore', reason: 'only new comments are follow-ups', label };
  if (!ctx.commentFollowupsEnabled) return { kind: 'ignore', reason: 'comment follow-ups are disabled', label };
  const issueId = c.issueId ?? c.issue?.id ?? undefined;
  if (!issueId) return { kind: 'ignore', reason: 'the comment is not on an issue', label };
  const authorId = c.userId ?? c.user?.id ?? undefined;
  if (ctx.appUserId && authorId === ctx.appUserId) return { kind: 'ignore', reason: "kai's own comment", label };
  if (!authorId && c.botActor) return { kind: 'ignore', reason: 'a comment by an integration', label };
  if (!c.body.trim()) return { kind: 'ignore', reason: 'an empty comment', label };
  return {
    kind: 'comment',
    label,
    followUp: {
      issueId,
      deliveryId: ctx.deliveryId,
      commentId: c.id,
      parentId: c.parentId ?? undefined,
      body: c.body,
      author: c.user?.name ?? authorId,
      attachments: findAttachments([c.body], ctx),
      issue: c.issue ? issueRef(c.issue) : { id: issueId },
      receivedAt: ctx.receivedAt,
    },
  };
}

function routeIssue(body: IssueEventBody, ctx: RouteContext): RouteDecision {
  const label = `Issue.${body.action}`;
  const issue = body.data;
  const from = body.updatedFrom ?? {};
  const stop = (reason: string): RouteDecision => ({
    kind: 'signal',
    label: `${label} (${reason})`,
    onlyIfRunning: true,
    needsSessionId: true,
    signal: { type: 'stop', issueId: issue.id, payload: { deliveryId: ctx.deliveryId, agentSessionId: '' } },
  });
  if (body.action === 'remove') return stop('issue deleted');
  if (body.action !== 'update') return { kind: 'ignore', reason: 'only issue updates can stop kai', label };
  if ('delegateId' in from && removedFrom(from.delegateId, issue.delegateId, ctx.appUserId)) return stop('delegation removed');
  if ('assigneeId' in from && ctx.appUserId && from.assigneeId === ctx.appUserId && issue.assigneeId !== ctx.appUserId)
    return stop('unassigned');
  const canceledNow = issue.state?.type === 'canceled' && ('stateId' in from || 'canceledAt' in from);
  if (canceledNow) return stop('canceled');
  return { kind: 'ignore', reason: 'the update does not concern kai', label };
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

const LINK = /(!?)\[([^\]]*)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s)<>"']+)/g;

/** Links to uploaded files (Linear puts attachments into the markdown as links). */
export function findAttachments(texts: Array<string | null | undefined>, ctx: Pick<RouteContext, 'attachmentHosts'>): Attachment[] {
  const hosts = ctx.attachmentHosts ?? DEFAULT_ATTACHMENT_HOSTS;
  const found = new Map<string, Attachment>();
  for (const t of texts) {
    if (!t) continue;
    for (const m of t.matchAll(LINK)) {
      const url = m[3] ?? m[4]!;
      let host: string;
      try {
        host = new URL(url).hostname;
      } catch {
        continue;
      }
      if (!hosts.includes(host) || found.has(url)) continue;
      const name = m[2]?.trim();
      found.set(url, name ? { url, name } : { url });
    }
  }
  return [...found.values()];
}
