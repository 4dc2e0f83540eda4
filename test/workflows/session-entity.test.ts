// The Session entity without a server: handlers record and enqueue, the state carried across
// continue-as-new is one object, and nothing accepted is left out of it.
import { RECORD_CHARS, RECORD_TURNS, Session, describeDropped, type CarriedState } from '../../src/workflows/session-entity';
import { recapText } from '../../src/workflows/messages';
import type { PromptSignal } from '../../src/workflows/signals';

const hooks = (patches: string[] = ['help-answered-at-once']) => ({
  patched: (id: string) => patches.includes(id),
  warnings: [] as string[],
  warn(message: string) {
    this.warnings.push(message);
  },
});

const prompt = (deliveryId: string, body = 'Do it', agentSessionId = 'session-a'): PromptSignal => ({
  deliveryId,
  agentSessionId,
  body,
  receivedAt: '2026-01-01T00:00:00Z',
  source: 'prompted',
});

test('a prompt is queued once and acknowledged; a redelivery is dropped', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.onPrompt(prompt('d1'));
  s.onPrompt(prompt('d1'));
  expect(s.state.queue).toHaveLength(1);
  expect(s.posts).toEqual([{ kind: 'ack', deliveryId: 'd1', queuedBehind: false }]);
  expect(s.queued('d1')?.kind).toBe('prompt');
});

test('a prompt during a turn is acknowledged as queued behind it', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.turn = { agentSessionId: 'session-a', cancel() {} };
  s.onPrompt(prompt('d2', 'More', 'session-b'));
  expect(s.posts).toEqual([{ kind: 'ack', deliveryId: 'd2', queuedBehind: true }]);
});

test('a comment without an agent session goes to the session last used, or is dropped with a warning', () => {
  const h = hooks();
  const s = new Session('issue-1', undefined, h);
  s.onPrompt(prompt('d1', 'x', ''));
  expect(s.state.queue).toHaveLength(0);
  expect(h.warnings).toHaveLength(1);
  s.state.lastAgentSessionId = 'session-a';
  s.onPrompt(prompt('d2', 'x', ''));
  expect(s.state.queue[0]).toMatchObject({ kind: 'prompt', prompt: { agentSessionId: 'session-a' } });
});

test('/help is answered at once without a turn when the patch applies, queued as a turn before it', () => {
  const now = new Session('issue-1', undefined, hooks());
  now.onPrompt(prompt('d1', '/help'));
  expect(now.state.queue).toHaveLength(0);
  expect(now.posts[0]).toMatchObject({ kind: 'reply', agentSessionId: 'session-a' });
  const before = new Session('issue-1', undefined, hooks([]));
  before.onPrompt(prompt('d1', '/help'));
  expect(before.state.queue).toHaveLength(1);
});

test('stop cancels the running turn; while idle it answers that nothing runs, and an issue-level stop says nothing', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.onStop({ deliveryId: 's1', agentSessionId: 'session-a' });
  expect(s.posts).toEqual([{ kind: 'reply', agentSessionId: 'session-a', body: expect.stringMatching(/Nothing is running/) }]);
  s.onStop({ deliveryId: 's2', agentSessionId: '' });
  expect(s.posts).toHaveLength(1);
  let cancelled = 0;
  s.turn = { agentSessionId: 'session-a', cancel: () => cancelled++ };
  s.onStop({ deliveryId: 's3', agentSessionId: 'session-a' });
  expect(cancelled).toBe(1);
  expect(s.status().stopRequested).toBe(true);
});

test('a reset while idle needs no ack; during a turn it is acknowledged as queued', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.onReset({ deliveryId: 'r1', agentSessionId: 'session-a' });
  expect(s.state.queue[0]).toMatchObject({ kind: 'reset', acked: true });
  expect(s.posts).toHaveLength(0);
  s.turn = { agentSessionId: 'session-a', cancel() {} };
  s.onReset({ deliveryId: 'r2', agentSessionId: 'session-a' });
  expect(s.posts).toEqual([{ kind: 'ack', deliveryId: 'r2', queuedBehind: true }]);
});

test('the snapshot carries the queue, pending replies and acks, tokens and seen ids into the next run', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.onPrompt(prompt('d1'));
  s.onPrompt(prompt('d2', '/help', 'session-b'));
  s.state.resumeTokens.claude = 'tok';
  s.state.turns = 3;
  const carried: CarriedState = JSON.parse(JSON.stringify(s.snapshot()));
  expect(carried.generation).toBe(1);
  const next = new Session('issue-1', carried, hooks());
  expect(next.posts).toEqual(s.posts);
  expect(next.posts.map((p) => p.kind)).toEqual(['ack', 'reply']);
  expect(next.state.queue).toHaveLength(1);
  expect(next.state.resumeTokens).toEqual({ claude: 'tok' });
  expect(next.status()).toMatchObject({ turns: 3, generation: 1, queuedPrompts: 1, pendingPosts: 2 });
  next.onPrompt(prompt('d1'));
  expect(next.state.queue).toHaveLength(1); // the redelivery is still recognised
});

test('a carried state from before pending posts were carried starts with none', () => {
  const old = { queue: [], seenDeliveryIds: ['a'], resumeTokens: {}, issueStarted: true, externalUrlsSet: true, turns: 2, generation: 1 };
  const s = new Session('issue-1', old, hooks());
  expect(s.posts).toEqual([]);
  expect(s.accept('a')).toBe(false);
});

test('seen delivery ids are bounded, oldest forgotten first', () => {
  const s = new Session('issue-1', undefined, hooks(), 3);
  for (const id of ['a', 'b', 'c', 'd']) expect(s.accept(id)).toBe(true);
  expect(s.snapshot().seenDeliveryIds).toEqual(['b', 'c', 'd']);
  expect(s.accept('a')).toBe(true);
  expect(s.accept('d')).toBe(false);
});

test('rememberIssue says when the identifier or team changed, so search attributes follow', () => {
  const s = new Session('issue-1', undefined, hooks());
  const issue = { id: 'issue-1', identifier: 'ENG-1', title: 't', url: 'u', teamId: 'team-1', labels: [] };
  expect(s.rememberIssue(issue)).toBe(true);
  expect(s.rememberIssue({ ...issue, title: 'new title' })).toBe(false);
  expect(s.rememberIssue({ ...issue, identifier: 'OPS-1' })).toBe(true);
});

test('dropQueue empties the queue and describeDropped counts the prompts', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.onPrompt(prompt('d1'));
  s.onPrompt(prompt('d2'));
  s.onReset({ deliveryId: 'r1', agentSessionId: 'session-a' });
  const dropped = s.dropQueue();
  expect(s.state.queue).toHaveLength(0);
  expect(describeDropped(dropped)).toBe('2 queued messages were dropped.');
  expect(describeDropped(dropped.slice(0, 1))).toBe('1 queued message was dropped.');
  expect(describeDropped([])).toBe('');
});

test('one message, one run: comment ids, session threads and held comments are carried across continue-as-new, and bounded', () => {
  const patches = ['help-answered-at-once', 'one-message-one-run'];
  const s = new Session('issue-1', undefined, hooks(patches), 4);
  s.onPrompt({ ...prompt('d1', 'Start'), source: 'created', threadId: 'root-a' });
  s.onPrompt({ ...prompt('d2', 'Reply'), commentId: 'c-1', threadId: 'root-a' });
  s.onPrompt({ ...prompt('d3', 'Other'), agentSessionId: '', source: 'comment', commentId: 'c-2', threadId: 'root-x' });
  expect(s.held.map((h) => h.commentId)).toEqual(['c-2']);
  const next = new Session('issue-1', s.snapshot(), hooks(patches), 4);
  // the same message through its Comment webhook, after continue-as-new: dropped
  next.onPrompt({ ...prompt('d4', 'Reply'), agentSessionId: '', source: 'comment', commentId: 'c-1', threadId: 'root-a' });
  expect(next.state.queue).toHaveLength(2);
  expect(next.held).toHaveLength(1);
  // a reply in the known thread goes to its session without waiting
  next.onPrompt({ ...prompt('d5', 'More'), agentSessionId: '', source: 'comment', commentId: 'c-3', threadId: 'root-a' });
  expect(next.state.queue.map((q) => (q.kind === 'prompt' ? q.prompt.agentSessionId : ''))).toEqual(['session-a', 'session-a', 'session-a']);
  // the seen list stays bounded: delivery and comment ids share it
  expect(next.state.seenDeliveryIds.length).toBeLessThanOrEqual(4);
});

test('the answer to "which repository?" picks one of the options, case-insensitively, and is carried across continue-as-new', () => {
  const s = new Session('issue-1', undefined, hooks());
  s.state.asking = { agentSessionId: 'session-a', options: ['app', 'web'], prompt: prompt('d1', 'Add a greeting') };
  // a message in another session is not the answer
  expect(s.answerElicitation(prompt('d2', 'web', 'session-b')).body).toBe('web');
  const run = s.answerElicitation(prompt('d3', ' WEB '));
  expect(run).toMatchObject({ body: 'Add a greeting', deliveryId: 'd3', agentSessionId: 'session-a' });
  expect(new Session('issue-1', s.snapshot(), hooks()).state.project).toBe('web');
  // an answer that is no option is a new request
  s.state.asking = { agentSessionId: 'session-a', options: ['app', 'web'], prompt: prompt('d4', 'Other') };
  expect(s.answerElicitation(prompt('d5', 'the mobile one')).body).toBe('the mobile one');
  expect(s.state.asking).toBeUndefined();
});

test('the turn record keeps the last turns, trimmed, carries across continue-as-new and makes the recap', () => {
  const s = new Session('issue-1', undefined, hooks());
  for (let i = 1; i <= RECORD_TURNS + 3; i++) s.recordTurn(`ask ${i}`, i === 2 ? undefined : `did ${i}`);
  s.recordTurn('x'.repeat(RECORD_CHARS + 50), 'done');
  const record = s.snapshot().record!;
  expect(record).toHaveLength(RECORD_TURNS);
  expect(record[0]!.prompt).toBe(`ask 5`);
  expect(record.at(-1)!.prompt).toHaveLength(RECORD_CHARS + 1); // trimmed, with an ellipsis
  const next = new Session('issue-1', s.snapshot(), hooks());
  expect(next.state.record).toEqual(record);
  const recap = recapText(next.state.record!, 'https://github.com/acme/app/pull/1')!;
  expect(recap).toContain('The user asked: ask 5');
  expect(recap).toContain('You answered: did 5');
  expect(recap).toContain('https://github.com/acme/app/pull/1');
  expect(recapText([], undefined)).toBeUndefined();
});
