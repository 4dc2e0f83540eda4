// The dispatcher without a server: an inbox status change that does not carry the new status is
// looked up, and stops the run only at a canceled or completed status; redeliveries of one
// signed event are dropped in-process, failures are not remembered.
import { IngressDispatcher } from '../../src/ingress/dispatch';
import { parseLinearPayload } from '../../src/ingress/payloads';
import { routeLinearEvent } from '../../src/ingress/route';
import { createKaiMetrics } from '../../src/observability/metrics';
import { APP_USER, appUserNotification, issue } from '../fixtures/webhooks/linear-payloads';
import { RecordingSink, silentLogger } from '../webhook/helpers';

function decide(body: unknown) {
  const parsed = parseLinearPayload(JSON.parse(JSON.stringify(body)));
  if (!parsed.ok) throw new Error(parsed.error);
  return routeLinearEvent(parsed.event, { receivedAt: new Date().toISOString(), appUserId: APP_USER.id, commentFollowupsEnabled: true });
}

test('issueStatusChanged without the status: looked up, stops only at a terminal status', async () => {
  const states = new Map<string, string>();
  const sink = new RecordingSink();
  const d = new IngressDispatcher({ sessions: sink, logger: silentLogger(), metrics: createKaiMetrics(), issueState: async (id) => states.get(id) });
  const done = issue();
  const started = issue();
  const unknown = issue();
  for (const i of [done, started, unknown]) sink.running.add(i.id);
  states.set(done.id, 'completed').set(started.id, 'started');
  expect((await d.dispatch(decide(appUserNotification(done, 'issueStatusChanged')))).outcome).toBe('signalled');
  expect((await d.dispatch(decide(appUserNotification(started, 'issueStatusChanged')))).outcome).toBe('ignored');
  expect((await d.dispatch(decide(appUserNotification(unknown, 'issueStatusChanged')))).outcome).toBe('ignored');
  expect(sink.sent.map((s) => [s.type, s.issueId, s.ifRunning])).toEqual([['stop', done.id, true]]);
});

test('the same signed event twice is sent once; a failed send is tried again', async () => {
  const sink = new RecordingSink();
  const d = new IngressDispatcher({ sessions: sink, logger: silentLogger(), metrics: createKaiMetrics() });
  const i = issue();
  sink.running.add(i.id);
  const body = appUserNotification(i, 'issueUnassignedFromYou');
  sink.failWith = new Error('Temporal is down');
  await expect(d.dispatch(decide(body))).rejects.toThrow('Temporal is down');
  sink.failWith = undefined;
  expect((await d.dispatch(decide({ ...body, webhookTimestamp: Date.now() + 1 }))).outcome).toBe('signalled');
  expect((await d.dispatch(decide(body))).outcome).toBe('duplicate');
  expect(sink.sent).toHaveLength(1);
});
