// zod schemas of the Linear webhook bodies kai acts on, modelled on @linear/sdk's webhook
// payload types. Strict on what kai reads (ids, the message, the signal), tolerant of every
// field Linear adds: objects are loose and fields kai does not use are not declared.
import { z } from 'zod';

const id = z.string().min(1);
const text = z.string();
const maybe = <T extends z.ZodTypeAny>(t: T) => t.nullish();

export const userChildSchema = z.looseObject({
  id,
  name: maybe(text),
  email: maybe(text),
  url: maybe(text),
});

export const teamChildSchema = z.looseObject({ id, key: maybe(text), name: maybe(text) });

/** IssueChildWebhookPayload / IssueWithDescriptionChildWebhookPayload. */
export const issueChildSchema = z.looseObject({
  id,
  identifier: maybe(text),
  title: maybe(text),
  description: maybe(text),
  url: maybe(text),
  teamId: maybe(text),
  team: maybe(teamChildSchema),
  projectId: maybe(text),
  project: maybe(z.looseObject({ id })),
  priority: maybe(z.number()),
});

/** CommentChildWebhookPayload (agentSession.comment, previousComments[]). */
export const commentChildSchema = z.looseObject({
  id,
  body: maybe(text),
  issueId: maybe(text),
  userId: maybe(text),
});

/** GuidanceRuleWebhookPayload: workspace/team instructions for agents. */
export const guidanceRuleSchema = z.looseObject({ body: text, origin: z.unknown().optional() });

/** Fields every Linear webhook body carries. */
export const envelopeSchema = z.looseObject({
  type: z.string().min(1),
  action: z.string(),
  webhookTimestamp: z.number(),
  createdAt: maybe(text),
  organizationId: maybe(text),
  webhookId: maybe(text),
});

export const agentActivitySchema = z.looseObject({
  id,
  agentSessionId: maybe(text),
  /** AgentActivityContent as JSON: `{type: "prompt", body}` for a user message. */
  content: z.looseObject({ type: maybe(text), body: maybe(text) }),
  signal: maybe(text),
  signalMetadata: maybe(z.record(z.string(), z.unknown())),
  sourceCommentId: maybe(text),
  userId: maybe(text),
  user: maybe(userChildSchema),
});

export const agentSessionSchema = z.looseObject({
  id,
  appUserId: maybe(text),
  issueId: maybe(text),
  issue: maybe(issueChildSchema),
  commentId: maybe(text),
  comment: maybe(commentChildSchema),
  sourceCommentId: maybe(text),
  creatorId: maybe(text),
  creator: maybe(userChildSchema),
  status: maybe(text),
  url: maybe(text),
});

export const agentSessionEventSchema = envelopeSchema
  .extend({
    type: z.literal('AgentSessionEvent'),
    appUserId: maybe(text),
    oauthClientId: maybe(text),
    agentSession: agentSessionSchema,
    agentActivity: maybe(agentActivitySchema),
    promptContext: maybe(text),
    previousComments: maybe(z.array(commentChildSchema)),
    guidance: maybe(z.array(guidanceRuleSchema)),
  })
  .superRefine((body, ctx) => {
    if (body.action === 'prompted' && !body.agentActivity)
      ctx.addIssue({ code: 'custom', path: ['agentActivity'], message: 'a prompted event carries the agentActivity' });
  });

export const commentEventSchema = envelopeSchema.extend({
  type: z.literal('Comment'),
  actor: maybe(z.looseObject({ id: maybe(text), type: maybe(text) })),
  data: z.looseObject({
    id,
    body: text,
    issueId: maybe(text),
    issue: maybe(issueChildSchema),
    parentId: maybe(text),
    userId: maybe(text),
    user: maybe(userChildSchema),
    botActor: z.unknown().optional(),
  }),
});

export const issueEventSchema = envelopeSchema.extend({
  type: z.literal('Issue'),
  updatedFrom: maybe(z.record(z.string(), z.unknown())),
  data: z.looseObject({
    id,
    identifier: maybe(text),
    title: maybe(text),
    url: maybe(text),
    teamId: maybe(text),
    team: maybe(teamChildSchema),
    projectId: maybe(text),
    stateId: maybe(text),
    state: maybe(z.looseObject({ id: maybe(text), name: maybe(text), type: maybe(text) })),
    delegateId: maybe(text),
    assigneeId: maybe(text),
    priority: maybe(z.number()),
    canceledAt: maybe(text),
    completedAt: maybe(text),
    updatedAt: maybe(text),
  }),
});

/** AppUserNotificationWebhookPayload ("Inbox notifications"): `action` is the notification's
 *  type (issueUnassignedFromYou, issueStatusChanged, issueAssignedToYou, …). */
export const appUserNotificationEventSchema = envelopeSchema.extend({
  type: z.literal('AppUserNotification'),
  appUserId: maybe(text),
  oauthClientId: maybe(text),
  notification: z.looseObject({
    id,
    type: maybe(text),
    issueId: maybe(text),
    issue: maybe(issueChildSchema.extend({ state: maybe(z.looseObject({ type: maybe(text), name: maybe(text) })) })),
    /** Not in @linear/sdk's webhook type but on Linear's IssueNotification: the issue's new status type. */
    issueStatusType: maybe(text),
    actorId: maybe(text),
    userId: maybe(text),
  }),
});

export const oauthAppEventSchema = envelopeSchema.extend({
  type: z.literal('OAuthApp'),
  oauthClientId: maybe(text),
});

export const permissionChangeEventSchema = envelopeSchema.extend({
  type: z.literal('PermissionChange'),
  appUserId: maybe(text),
  oauthClientId: maybe(text),
  addedTeamIds: z.array(z.string()).default([]),
  removedTeamIds: z.array(z.string()).default([]),
  canAccessAllPublicTeams: maybe(z.boolean()),
});

export type AgentSessionEventBody = z.infer<typeof agentSessionEventSchema>;
export type CommentEventBody = z.infer<typeof commentEventSchema>;
export type IssueEventBody = z.infer<typeof issueEventSchema>;
export type OAuthAppEventBody = z.infer<typeof oauthAppEventSchema>;
export type PermissionChangeEventBody = z.infer<typeof permissionChangeEventSchema>;
export type AppUserNotificationEventBody = z.infer<typeof appUserNotificationEventSchema>;
export type IssueChild = z.infer<typeof issueChildSchema>;

export type LinearEvent =
  | { type: 'AgentSessionEvent'; body: AgentSessionEventBody }
  | { type: 'Comment'; body: CommentEventBody }
  | { type: 'Issue'; body: IssueEventBody }
  | { type: 'OAuthApp'; body: OAuthAppEventBody }
  | { type: 'PermissionChange'; body: PermissionChangeEventBody }
  | { type: 'AppUserNotification'; body: AppUserNotificationEventBody }
  | { type: 'other'; linearType: string; action: string };

/** Linear's name for the event's type (the Linear-Event header), for logs and metric labels. */
export function linearEventType(event: LinearEvent): string {
  return event.type === 'other' ? event.linearType : event.type;
}

export type ParsedPayload = { ok: true; event: LinearEvent } | { ok: false; error: string };

const SCHEMAS = {
  AgentSessionEvent: agentSessionEventSchema,
  Comment: commentEventSchema,
  Issue: issueEventSchema,
  OAuthApp: oauthAppEventSchema,
  PermissionChange: permissionChangeEventSchema,
  AppUserNotification: appUserNotificationEventSchema,
} as const;

/** Validates a (verified) webhook body against the schema of its `type`. */
export function parseLinearPayload(body: unknown): ParsedPayload {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) return { ok: false, error: describeZodError(envelope.error) };
  const type = envelope.data.type;
  if (!(type in SCHEMAS)) return { ok: true, event: { type: 'other', linearType: type, action: envelope.data.action } };
  const schema = SCHEMAS[type as keyof typeof SCHEMAS];
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { ok: false, error: `${type}: ${describeZodError(parsed.error)}` };
  return { ok: true, event: { type, body: parsed.data } as LinearEvent };
}

export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}
