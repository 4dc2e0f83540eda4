// A Linear agent session with no issue (opened outside an issue): kai has nothing to work on
// there, but Linear shows an agent that never answers as unresponsive. Ingress routes such a
// session to this small workflow, keyed by its agent session id; each message gets one short
// response saying what kai can do, and the workflow ends once nothing has come for a minute.
import { condition, log, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { sessionActivities } from './activity-options';
import { NO_ISSUE_TEXT } from './messages';
import { DEFAULT_SESSION_OPTIONS, type SessionInput, type SessionOptions, type SessionResult } from './options';
import { promptSignal, resetSignal, statusQuery, stopSignal } from './signals';
import { describeError } from './turn';

const LINGER_MS = 60 * 1000;

export async function noIssueSession(input: SessionInput): Promise<SessionResult> {
  const opts: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...input.options };
  const acts = sessionActivities(opts, workflowInfo().taskQueue);
  const seen = new Set<string>();
  const waiting: string[] = [];
  let answered = 0;
  setHandler(promptSignal, (p) => {
    if (seen.has(p.deliveryId) || !p.agentSessionId) return;
    seen.add(p.deliveryId);
    waiting.push(p.agentSessionId);
  });
  // Nothing runs here: a stop or reset has nothing to act on.
  setHandler(stopSignal, () => undefined);
  setHandler(resetSignal, () => undefined);
  setHandler(statusQuery, () => ({
    issueId: input.issueId,
    phase: waiting.length ? 'responding' : 'idle',
    queuedPrompts: waiting.length,
    queue: [],
    resumeTokens: {},
    turns: answered,
    generation: 0,
    stopRequested: false,
    pendingPosts: waiting.length,
    heldComments: 0,
  }));
  while (await condition(() => waiting.length > 0, LINGER_MS, { summary: 'a session with no issue: wait for another message' })) {
    const agentSessionId = waiting.shift()!;
    await acts.linear
      .linearPostFinal({ agentSessionId, activityId: uuid4(), kind: 'response', body: NO_ISSUE_TEXT }, 'say what kai can do')
      .catch((err) => log.warn('Could not answer a session with no issue', { error: describeError(err) }));
    answered += 1;
  }
  return { issueId: input.issueId, turns: answered };
}
