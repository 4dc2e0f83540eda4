// Routing of real-shaped Linear payloads (no server): the message text, the comment and thread
// ids, kai's own comments, inbox notifications, the signed-content dedupe key, and the route of
// every other event type (session stops and resets, Issue changes, OAuth and permission notices).
import { parseLinearPayload, type LinearEvent } from '../../src/ingress/payloads';
import { routeLinearEvent, type RouteContext, type RouteDecision } from '../../src/ingress/route';
import type { PromptSignal } from '../../src/workflows/signals';
import {
  APP_USER,
  SESSION_MARKER,
  appUserNotification,
  commentCreate,
  delegationCreated,
  issue,
  mentionInReplyCreated,
  promptedInThread,
} from '../fixtures/webhooks/linear-payloads';

const ctx: RouteContext = { receivedAt: new Date().toISOString(), appUserId: APP_USER.id, commentFollowupsEnabled: true };

function event(body: unknown): LinearEvent {
  const parsed = parseLinearPayload(JSON.parse(JSON.stringify(body)));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.event;
}

function signal(d: RouteDecision) {
  if (d.kind !== 'signal') throw new Error(`expected a signal, got ${d.kind}: ${'reason' in d ? d.reason : ''}`);
  return d;
}

function prompt(d: RouteDecision): PromptSignal {
  const s = signal(d).signal;
  if (s.type !== 'prompt') throw new Error(`expected a prompt, got ${s.type}`);
  return s.payload;
}

describe('the message is what the user wrote', () => {
  test("a delegation's message is the issue's title and description, not Linear's thread marker", () => {
    const i = issue({ title: 'Add a greeting', description: 'Print hello. See ![shot](https://uploads.linear.app/a/b/shot.png)' });
    const body = delegationCreated(i);
    const p = prompt(routeLinearEvent(event(body), ctx));
    expect(p.body).toBe('Add a greeting\n\nPrint hello. See ![shot](https://uploads.linear.app/a/b/shot.png)');
    expect(p.body).not.toContain('This thread is for an agent session');
    expect(p.source).toBe('created');
    expect(p.agentSessionId).toBe(body.agentSession.id);
    expect(p.attachments).toEqual([{ url: 'https://uploads.linear.app/a/b/shot.png', name: 'shot' }]);
    // promptContext and the guidance rules go to the engine.
    expect(p.promptContext).toContain('<title>Add a greeting</title>');
    expect(p.promptContext).toContain('Always run the tests before you answer.');
    expect(p.threadId).toBe(body.agentSession.commentId);
    expect(p.commentId).toBeUndefined();
  });

  test("an @mention in a reply is the mention's own text (from previousComments), with its comment and thread ids", () => {
    const i = issue();
    const text = '@kai /file get src/greet.ts';
    const { body, rootId, replyId } = mentionInReplyCreated(i, text);
    const p = prompt(routeLinearEvent(event(body), ctx));
    expect(p.body).toBe(text);
    expect(p.body).not.toBe(body.agentSession.comment.body);
    expect(p.commentId).toBe(replyId);
    expect(p.threadId).toBe(rootId);
  });

  test('an @mention missing from previousComments is read from promptContext', () => {
    const i = issue();
    const text = 'Hey @kai, use <b>bold</b> & see https://uploads.linear.app/x/y/log.txt';
    const { body, replyId } = mentionInReplyCreated(i, text, { inPreviousComments: false });
    const p = prompt(routeLinearEvent(event(body), ctx));
    expect(p.body).toBe(text);
    expect(p.commentId).toBe(replyId);
    expect(p.attachments).toEqual([{ url: 'https://uploads.linear.app/x/y/log.txt' }]);
  });

  test('a top-level @mention without sourceCommentId is agentSession.comment itself', () => {
    const i = issue();
    const { body } = mentionInReplyCreated(i, 'unused');
    const b = body as Record<string, any>;
    b.agentSession.sourceCommentId = null;
    b.agentSession.comment = { id: b.agentSession.commentId, body: '@kai rename the helper', userId: 'user-ada', issueId: i.id };
    const p = prompt(routeLinearEvent(event(b), ctx));
    expect(p.body).toBe('@kai rename the helper');
    expect(p.commentId).toBe(b.agentSession.commentId);
    expect(p.threadId).toBe(b.agentSession.commentId);
  });

  test('a reply in the session thread comes as Comment and AgentSessionEvent: both carry the same comment and thread ids', () => {
    const i = issue();
    const created = delegationCreated(i);
    const rootId = created.agentSession.commentId;
    const commentId = 'comment-reply-1';
    const viaSession = prompt(routeLinearEvent(event(promptedInThread(i, created.agentSession.id, rootId, commentId, 'and in German')), ctx));
    const viaComment = routeLinearEvent(event(commentCreate(i, { id: commentId, body: 'and in German', parentId: rootId })), ctx);
    const c = prompt(viaComment);
    expect(signal(viaComment).onlyIfRunning).toBe(true);
    expect(c).toMatchObject({ source: 'comment', agentSessionId: '', commentId, threadId: rootId, body: 'and in German' });
    expect(viaSession).toMatchObject({ source: 'prompted', agentSessionId: created.agentSession.id, commentId, threadId: rootId });
  });

  test('a top-level comment is its own thread', () => {
    const i = issue();
    const p = prompt(routeLinearEvent(event(commentCreate(i, { id: 'top-1', body: 'One more thing' })), ctx));
    expect(p).toMatchObject({ commentId: 'top-1', threadId: 'top-1' });
  });
});

describe("kai's own comments never become prompts", () => {
  test("kai's comment, Linear's marker and an authorless comment are ignored", () => {
    const i = issue();
    for (const body of [
      commentCreate(i, { body: 'Done: opened PR #3', user: APP_USER }),
      commentCreate(i, { body: SESSION_MARKER(), user: null }),
      commentCreate(i, { body: 'synced from elsewhere', user: null }),
    ])
      expect(routeLinearEvent(event(body), ctx).kind).toBe('ignore');
  });

  test('with the app user id unknown, no comment becomes a prompt (it could be kai’s own)', () => {
    const d = routeLinearEvent(event(commentCreate(issue(), { body: 'hello' })), { ...ctx, appUserId: undefined });
    expect(d).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('LINEAR_APP_ID') });
  });
});

describe('inbox notifications stop the run like their Issue counterparts', () => {
  const stopOf = (d: RouteDecision, issueId: string) => {
    const s = signal(d);
    expect(s.onlyIfRunning).toBe(true);
    expect(s.signal).toMatchObject({ type: 'stop', issueId, payload: { agentSessionId: '' } });
    return s;
  };

  test('issueUnassignedFromYou stops; so does a deleted issue', () => {
    const i = issue();
    stopOf(routeLinearEvent(event(appUserNotification(i, 'issueUnassignedFromYou')), ctx), i.id);
    stopOf(routeLinearEvent(event(appUserNotification(i, 'issueDeleted')), ctx), i.id);
  });

  test('issueStatusChanged stops at a canceled or completed status, not at another; without the status it is looked up', () => {
    const i = issue();
    expect(stopOf(routeLinearEvent(event(appUserNotification(i, 'issueStatusChanged', { issueStatusType: 'completed' })), ctx), i.id).ifIssueStateIn).toBeUndefined();
    stopOf(routeLinearEvent(event(appUserNotification(i, 'issueStatusChanged', { issueStatusType: 'canceled' })), ctx), i.id);
    expect(routeLinearEvent(event(appUserNotification(i, 'issueStatusChanged', { issueStatusType: 'started' })), ctx).kind).toBe('ignore');
    expect(stopOf(routeLinearEvent(event(appUserNotification(i, 'issueStatusChanged')), ctx), i.id).ifIssueStateIn).toEqual(['canceled', 'completed']);
  });

  test("kai's own change and other notifications need nothing", () => {
    const i = issue();
    expect(routeLinearEvent(event(appUserNotification(i, 'issueUnassignedFromYou', { actorId: APP_USER.id })), ctx).kind).toBe('ignore');
    expect(routeLinearEvent(event(appUserNotification(i, 'issueAssignedToYou')), ctx).kind).toBe('ignore');
    expect(routeLinearEvent(event(appUserNotification(i, 'issueNewComment')), ctx).kind).toBe('ignore');
  });
});

describe('the dedupe key comes from what Linear signed, not from Linear-Delivery', () => {
  test('the same event sent again (new timestamp) has the same key; a different event another', () => {
    const i = issue();
    const body = delegationCreated(i);
    const again = { ...body, webhookTimestamp: body.webhookTimestamp + 30_000, webhookId: 'webhook-2' };
    const k1 = signal(routeLinearEvent(event(body), ctx)).signal.payload.deliveryId;
    expect(signal(routeLinearEvent(event(again), ctx)).signal.payload.deliveryId).toBe(k1);
    expect(signal(routeLinearEvent(event(delegationCreated(i)), ctx)).signal.payload.deliveryId).not.toBe(k1);
  });

  test('a prompted event is keyed by its activity id, a comment by its id, a notification by its id', () => {
    const i = issue();
    const prompted = promptedInThread(i, 'session-1', 'root-1', 'c-1', 'go on');
    expect(signal(routeLinearEvent(event(prompted), ctx)).signal.payload.deliveryId).toBe(`activity:${prompted.agentActivity.id}`);
    expect(signal(routeLinearEvent(event(commentCreate(i, { id: 'c-1', body: 'go on' })), ctx)).signal.payload.deliveryId).toBe('comment:c-1:create');
    const n = appUserNotification(i, 'issueUnassignedFromYou');
    expect(signal(routeLinearEvent(event(n), ctx)).signal.payload.deliveryId).toBe(`notification:${n.notification.id}:issueUnassignedFromYou`);
  });
});

describe('every event type has its route', () => {
  const i = issue();
  const envelope = (type: string, action: string) => ({ type, action, webhookTimestamp: Date.now(), organizationId: 'org-1' });
  const issueUpdate = (data: Record<string, unknown>, updatedFrom: Record<string, unknown>, action = 'update') => ({
    ...envelope('Issue', action),
    updatedFrom,
    data: { id: i.id, identifier: i.identifier, ...data },
  });
  const inThread = (content: Record<string, unknown>, stop = false) => {
    const body = promptedInThread(i, 'session-1', 'root-1', 'comment-1', 'x');
    return { ...body, agentActivity: { ...body.agentActivity, content, signal: stop ? 'stop' : null } };
  };
  const stopOf = (d: RouteDecision) => {
    const s = signal(d);
    expect(s.signal).toMatchObject({ type: 'stop', issueId: i.id });
    return s;
  };

  test('AgentSessionEvent prompted: Stop and "stop" stop the session, "/reset" resets it, an empty prompt needs nothing', () => {
    expect(stopOf(routeLinearEvent(event(inThread({ type: 'prompt', body: 'x' }, true)), ctx)).onlyIfRunning).toBe(false);
    stopOf(routeLinearEvent(event(inThread({ type: 'prompt', body: 'stop' })), ctx));
    expect(signal(routeLinearEvent(event(inThread({ type: 'prompt', body: '/reset' })), ctx)).signal).toMatchObject({ type: 'reset', issueId: i.id });
    expect(routeLinearEvent(event(inThread({ type: 'prompt', body: '  ' })), ctx)).toMatchObject({ kind: 'ignore', reason: 'the prompt carries no message' });
  });

  test('Issue: deletion, kai losing the delegation or the assignment, and a cancel stop a running session; other changes need nothing', () => {
    const running = (d: RouteDecision) => expect(stopOf(d).onlyIfRunning).toBe(true);
    running(routeLinearEvent(event(issueUpdate({}, {}, 'remove')), ctx));
    running(routeLinearEvent(event(issueUpdate({ delegateId: null }, { delegateId: APP_USER.id })), ctx));
    running(routeLinearEvent(event(issueUpdate({ assigneeId: 'user-ada' }, { assigneeId: APP_USER.id })), ctx));
    running(routeLinearEvent(event(issueUpdate({ state: { type: 'canceled' } }, { stateId: 'state-started' })), ctx));
    expect(routeLinearEvent(event(issueUpdate({ title: 'Renamed' }, { title: 'Old' })), ctx)).toMatchObject({ kind: 'ignore', label: 'Issue.update' });
    expect(routeLinearEvent(event(issueUpdate({ delegateId: 'someone-else' }, { delegateId: 'user-ada' })), ctx).kind).toBe('ignore');
    expect(routeLinearEvent(event(issueUpdate({}, {}, 'create')), ctx)).toMatchObject({ kind: 'ignore', label: 'Issue.create' });
  });

  test('OAuthApp revoked and PermissionChange become notices; another OAuthApp action needs nothing', () => {
    expect(routeLinearEvent(event({ ...envelope('OAuthApp', 'revoked'), oauthClientId: 'client-1' }), ctx)).toMatchObject({
      kind: 'notice',
      notice: { kind: 'oauth-revoked', oauthClientId: 'client-1' },
    });
    expect(routeLinearEvent(event({ ...envelope('OAuthApp', 'created') }), ctx)).toMatchObject({ kind: 'ignore', label: 'OAuthApp.created' });
    expect(routeLinearEvent(event({ ...envelope('PermissionChange', 'teamAccessChanged'), addedTeamIds: ['team-2'], removedTeamIds: ['team-1'] }), ctx)).toMatchObject({
      kind: 'notice',
      notice: { kind: 'permission-change', addedTeamIds: ['team-2'], removedTeamIds: ['team-1'] },
    });
  });

  test('a type kai does not know is ignored under its own label', () => {
    expect(routeLinearEvent(event({ ...envelope('Reaction', 'create'), data: { id: 'r1' } }), ctx)).toEqual({
      kind: 'ignore',
      reason: 'kai does not act on this type',
      label: 'Reaction.create',
    });
  });
});
