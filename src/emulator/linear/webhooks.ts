// Webhooks the way Linear sends them: payloads typed by @linear/sdk's own webhook types (so
// their shape cannot drift from Linear's), signed with HMAC-SHA256 over the exact bytes sent,
// one `Linear-Delivery` id per delivery that a redelivery repeats.
import { createHmac, randomUUID } from 'node:crypto';
import type {
  AgentSessionEventWebhookPayload,
  AppUserNotificationWebhookPayloadWithNotification,
  EntityWebhookPayloadWithCommentData,
  EntityWebhookPayloadWithIssueData,
} from '@linear/sdk/webhooks';
import type { LinearStore, IssueRec, SessionRec, UserRec, ActivityRec, CommentRec } from './store';
import { errorText } from '../../util';

/** The SDK types `DateTime` fields as `Date`; on the wire they are ISO strings. */
export type Wire<T> = T extends Date
  ? string
  : T extends Array<infer U>
    ? Array<Wire<U>>
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type AgentSessionEventPayload = Wire<AgentSessionEventWebhookPayload & { type: 'AgentSessionEvent' }>;
export type CommentEventPayload = Wire<EntityWebhookPayloadWithCommentData>;
export type IssueEventPayload = Wire<EntityWebhookPayloadWithIssueData>;
export type AppUserNotificationPayload = Wire<AppUserNotificationWebhookPayloadWithNotification>;
export type WebhookPayload = AgentSessionEventPayload | CommentEventPayload | IssueEventPayload | AppUserNotificationPayload;

/** The inbox notifications kai's app user receives about issues (Linear's `NotificationType`s). */
export type AppUserNotificationType = 'issueUnassignedFromYou' | 'issueStatusChanged' | 'issueAssignedToYou' | 'issueMention' | 'issueCommentMention' | 'issueNewComment';

export interface Delivery {
  deliveryId: string;
  event: string;
  payload: WebhookPayload;
  /** The bytes last sent (signed). */
  rawBody: string;
  attempts: Array<{ at: string; status: number | null; error?: string }>;
}

export interface DeliveryResult {
  deliveryId: string;
  status: number | null;
  body: string;
  error?: string;
}

export function signWebhookBody(rawBody: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

export class WebhookSender {
  readonly deliveries = new Map<string, Delivery>();
  readonly webhookId = randomUUID();
  readonly oauthClientId = randomUUID();

  constructor(
    private readonly store: LinearStore,
    private readonly secret: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Signs and posts a payload; `deliveryId` defaults to a fresh one. */
  async send(url: string, payload: WebhookPayload, opts: { deliveryId?: string } = {}): Promise<DeliveryResult> {
    const deliveryId = opts.deliveryId ?? randomUUID();
    const stamped = { ...payload, webhookTimestamp: Date.now() } as WebhookPayload;
    const rawBody = JSON.stringify(stamped);
    const delivery: Delivery = this.deliveries.get(deliveryId) ?? { deliveryId, event: payload.type, payload: stamped, rawBody, attempts: [] };
    delivery.payload = stamped;
    delivery.rawBody = rawBody;
    this.deliveries.set(deliveryId, delivery);
    return this.post(url, delivery);
  }

  /** Sends a delivery again with the same id. By default re-stamped and re-signed, as Linear's
   *  retries are; `sameBody` replays the identical bytes (what an attacker replaying would do). */
  async redeliver(url: string, deliveryId: string, opts: { sameBody?: boolean } = {}): Promise<DeliveryResult> {
    const delivery = this.deliveries.get(deliveryId);
    if (!delivery) throw new Error(`No delivery ${deliveryId} to redeliver`);
    if (!opts.sameBody) {
      delivery.payload = { ...delivery.payload, webhookTimestamp: Date.now() } as WebhookPayload;
      delivery.rawBody = JSON.stringify(delivery.payload);
    }
    return this.post(url, delivery);
  }

  private async post(url: string, delivery: Delivery): Promise<DeliveryResult> {
    const at = new Date().toISOString();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': 'Linear-Webhook',
          'Linear-Delivery': delivery.deliveryId,
          'Linear-Event': delivery.event,
          'Linear-Signature': signWebhookBody(delivery.rawBody, this.secret),
        },
        body: delivery.rawBody,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = await res.text();
      delivery.attempts.push({ at, status: res.status });
      return { deliveryId: delivery.deliveryId, status: res.status, body };
    } catch (err) {
      const error = errorText(err);
      delivery.attempts.push({ at, status: null, error });
      return { deliveryId: delivery.deliveryId, status: null, body: '', error };
    }
  }

  // ---------------------------------------------------------------- payload builders
  private base() {
    return {
      createdAt: new Date().toISOString(),
      organizationId: this.store.organization.id,
      webhookId: this.webhookId,
      webhookTimestamp: Date.now(),
    };
  }

  /** What every AgentSessionEvent of `session` carries, whatever its action. */
  private sessionEvent(action: 'created' | 'prompted', session: SessionRec) {
    return {
      ...this.base(),
      type: 'AgentSessionEvent' as const,
      action,
      appUserId: this.store.appUser.id,
      oauthClientId: this.oauthClientId,
      agentSession: this.sessionPayload(session),
    };
  }

  private userChild(user: UserRec | undefined) {
    if (!user) return undefined;
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      url: `${this.store.baseUrl}/${this.store.organization.urlKey}/profiles/${user.displayName}`,
      avatarUrl: null,
    };
  }

  private commentChild(c: CommentRec) {
    return { id: c.id, body: c.body, issueId: c.issueId, userId: c.userId ?? null };
  }

  private issueWithDescription(issue: IssueRec) {
    const team = this.store.teams.get(issue.teamId);
    return {
      id: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      description: issue.description ?? null,
      url: this.store.issueUrl(issue),
      teamId: issue.teamId,
      team: { id: issue.teamId, key: team?.key ?? '', name: team?.name ?? '' },
    };
  }

  private sessionPayload(session: SessionRec): AgentSessionEventPayload['agentSession'] {
    const store = this.store;
    const issue = session.issueId ? store.issues.get(session.issueId) : undefined;
    const team = issue ? store.teams.get(issue.teamId) : undefined;
    const comment = session.commentId ? store.comments.get(session.commentId) : undefined;
    const creator = session.creatorId ? store.users.get(session.creatorId) : undefined;
    return {
      id: session.id,
      appUserId: session.appUserId,
      organizationId: store.organization.id,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
      status: store.sessionStatus(session.id),
      type: 'commentThread',
      url: `${store.baseUrl}/${store.organization.urlKey}/agent-session/${session.id}`,
      issueId: issue?.id,
      issue:
        issue && team
          ? {
              id: issue.id,
              identifier: issue.identifier,
              title: issue.title,
              description: issue.description ?? null,
              url: store.issueUrl(issue),
              teamId: team.id,
              team: { id: team.id, key: team.key, name: team.name },
            }
          : undefined,
      commentId: comment?.id,
      comment: comment ? this.commentChild(comment) : undefined,
      sourceCommentId: session.sourceCommentId ?? comment?.id,
      creatorId: creator?.id,
      creator: this.userChild(creator),
      startedAt: session.startedAt ?? null,
      endedAt: session.endedAt ?? null,
      summary: session.summary ?? null,
      sourceMetadata: null,
      archivedAt: null,
    };
  }

  /** `AgentSessionEvent` created: the payload Linear sends when the app is delegated or mentioned. */
  agentSessionCreated(session: SessionRec, opts: { guidance?: string[] } = {}): AgentSessionEventPayload {
    // Everything said on the issue before, the @mention included; not the thread root itself.
    const previousComments = session.issueId
      ? [...this.store.comments.values()].filter((c) => c.issueId === session.issueId && c.id !== session.commentId).map((c) => this.commentChild(c))
      : [];
    return {
      ...this.sessionEvent('created', session),
      promptContext: this.promptContext(session, opts.guidance ?? []),
      previousComments,
      guidance: (opts.guidance ?? []).map((body) => ({ body, origin: { type: 'Organization' } })),
    };
  }

  /** `AgentSessionEvent` prompted: a user message (or Stop, with `signal: "stop"`) in a session. */
  agentSessionPrompted(session: SessionRec, activity: ActivityRec): AgentSessionEventPayload {
    const user = this.store.users.get(activity.userId);
    return {
      ...this.sessionEvent('prompted', session),
      agentActivity: {
        id: activity.id,
        agentSessionId: session.id,
        content: activity.content,
        signal: activity.signal ?? null,
        signalMetadata: (activity.signalMetadata as Record<string, unknown> | undefined) ?? null,
        sourceCommentId: activity.sourceCommentId ?? null,
        createdAt: activity.createdAt,
        updatedAt: activity.createdAt,
        userId: activity.userId,
        user: this.userChild(user) ?? { id: activity.userId, name: 'unknown', email: 'unknown@example.com', url: '' },
        archivedAt: null,
      },
    };
  }

  commentCreated(comment: CommentRec): CommentEventPayload {
    const issue = this.store.issues.get(comment.issueId);
    const team = issue ? this.store.teams.get(issue.teamId) : undefined;
    const user = comment.userId ? this.store.users.get(comment.userId) : undefined;
    const parent = comment.parentId ? this.store.comments.get(comment.parentId) : undefined;
    return {
      ...this.base(),
      type: 'Comment',
      action: 'create',
      url: `${this.store.baseUrl}/${this.store.organization.urlKey}/comment/${comment.id}`,
      actor: user ? { ...this.userChild(user)!, type: 'user' } : undefined,
      data: {
        id: comment.id,
        body: comment.body,
        createdAt: comment.createdAt,
        updatedAt: comment.createdAt,
        reactionData: {},
        issueId: comment.issueId,
        parentId: comment.parentId,
        parent: parent ? this.commentChild(parent) : undefined,
        userId: comment.userId,
        user: this.userChild(user),
        issue:
          issue && team
            ? { id: issue.id, identifier: issue.identifier, title: issue.title, url: this.store.issueUrl(issue), teamId: team.id, team: { id: team.id, key: team.key, name: team.name } }
            : undefined,
      },
    };
  }

  /** `AppUserNotification`: Linear's inbox notification to the app user (category "Inbox
   *  notifications"); `action` is the notification type. */
  appUserNotification(type: AppUserNotificationType, issue: IssueRec, actor: UserRec | undefined): AppUserNotificationPayload {
    const at = new Date().toISOString();
    return {
      ...this.base(),
      type: 'AppUserNotification',
      action: type,
      appUserId: this.store.appUser.id,
      oauthClientId: this.oauthClientId,
      notification: {
        id: randomUUID(),
        type,
        createdAt: at,
        updatedAt: at,
        userId: this.store.appUser.id,
        actorId: actor?.id ?? null,
        actor: this.userChild(actor) ?? null,
        issueId: issue.id,
        issue: this.issueWithDescription(issue),
      } as AppUserNotificationPayload['notification'],
    };
  }

  /** `Issue` update; `updatedFrom` holds the previous values of the changed fields, as in Linear. */
  issueUpdated(issue: IssueRec, updatedFrom: Record<string, unknown>, action: 'update' | 'remove' = 'update'): IssueEventPayload {
    const store = this.store;
    const team = store.teams.get(issue.teamId);
    const state = store.states.get(issue.stateId);
    const delegate = issue.delegateId ? store.users.get(issue.delegateId) : undefined;
    const assignee = issue.assigneeId ? store.users.get(issue.assigneeId) : undefined;
    return {
      ...this.base(),
      type: 'Issue',
      action,
      url: store.issueUrl(issue),
      updatedFrom,
      data: {
        id: issue.id,
        identifier: issue.identifier,
        number: issue.number,
        title: issue.title,
        description: issue.description ?? null,
        url: store.issueUrl(issue),
        createdAt: issue.createdAt,
        updatedAt: issue.updatedAt,
        priority: issue.priority,
        priorityLabel: ['No priority', 'Urgent', 'High', 'Medium', 'Low'][issue.priority] ?? 'No priority',
        prioritySortOrder: 0,
        sortOrder: 0,
        estimate: issue.estimate ?? null,
        labelIds: issue.labelIds,
        labels: issue.labelIds
          .map((id) => store.labels.get(id))
          .filter((l) => !!l)
          .map((l) => ({ id: l!.id, name: l!.name, color: l!.color })),
        previousIdentifiers: [],
        reactionData: {},
        releases: [],
        subscriberIds: [],
        stateId: issue.stateId,
        state: { id: issue.stateId, name: state?.name ?? '', type: state?.type ?? '', color: state?.color ?? '' },
        teamId: issue.teamId,
        team: team ? { id: team.id, key: team.key, name: team.name } : undefined,
        parentId: issue.parentId ?? null,
        projectId: issue.projectId ?? null,
        cycleId: issue.cycleId ?? null,
        delegateId: issue.delegateId ?? null,
        delegate: this.userChild(delegate) ?? null,
        assigneeId: issue.assigneeId ?? null,
        assignee: this.userChild(assignee) ?? null,
      },
    };
  }

  /** Linear's `promptContext`: the issue, its comments and guidance as one formatted string. */
  promptContext(session: SessionRec, guidance: string[]): string {
    const store = this.store;
    const issue = session.issueId ? store.issues.get(session.issueId) : undefined;
    if (!issue) return '';
    const team = store.teams.get(issue.teamId);
    const labels = issue.labelIds.map((id) => store.labels.get(id)?.name).filter(Boolean);
    const project = issue.projectId ? store.projects.get(issue.projectId) : undefined;
    const lines = [`<issue identifier="${issue.identifier}">`, `<title>${issue.title}</title>`];
    if (issue.description) lines.push(`<description>${issue.description}</description>`);
    if (team) lines.push(`<team name="${team.name}"/>`);
    for (const l of labels) lines.push(`<label>${l}</label>`);
    if (project) lines.push(`<project name="${project.name}">${project.description}</project>`);
    lines.push('</issue>');
    const comments = [...store.comments.values()].filter((c) => c.issueId === issue.id);
    if (comments.length) {
      lines.push('', '<comment-thread>');
      for (const c of comments) lines.push(`<comment author="${(c.userId && store.users.get(c.userId)?.name) || 'Linear'}">${c.body}</comment>`);
      lines.push('</comment-thread>');
    }
    if (guidance.length) {
      lines.push('', '<guidance>');
      for (const g of guidance) lines.push(`<guidance-rule origin="workspace">${g}</guidance-rule>`);
      lines.push('</guidance>');
    }
    return lines.join('\n');
  }
}
