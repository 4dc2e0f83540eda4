// One message, one run (issue 12.2), on a real Temporal dev server with recording activities.
// A user message reaches kai as a Comment webhook and as an AgentSessionEvent, in either order
// and seconds apart; both carry the comment id. The workflow runs it once, in the session whose
// thread it was written in.
import { statusQuery } from '../../src/workflows/signals';
import { waitFor } from '../harness/temporal';
import { rig, runs, useTestEnv } from './session-rig';

useTestEnv();

test('a mention whose Comment webhook comes first, and its session event seconds later, runs once in the new session', async () => {
  const r = await rig({ commentGraceMs: 30_000 });
  try {
    await r.event('session-a', 'Set things up', { threadId: 'root-a' }, 'created');
    await waitFor('the first answer', () => r.fakes.finals().length === 1);
    // the mention's comment arrives first: its thread is not a session yet, so it waits
    await r.comment('@kai fix the build', { commentId: 'c-mention', threadId: 'c-mention' });
    await waitFor('the comment to be held', async () => (await r.handle.query(statusQuery)).heldComments === 1);
    expect(r.fakes.named('engineRun')).toHaveLength(1);
    // then the AgentSessionEvent that Linear created for the mention
    await r.event('session-m', '@kai fix the build', { commentId: 'c-mention', threadId: 'c-mention' }, 'created');
    await waitFor('the mention answer', () => r.fakes.finals().filter((f) => f.agentSessionId === 'session-m').length === 1);
    await r.barrier();
    expect(runs(r.fakes)).toEqual([
      { prompt: 'Set things up', agentSessionId: 'session-a' },
      { prompt: '@kai fix the build', agentSessionId: 'session-m' },
    ]);
    // a later reply in the mention's thread goes to its session, not to the session last used
    await r.event('session-a', 'Back to the first', { commentId: 'c-back', threadId: 'root-a' });
    await waitFor('the reply in the first thread', () => runs(r.fakes).length === 3);
    await r.comment('and the tests too', { commentId: 'c-reply', threadId: 'c-mention' });
    await r.event('session-m', 'and the tests too', { commentId: 'c-reply', threadId: 'c-mention' });
    await r.barrier();
    expect(runs(r.fakes).slice(2)).toEqual([
      { prompt: 'Back to the first', agentSessionId: 'session-a' },
      { prompt: 'and the tests too', agentSessionId: 'session-m' },
    ]);
  } finally {
    await r.finish();
  }
});

test('a mention whose Comment webhook and session event reach the workflow in one task runs once, in the new session', async () => {
  const r = await rig({ commentGraceMs: 30_000 });
  try {
    await r.event('session-a', 'Set things up', { threadId: 'root-a' }, 'created');
    await waitFor('the first answer', () => r.fakes.finals().length === 1);
    await r.pauseWorkers(async () => {
      await r.comment('@kai fix the build', { commentId: 'c-mention', threadId: 'c-mention' });
      await r.event('session-m', '@kai fix the build', { commentId: 'c-mention', threadId: 'c-mention' }, 'created');
    });
    await waitFor('the mention answer', () => r.fakes.finals().filter((f) => f.agentSessionId === 'session-m').length === 1);
    await r.barrier();
    expect(runs(r.fakes)).toEqual([
      { prompt: 'Set things up', agentSessionId: 'session-a' },
      { prompt: '@kai fix the build', agentSessionId: 'session-m' },
    ]);
  } finally {
    await r.finish();
  }
});

test('a reply whose session event comes first is not run again by its Comment webhook', async () => {
  const r = await rig();
  try {
    await r.event('session-a', 'Start', { threadId: 'root-a' }, 'created');
    await r.event('session-b', 'Other session', { threadId: 'root-b' }, 'created');
    await waitFor('two answers', () => r.fakes.finals().length === 2);
    await r.event('session-a', 'Follow up', { commentId: 'c-1', threadId: 'root-a' });
    await waitFor('the follow-up answer', () => runs(r.fakes).length === 3);
    await r.comment('Follow up', { commentId: 'c-1', threadId: 'root-a' });
    // a redelivery of the comment under another delivery id is still the same message
    await r.comment('Follow up', { commentId: 'c-1', threadId: 'root-a' });
    await r.barrier();
    expect(runs(r.fakes).map((x) => x.agentSessionId)).toEqual(['session-a', 'session-b', 'session-a']);
    expect(r.fakes.finals().filter((f) => !f.agentSessionId.startsWith('session-barrier'))).toHaveLength(3);
  } finally {
    await r.finish();
  }
});

test('a reply whose Comment webhook comes first runs at once in its thread\'s session, and the later session event is dropped', async () => {
  const r = await rig({ commentGraceMs: 30_000 });
  try {
    await r.event('session-a', 'Start', { threadId: 'root-a' }, 'created');
    await r.event('session-b', 'Other session', { threadId: 'root-b' }, 'created');
    await waitFor('two answers', () => r.fakes.finals().length === 2);
    // written in session A's thread though session B was used last; no grace wait needed
    await r.comment('Reply in A', { commentId: 'c-2', threadId: 'root-a' });
    await waitFor('the reply to run', () => runs(r.fakes).length === 3);
    await r.event('session-a', 'Reply in A', { commentId: 'c-2', threadId: 'root-a' });
    await r.barrier();
    expect(runs(r.fakes).map((x) => x.agentSessionId)).toEqual(['session-a', 'session-b', 'session-a']);
  } finally {
    await r.finish();
  }
});

test('a comment in no session thread whose session event never comes runs after the grace period in the session last used', async () => {
  const r = await rig({ commentGraceMs: 500 });
  try {
    await r.event('session-a', 'Start', { threadId: 'root-a' }, 'created');
    await waitFor('the first answer', () => r.fakes.finals().length === 1);
    await r.comment('A top-level comment', { commentId: 'c-top', threadId: 'c-top' });
    await waitFor('the comment to run', () => runs(r.fakes).length === 2);
    // its session event arriving after all is the same message: dropped
    await r.event('session-a', 'A top-level comment', { commentId: 'c-top', threadId: 'c-top' });
    await r.barrier();
    expect(runs(r.fakes)).toEqual([
      { prompt: 'Start', agentSessionId: 'session-a' },
      { prompt: 'A top-level comment', agentSessionId: 'session-a' },
    ]);
    const description = await r.handle.describe();
    expect(description.status.name).toBe('RUNNING');
  } finally {
    await r.finish();
  }
});

test('a comment held in its grace period when Stop arrives is not lost: it runs after the stopped response, and nothing reaches the stopped session before that response', async () => {
  const r = await rig({ commentGraceMs: 300 });
  try {
    r.fakes.hold();
    await r.event('session-a', 'Long task', { threadId: 'root-a' }, 'created');
    await waitFor('the engine to start', () => r.fakes.named('engineRun').length === 1);
    await r.comment('Also update the docs', { commentId: 'c-held', threadId: 'c-held' });
    await waitFor('the comment to be held', async () => (await r.handle.query(statusQuery)).heldComments === 1);
    // The stop's handling is slowed until the comment's grace period is over, so its end falls
    // inside the stop.
    r.fakes.holdActivity('gitDescribe');
    const before = r.fakes.calls.length;
    await r.stop('session-a');
    await waitFor('the stop to describe the worktree', () => r.fakes.named('gitDescribe').length === 1);
    await waitFor('the grace timer to fire', async () => {
      const history = await r.handle.fetchHistory();
      return (history.events ?? []).some((e) => e.timerFiredEventAttributes);
    });
    r.fakes.release();
    r.fakes.releaseActivity('gitDescribe');
    await waitFor('the held comment to run and be answered', () => r.fakes.finals().length === 2);
    const toA = r.fakes.calls.slice(before).filter((c) => c.input?.agentSessionId === 'session-a' || c.name === 'gitDescribe');
    const firstFinal = toA.findIndex((c) => c.name === 'linearPostFinal');
    // from Stop to its response: the cancelled engine, local git, the one final activity
    expect(toA.slice(0, firstFinal + 1).map((c) => c.name)).toEqual(['engineRun:cancelled', 'gitDescribe', 'linearPostFinal']);
    expect(r.fakes.finals()[0]!.body).not.toMatch(/dropped/);
    expect(runs(r.fakes)).toEqual([
      { prompt: 'Long task', agentSessionId: 'session-a' },
      { prompt: 'Also update the docs', agentSessionId: 'session-a' },
    ]);
  } finally {
    r.fakes.release();
    await r.finish();
  }
});
