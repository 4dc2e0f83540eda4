// The progress coalescer (pure): which engine events become a live, ephemeral activity, which
// a lasting record, and when the plan is worth sending again.
import { ProgressCoalescer } from '../../../src/activities/linear/coalescer';

const started = (id: string, title: string) => ({ type: 'action' as const, id, kind: 'command', title, phase: 'started' as const });
const done = (id: string, title: string, ok = true) => ({ type: 'action' as const, id, kind: 'command', title, phase: 'completed' as const, ok });

test('a thought asks for a live and a record flush; a blank one for nothing', () => {
  const c = new ProgressCoalescer(1000);
  expect(c.add({ type: 'thought', text: '  ' })).toEqual({ live: false, record: false, plan: false });
  expect(c.add({ type: 'thought', text: 'Reading the code' })).toEqual({ live: true, record: true, plan: false });
  expect(c.add(started('a', 'npm test'))).toEqual({ live: true, record: false, plan: false });
  expect(c.add(done('a', 'npm test'))).toEqual({ live: true, record: true, plan: false });
  expect(c.add({ type: 'started' })).toEqual({ live: false, record: false, plan: false });
});

test('the live activity is whatever came last, the thought or the running action, and is not repeated', () => {
  const c = new ProgressCoalescer(1000);
  c.add({ type: 'thought', text: 'Reading the code' });
  expect(c.takeLive()).toEqual([{ content: { type: 'thought', body: 'Reading the code' }, ephemeral: true }]);
  expect(c.takeLive()).toEqual([]);
  c.add(started('a', 'npm test'));
  expect(c.takeLive()).toEqual([{ content: { type: 'action', action: 'npm test', parameter: 'command' }, ephemeral: true }]);
  c.add({ type: 'thought', text: 'Tests are slow' });
  expect(c.takeLive()).toEqual([{ content: { type: 'thought', body: 'Tests are slow' }, ephemeral: true }]);
});

test('the record joins the thoughts and names the one finished action with its result', () => {
  const c = new ProgressCoalescer(1000);
  c.add({ type: 'thought', text: 'First' });
  c.add({ type: 'thought', text: 'Second' });
  c.add(started('a', 'make'));
  c.add(done('a', 'make', false));
  expect(c.takeRecord()).toEqual([
    { content: { type: 'thought', body: 'First\n\nSecond' }, ephemeral: false },
    { content: { type: 'action', action: 'make', parameter: 'command', result: 'failed' }, ephemeral: false },
  ]);
  expect(c.takeRecord()).toEqual([]);
  // The record replaced the live activity in Linear: nothing is left to show live.
  expect(c.takeLive()).toEqual([]);
});

test('several finished actions are summarised as one, listing at most 20 and counting failures', () => {
  const c = new ProgressCoalescer(10_000);
  for (let i = 0; i < 23; i++) c.add(done(`a${i}`, `step ${i}`, i !== 3));
  const [record] = c.takeRecord();
  expect(record!.content).toMatchObject({ type: 'action', action: 'Ran 23 steps', result: '22 succeeded, 1 failed' });
  const lines = (record!.content as { parameter: string }).parameter.split('\n');
  expect(lines).toHaveLength(21);
  expect(lines[3]).toBe('✗ step 3');
  expect(lines[20]).toBe('… and 3 more');
});

test('long text is clipped to the body limit', () => {
  const c = new ProgressCoalescer(10);
  c.add({ type: 'thought', text: 'x'.repeat(50) });
  expect(c.takeLive()).toEqual([{ content: { type: 'thought', body: `${'x'.repeat(9)}…` }, ephemeral: true }]);
});

test('the plan is taken once per change; the same list again is not sent', () => {
  const c = new ProgressCoalescer(1000);
  const items = [{ content: 'Step A', status: 'inProgress' as const }];
  expect(c.add({ type: 'plan', items })).toEqual({ live: false, record: false, plan: true });
  expect(c.takePlan()).toEqual(items);
  expect(c.takePlan()).toBeUndefined();
  c.add({ type: 'plan', items: [...items] });
  expect(c.takePlan()).toBeUndefined();
  c.add({ type: 'plan', items: [{ content: 'Step A', status: 'completed' }] });
  expect(c.takePlan()).toEqual([{ content: 'Step A', status: 'completed' }]);
});
