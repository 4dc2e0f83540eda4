// How the Linear activities fail: rate limits wait for Linear's reset, outages retry, and
// refusals (deleted session, unknown operation) stop at once. "Retry" here re-invokes the
// activity with the same input, as Temporal does.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { classifyLinearError, createLinearActivities, createLinearProgress } from '../../../src/activities/linear';
import { messageParts } from '../../../src/domain/message-parts';
import { ErrorTypes } from '../../../src/activities/errors';
import { ManualClock } from '../../harness/clock';
import { waitFor } from '../../harness/temporal';
import { requestLog, sleep, startRig, TOKEN, type Rig } from './helpers';

let rig: Rig;
afterEach(async () => {
  await rig?.emulator.stop();
});

/** Calls `fn` until it succeeds, at most `attempts` times, waiting as a failure asks. */
async function retryLikeTemporal<T>(fn: () => Promise<T>, attempts = 5): Promise<{ value: T; failures: unknown[] }> {
  const failures: unknown[] = [];
  for (let i = 0; i < attempts; i++) {
    try {
      return { value: await fn(), failures };
    } catch (err) {
      failures.push(err);
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
      const delay = err instanceof ApplicationFailure && typeof err.nextRetryDelay === 'number' ? err.nextRetryDelay : 50;
      await sleep(delay);
    }
  }
  throw failures.at(-1);
}

test('RATELIMITED waits until the reset Linear gives, then posts the final response once', async () => {
  rig = await startRig({ rateLimit: { limit: 2, windowMs: 1_500 } });
  const acts = createLinearActivities({ linear: rig.linear, transport: { max_body_chars: 200 } });
  const body = Array.from({ length: 6 }, (_, i) => `Paragraph ${i}: ${'word '.repeat(20)}`).join('\n\n');
  // The workflow chose the ids once; every retry carries the same input.
  const partIds = messageParts(body, 200).slice(1).map(() => randomUUID());
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), kind: 'response' as const, body, partIds };
  const { failures } = await retryLikeTemporal(() => acts.linearPostFinal(input));
  expect(failures.length).toBeGreaterThan(0);
  const first = failures[0] as ApplicationFailure;
  expect(first.type).toBe('LinearRateLimited');
  expect(first.nonRetryable).toBeFalsy();
  expect(first.nextRetryDelay).toBeGreaterThan(0);
  expect(first.nextRetryDelay).toBeLessThanOrEqual(1_500);
  const log = await requestLog(rig.emulator);
  expect(log.filter((r) => r.outcome === 'ratelimited').length).toBeGreaterThan(0);
  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities.map((a) => String(a.content.body))).toEqual(messageParts(body, 200));
  expect(session.activities.map((a) => a.type)).toEqual([...partIds.map(() => 'thought'), 'response']);
  expect(session.activities.map((a) => a.id)).toEqual([...partIds, input.activityId]);
});

test('a burst of 5xx is retried and the acknowledgement appears exactly once', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  rig.emulator.injectFaults({ status: 503, count: 2, operations: ['agentActivityCreate'] });
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), body: 'On it.' };
  const { failures } = await retryLikeTemporal(() => acts.linearAcknowledge(input));
  expect(failures).toHaveLength(2);
  expect(failures.every((f) => f instanceof Error && !(f instanceof ApplicationFailure))).toBe(true);
  expect(String((failures[0] as Error).message)).toMatch(/acknowledge: Linear is unavailable \(HTTP 503\)/);
  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities).toEqual([expect.objectContaining({ id: input.activityId, type: 'thought', ephemeral: true })]);
});

test('a retry after a lost response posts nothing twice: Linear refuses the repeated ids and kai takes them as posted', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear, transport: { max_body_chars: 300 } });
  const body = Array.from({ length: 5 }, (_, i) => `Part ${i} ${'x'.repeat(150)}`).join('\n\n');
  const partIds = messageParts(body, 300).slice(1).map(() => randomUUID());
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), kind: 'response' as const, body, partIds };
  await acts.linearPostFinal(input);
  // The worker crashed before reporting success; Temporal runs it again on another worker.
  const otherWorker = createLinearActivities({ linear: rig.linear, transport: { max_body_chars: 300 } });
  await otherWorker.linearPostFinal(input);
  const creates = (await requestLog(rig.emulator)).filter((r) => r.rootFields.includes('agentActivityCreate'));
  const n = partIds.length + 1;
  expect(creates).toHaveLength(2 * n);
  expect(creates.filter((r) => r.outcome === 'error')).toHaveLength(n);
  expect(creates.filter((r) => r.outcome === 'error').every((r) => /already exists/.test(r.errors!.join()))).toBe(true);
  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities).toHaveLength(n);
  expect(session.activities.filter((a) => a.type === 'response')).toHaveLength(1);
  expect(session.activities.at(-1)!.id).toBe(input.activityId);
  // One final activity, one comment by kai.
  const kaiComments = [...rig.emulator.state.comments.values()].filter((c) => c.userId === rig.emulator.state.appUser.id);
  expect(kaiComments).toHaveLength(1);
});

test('progress survives a 5xx burst and a rate limit with nothing lost or duplicated', async () => {
  rig = await startRig();
  // The lasting record is posted every 50 ms here, so the finished action meets the rate limit.
  const sink = createLinearProgress({ linear: rig.linear, transport: { ephemeral_activity_coalesce_s: 0.02 }, recordEveryMs: 50 })({
    agentSessionId: rig.sessionId,
    issueId: rig.issueId,
  });
  rig.emulator.injectFaults({ status: 502, count: 2, operations: ['agentActivityCreate'] });
  sink.emit({ type: 'thought', text: 'first thought' });
  await waitFor('the first thought past the 5xx burst', () => rig.emulator.snapshot().sessions[0]!.activities.length > 0);
  rig.emulator.setRateLimit({ limit: 0, windowMs: 400 });
  sink.emit({ type: 'action', id: 'a', kind: 'command', title: 'make', phase: 'completed', ok: true });
  await waitFor('the finished action to meet the rate limit', () => rig.emulator.requests().some((r) => r.outcome === 'ratelimited'));
  rig.emulator.setRateLimit(undefined);
  await sink.close();
  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities.map((a) => a.content)).toEqual([
    { type: 'thought', body: 'first thought' },
    { type: 'action', action: 'make', parameter: 'command', result: 'done' },
  ]);
  const log = await requestLog(rig.emulator);
  expect(log.filter((r) => r.outcome === 'fault')).toHaveLength(2);
  expect(log.filter((r) => r.outcome === 'ratelimited').length).toBeGreaterThanOrEqual(1);
});

test('a deleted session ends the call with a permanent LinearUserError, after one request', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  rig.emulator.state.deleteSession(rig.sessionId);
  rig.emulator.clearRequests();
  const err = await acts
    .linearPostFinal({ agentSessionId: rig.sessionId, activityId: randomUUID(), kind: 'response', body: 'done' })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(ErrorTypes.linearUser);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as Error).message).toMatch(/Entity not found: AgentSession/);
  expect(await requestLog(rig.emulator)).toHaveLength(1);

  // The progress sink goes quiet instead of retrying: one refused request, then nothing.
  const clock = new ManualClock();
  const sink = createLinearProgress({ linear: rig.linear, transport: { ephemeral_activity_coalesce_s: 0.01 }, clock })({ agentSessionId: rig.sessionId, issueId: rig.issueId });
  sink.emit({ type: 'thought', text: 't0' });
  await clock.advance(10);
  await waitFor('the refused progress post', async () => (await requestLog(rig.emulator)).length === 2);
  for (let i = 1; i < 20; i++) {
    sink.emit({ type: 'thought', text: `t${i}` });
    await clock.advance(15);
  }
  await sink.close();
  expect((await requestLog(rig.emulator)).length).toBe(2);
});

test('a deleted issue makes loading it a permanent error', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  rig.emulator.state.deleteIssue(rig.issueId);
  const err = await acts.linearLoadIssue({ issueId: rig.issueId }).catch((e: unknown) => e);
  expect((err as ApplicationFailure).type).toBe(ErrorTypes.linearUser);
  expect((err as Error).message).toMatch(/load the issue: Entity not found: Issue/);
});

test('an operation the emulator does not know fails loudly and permanently, naming it', async () => {
  rig = await startRig();
  const err = await rig.linear
    .raw('archive the issue', 'mutation { issueArchive(id: "x") { success } }', {})
    .catch((e: unknown) => e);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as Error).message).toMatch(/Cannot query field "issueArchive" on type "Mutation"/);
});

test('errors and logs never carry the access token', async () => {
  rig = await startRig();
  rig.emulator.state.deleteSession(rig.sessionId);
  const acts = createLinearActivities({ linear: rig.linear });
  const err = (await acts.linearAcknowledge({ agentSessionId: rig.sessionId, activityId: randomUUID(), body: 'x' }).catch((e: unknown) => e)) as Error;
  expect(JSON.stringify({ message: err.message, stack: err.stack, details: (err as ApplicationFailure).details })).not.toContain(TOKEN);
});

describe('classifying Linear failures', () => {
  // Shaped as @linear/sdk's LinearError carries them: status and the raw GraphQL errors.
  const sdkError = (status: number, extensions: Record<string, unknown>, message = 'refused') =>
    Object.assign(new Error(message), { status, raw: { response: { status, errors: [{ message, extensions }] } } });

  test('an authentication error is `auth` whether Linear answers HTTP 401 or HTTP 400 with userError', () => {
    expect(classifyLinearError(sdkError(401, { code: 'AUTHENTICATION_ERROR', type: 'authentication error', userError: true })).kind).toBe('auth');
    expect(classifyLinearError(sdkError(400, { code: 'AUTHENTICATION_ERROR', type: 'authentication error', userError: true })).kind).toBe('auth');
    expect(classifyLinearError(sdkError(400, { type: 'authentication error', userError: true })).kind).toBe('auth');
  });

  test('an input error stays a permanent user error; 403 and 5xx stay retryable', () => {
    expect(classifyLinearError(sdkError(400, { code: 'INPUT_ERROR', type: 'invalid input', userError: true })).kind).toBe('user');
    expect(classifyLinearError(sdkError(403, { code: 'FORBIDDEN', type: 'forbidden', userError: true })).kind).toBe('transient');
    expect(classifyLinearError(sdkError(503, {})).kind).toBe('transient');
  });
});

test('a discarded sink (the run was stopped) posts nothing more: pending progress is dropped, a post on its way lands before discard settles', async () => {
  rig = await startRig();
  const sink = createLinearProgress({ linear: rig.linear, transport: { ephemeral_activity_coalesce_s: 0.02, plan_coalesce_s: 0.02 } })({
    agentSessionId: rig.sessionId,
    issueId: rig.issueId,
  });
  const creates = async () => (await requestLog(rig.emulator)).filter((r) => r.rootFields.includes('agentActivityCreate') || r.rootFields.includes('agentSessionUpdate'));
  rig.emulator.injectLatency({ ms: 400, count: 1, operations: ['agentActivityCreate'] });
  sink.emit({ type: 'thought', text: 'Reading the code' });
  // the live thought is on its way (slowed down by the emulator); the lasting record is pending
  for (let i = 0; i < 100 && (await creates()).length === 0; i++) await sleep(10);
  expect(await creates()).toHaveLength(1);
  sink.emit({ type: 'action', id: 'a', kind: 'command', title: 'make', phase: 'completed', ok: true });
  sink.emit({ type: 'plan', items: [{ content: 'Build', status: 'inProgress' }] });
  await sink.discard();
  const landed = (await creates()).length;
  expect(rig.emulator.snapshot().sessions[0]!.activities).toHaveLength(1); // the one on its way landed
  // after the stop: events and close() post nothing
  sink.emit({ type: 'thought', text: 'after the stop' });
  await sink.close();
  expect((await creates()).length).toBe(landed);
  expect(rig.emulator.snapshot().sessions[0]!.activities.map((a) => a.content)).toEqual([{ type: 'thought', body: 'Reading the code' }]);
});
