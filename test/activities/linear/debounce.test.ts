// The progress sink's debounce, on a clock the test moves: a quiet moment fires it, a steady
// stream fires it at the cap, and close-time flushes fire or drop it at once.
import { Debounce } from '../../../src/activities/linear/debounce';
import { ManualClock } from '../../harness/clock';

function rig(waitMs: number, maxWaitMs: number) {
  const clock = new ManualClock();
  const fired: number[] = [];
  const debounce = new Debounce(clock, waitMs, maxWaitMs, () => fired.push(clock.now()));
  return { clock, fired, debounce };
}

test('fires the wait after the last poke, once', async () => {
  const { clock, fired, debounce } = rig(200, 2000);
  debounce.poke();
  await clock.advance(150);
  debounce.poke();
  await clock.advance(199);
  expect(fired).toEqual([]);
  await clock.advance(1);
  expect(fired).toEqual([350]);
  await clock.advance(5000);
  expect(fired).toEqual([350]);
  expect(clock.pending).toBe(0);
});

test('a steady stream of pokes fires no later than the cap after the first, then starts a new window', async () => {
  const { clock, fired, debounce } = rig(200, 1000);
  for (let t = 0; t < 1500; t += 100) {
    debounce.poke();
    await clock.advance(100);
  }
  expect(fired).toEqual([1000]);
  await clock.advance(200);
  expect(fired).toEqual([1000, 1600]);
});

test('now() fires at once and forgets the window; cancel() drops what was pending', async () => {
  const { clock, fired, debounce } = rig(200, 1000);
  debounce.poke();
  await clock.advance(50);
  debounce.now();
  expect(fired).toEqual([50]);
  expect(clock.pending).toBe(0);
  debounce.poke();
  debounce.cancel();
  await clock.advance(1000);
  expect(fired).toEqual([50]);
});
