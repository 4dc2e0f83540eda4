// The pure parts of workspace affinity: the names of a worker's own queues, the worker name's
// validation, the failure that says a holder is gone, and the line the user gets when a turn moves.
import { ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { defaultConfig } from '../../src/config/schema';
import { configSchema } from '../../src/config/schema';
import { workerTaskQueue } from '../../src/names';
import { temporalSettings } from '../../src/temporal/connect';
import { movedText } from '../../src/workflows/messages';
import { Session } from '../../src/workflows/session-entity';
import { holderLost } from '../../src/workflows/turn';

test('a worker\'s own queues read as the shared queue, then the worker', () => {
  expect(workerTaskQueue('kai', 'kai-worker-0')).toBe('kai.worker.kai-worker-0');
  expect(workerTaskQueue('kai-engine', 'kai-worker-0')).toBe('kai-engine.worker.kai-worker-0');
});

test('the worker name comes from KAI_WORKER_NAME, else [temporal] worker_name, and a bad one is refused with what to write', () => {
  const config = configSchema.parse({ temporal: { worker_name: 'from-file' } });
  expect(temporalSettings(config, {}).workerName).toBe('from-file');
  expect(temporalSettings(config, { KAI_WORKER_NAME: 'kai-worker-1' }).workerName).toBe('kai-worker-1');
  expect(temporalSettings(defaultConfig(), {}).workerName).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  expect(() => temporalSettings(config, { KAI_WORKER_NAME: 'a b/c' })).toThrow(/KAI_WORKER_NAME "a b\/c" must be 1-100 letters/);
  expect(configSchema.safeParse({ temporal: { worker_name: '../x' } }).success).toBe(false);
});

test('only a schedule-to-start timeout, however deeply wrapped, says the holder is gone', () => {
  const wrapped = (cause: Error) => Object.assign(new Error('activity failed'), { cause });
  expect(holderLost(wrapped(new TimeoutFailure('not started', undefined, 'SCHEDULE_TO_START')))).toBe(true);
  expect(holderLost(wrapped(new TimeoutFailure('too slow', undefined, 'START_TO_CLOSE')))).toBe(false);
  expect(holderLost(wrapped(new TimeoutFailure('no beat', undefined, 'HEARTBEAT')))).toBe(false);
  expect(holderLost(ApplicationFailure.nonRetryable('engine failed'))).toBe(false);
});

test('the one line after a move names both workers and what became of the conversation', () => {
  expect(movedText('pod-0', 'pod-1', 'resumed')).toBe(
    'The worker that held this issue (pod-0) did not answer, so worker pod-1 checked the branch out again from the remote and resumed the engine conversation.',
  );
  expect(movedText('pod-0', 'pod-1', 'recap')).toContain('from a recap of the earlier turns');
  expect(movedText('pod-0', undefined, 'new')).toContain('so another worker checked the branch out again from the remote and carried on');
});

test('forgetting the holder forgets its worktree too, and the status names the holder', () => {
  const holder = { worker: 'pod-0', taskQueue: 'kai.worker.pod-0', engineTaskQueue: 'kai-engine.worker.pod-0' };
  const session = new Session('issue-1', undefined, { patched: () => true, warn: () => undefined });
  session.state.workspace = { repoPath: '/r', worktreePath: '/r/w', branch: 'kai/ENG-1', holder };
  session.state.holder = holder;
  expect(session.status().holder).toBe('pod-0');
  expect(session.snapshot().holder).toEqual(holder); // carried across continue-as-new
  expect(session.forgetHolder()).toEqual(holder);
  expect(session.state.workspace).toBeUndefined();
  expect(session.status().holder).toBeUndefined();
});
