// Recorded histories of the session workflow replay against the current code: a change that
// would break running sessions fails here (guard such changes with `patched()`).
// Record new fixtures with scripts/record-history.test.ts (see its header).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
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
