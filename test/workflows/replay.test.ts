// Recorded histories of the session workflow replay against the current code: a change that
// would break running sessions fails here (guard such changes with `patched()`).
// Record new fixtures with scripts/record-history.test.ts (see its header).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowBundle } from '../harness/temporal';

const dir = join(__dirname, '../fixtures/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

test('recorded session histories are present', () => {
  expect(files.length).toBeGreaterThan(0);
});

test.each(files)('recorded history %s replays against the current workflow code', async (file) => {
  const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  await expect(Worker.runReplayHistory({ workflowBundle: workflowBundle(), replayName: file }, history)).resolves.toBeUndefined();
});

// The harness must catch what it guards against: the same histories replayed against a
// workflow changed without patched() fail with a determinism error, and with patched() pass.
describe('a changed workflow', () => {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const bundle = (name: string): Promise<WorkflowBundle> =>
    bundleWorkflowCode({ workflowsPath: require.resolve(`./fixtures/${name}`), logger: quiet });
  const first = files.find((f) => f.endsWith('-run1.json'))!;
  const history = () => JSON.parse(readFileSync(join(dir, first), 'utf8'));

  test('unguarded by patched(), fails to replay a recorded history with a determinism error', async () => {
    const workflowBundle = await bundle('unguarded-change');
    await expect(Worker.runReplayHistory({ workflowBundle, replayName: `unguarded-${first}` }, history())).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  }, 120_000);

  test('guarded by patched(), replays the same history', async () => {
    const workflowBundle = await bundle('guarded-change');
    await expect(Worker.runReplayHistory({ workflowBundle, replayName: `guarded-${first}` }, history())).resolves.toBeUndefined();
  }, 120_000);
});
