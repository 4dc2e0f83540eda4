// Linear refuses a repeated client activity id (it documents no idempotency for it). kai takes
// that refusal as "already posted" on every path (acknowledgement, progress, final response,
// elicitation) and carries on; it never posts twice and never goes silent because of it. Also:
// one comment and one Comment webhook per final activity, and labels created by a racing turn.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createLinearActivities, createLinearProgress } from '../../../src/activities/linear';
import { messageParts } from '../../../src/domain/message-parts';
import { requestLog, startRig, type Rig } from './helpers';
import { waitFor } from '../../harness/temporal';

let rig: Rig;
let closeReceiver: (() => Promise<void>) | undefined;
afterEach(async () => {
  await rig?.emulator.stop();
  await closeReceiver?.();
  closeReceiver = undefined;
});

/** A webhook endpoint counting what the emulator sends. */
async function receiver(): Promise<{ url: string; events: Array<{ event: string; body: Record<string, any> }> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const events: Array<{ event: string; body: Record<string, any> }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      events.push({ event: String(req.headers['linear-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closeReceiver = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/linear`, events };
}

const creates = async () => (await requestLog(rig.emulator)).filter((r) => r.rootFields.includes('agentActivityCreate'));

test('acknowledgement: a lost response then a retry posts one thought; the refused repeat counts as posted', async () => {
  rig = await startRig();
  rig.emulator.injectFaults({ status: 502, count: 1, operations: ['agentActivityCreate'], lostResponse: true });
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), body: 'On it.' };
  const acts = createLinearActivities({ linear: rig.linear });
  await expect(acts.linearAcknowledge(input)).rejects.toThrow(/HTTP 502/);
  // Temporal retries the activity, here on another worker that never saw the first try.
  await createLinearActivities({ linear: rig.linear }).linearAcknowledge(input);
  expect((await creates()).map((r) => r.outcome)).toEqual(['fault', 'error']);
  expect(rig.emulator.snapshot().sessions[0]!.activities).toEqual([expect.objectContaining({ id: input.activityId, type: 'thought' })]);
});

test('progress: a refused repeat after a lost response does not silence the sink; later progress still posts', async () => {
  rig = await startRig();
  // Only the lasting record is posted here (the live, ephemeral one would wait 10 s), so the
  // retried item is the one that was lost.
  const sink = createLinearProgress({ linear: rig.linear, transport: { ephemeral_activity_coalesce_s: 10 }, maxWaitMs: 60_000, recordEveryMs: 20 })({
    agentSessionId: rig.sessionId,
    issueId: rig.issueId,
  });
  rig.emulator.injectFaults({ status: 502, count: 1, operations: ['agentActivityCreate'], lostResponse: true });
  sink.emit({ type: 'thought', text: 'first thought' });
  await waitFor('the lost post and its refused repeat', async () => (await creates()).length >= 2);
  sink.emit({ type: 'thought', text: 'second thought' });
  await sink.close();
  const outcomes = (await creates()).map((r) => r.outcome);
  expect(outcomes).toEqual(['fault', 'error', 'ok']);
  const bodies = rig.emulator.snapshot().sessions[0]!.activities.map((a) => a.content.body);
  expect(bodies).toEqual(['first thought', 'second thought']);
});

test('a long final answer: leading lasting thoughts, then one response: one comment and one Comment webhook; a retry posts nothing twice', async () => {
  const hooks = await receiver();
  rig = await startRig({ webhookUrl: hooks.url });
  const max = 400;
  const body = Array.from({ length: 8 }, (_, i) => `Section ${i}: ${'detail '.repeat(30)}`).join('\n\n');
  const expected = messageParts(body, max);
  expect(expected.length).toBeGreaterThan(2);
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), kind: 'response' as const, body, partIds: expected.slice(1).map(() => randomUUID()) };
  rig.emulator.injectFaults({ status: 503, count: 1, operations: ['agentActivityCreate'], lostResponse: true });
  const acts = createLinearActivities({ linear: rig.linear, transport: { max_body_chars: max } });
  await expect(acts.linearPostFinal(input)).rejects.toThrow(/HTTP 503/);
  await createLinearActivities({ linear: rig.linear, transport: { max_body_chars: max } }).linearPostFinal(input);
  await rig.emulator.settled();

  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities.map((a) => a.id)).toEqual([...input.partIds, input.activityId]);
  expect(session.activities.map((a) => a.type)).toEqual([...input.partIds.map(() => 'thought'), 'response']);
  expect(session.activities.every((a) => a.ephemeral === false)).toBe(true);
  expect(session.activities.map((a) => a.content.body)).toEqual(expected);
  expect(session.status).toBe('complete');
  expect((await creates()).map((r) => r.outcome)).toEqual(['fault', 'error', ...expected.slice(1).map(() => 'ok')]);
  const app = rig.emulator.state.appUser.id;
  expect([...rig.emulator.state.comments.values()].filter((c) => c.userId === app)).toHaveLength(1);
  const comments = hooks.events.filter((e) => e.event === 'Comment');
  expect(comments).toHaveLength(1);
  expect(comments[0]!.body.data).toMatchObject({ userId: app, body: expected.at(-1) });
});

test('a long final answer without enough part ids is one trimmed response, never a guessed id', async () => {
  rig = await startRig();
  const body = Array.from({ length: 8 }, (_, i) => `Section ${i}: ${'detail '.repeat(30)}`).join('\n\n');
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), kind: 'error' as const, body };
  await createLinearActivities({ linear: rig.linear, transport: { max_body_chars: 400 } }).linearPostFinal(input);
  const session = rig.emulator.snapshot().sessions[0]!;
  expect(session.activities).toHaveLength(1);
  expect(session.activities[0]).toMatchObject({ id: input.activityId, type: 'error' });
  expect(String(session.activities[0]!.content.body).length).toBeLessThanOrEqual(400);
  expect(String(session.activities[0]!.content.body)).toMatch(/more characters trimmed/);
});

test('linearElicit asks with the select signal and the options; the session awaits input; a retry is refused and taken as posted', async () => {
  const hooks = await receiver();
  rig = await startRig({ webhookUrl: hooks.url });
  const input = { agentSessionId: rig.sessionId, activityId: randomUUID(), body: 'Which repository is this issue about?', options: ['acme/api', 'acme/web', 'acme/api'] };
  const acts = createLinearActivities({ linear: rig.linear });
  await acts.linearElicit(input);
  await createLinearActivities({ linear: rig.linear }).linearElicit(input);
  await rig.emulator.settled();
  const activity = rig.emulator.state.activities.get(input.activityId)!;
  expect(activity).toMatchObject({ content: { type: 'elicitation', body: input.body }, signal: 'select', signalMetadata: { options: [{ value: 'acme/api' }, { value: 'acme/web' }] } });
  expect(rig.emulator.snapshot().sessions[0]!.status).toBe('awaitingInput');
  expect((await creates()).map((r) => r.outcome)).toEqual(['ok', 'error']);
  expect(hooks.events.filter((e) => e.event === 'Comment').map((e) => e.body.data.body)).toEqual([input.body]);
  await expect(acts.linearElicit({ ...input, activityId: randomUUID(), options: ['  '] })).rejects.toThrow(/at least one option/);
});

test('two first turns creating agent:processed at once: the second finds the label instead of failing', async () => {
  rig = await startRig();
  const plugin = { auto_labels_enabled: true };
  const a = createLinearActivities({ linear: rig.linear, plugin });
  const b = createLinearActivities({ linear: rig.linear, plugin });
  const issue = await a.linearLoadIssue({ issueId: rig.issueId });
  // Both look-ups are answered only after both were asked: neither sees the other's label.
  rig.emulator.injectLatency({ ms: 300, count: 2, operations: ['issueLabels'] });
  rig.emulator.clearRequests();
  await Promise.all([a.linearRecordOutcome({ issue, outcome: 'processed' }), b.linearRecordOutcome({ issue, outcome: 'processed' })]);
  const log = await requestLog(rig.emulator);
  const labelCreates = log.filter((r) => r.rootFields.includes('issueLabelCreate'));
  expect(labelCreates.map((r) => r.outcome).sort()).toEqual(['error', 'ok']);
  expect(labelCreates.find((r) => r.outcome === 'error')!.errors!.join()).toMatch(/Duplicate label name/);
  const snap = rig.emulator.snapshot();
  expect(snap.labels.map((l) => l.name)).toEqual(['agent:processed']);
  expect(snap.issues[0]!.labels).toEqual(['agent:processed']);
});
