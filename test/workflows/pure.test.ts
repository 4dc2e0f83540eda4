// The workflow's pure helpers: commands, the lifecycle plan and the texts posted to Linear.
import { parseCommand } from '../../src/workflows/commands';
import { errorText, finalText, lateStopText, stoppedText } from '../../src/workflows/messages';
import { LIFECYCLE_STEPS, lifecyclePlan } from '../../src/workflows/plan';

describe('parseCommand', () => {
  test.each([
    ['stop', { kind: 'stop' }],
    [' /Cancel ', { kind: 'stop' }],
    ['/reset', { kind: 'reset' }],
    ['/new', { kind: 'reset' }],
    ['?', { kind: 'help' }],
    ['/file put src/a.ts', { kind: 'file', op: 'put', path: 'src/a.ts' }],
    ['/FILE GET', { kind: 'file', op: 'get', path: '' }],
  ])('%j is a command', (body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });

  test.each(['please stop doing that', '/files put x', 'help me with this', ''])('%j is an ordinary prompt', (body) => {
    expect(parseCommand(body)).toBeUndefined();
  });
});

describe('lifecyclePlan', () => {
  test('steps before the current one are done, the current one runs, the rest wait', () => {
    expect(lifecyclePlan('Do the work').map((p) => p.status)).toEqual(['completed', 'completed', 'inProgress', 'pending', 'pending']);
  });

  test('no current step means all done; canceledFrom cancels that step and those after it', () => {
    expect(lifecyclePlan(undefined).every((p) => p.status === 'completed')).toBe(true);
    expect(lifecyclePlan('Do the work', 'Do the work').map((p) => p.status)).toEqual(['completed', 'completed', 'canceled', 'canceled', 'canceled']);
    expect(lifecyclePlan().map((p) => p.content)).toEqual([...LIFECYCLE_STEPS]);
  });
});

describe('messages', () => {
  const pr = { url: 'https://github.com/acme/app/pull/3', number: 3, title: 'ENG-1: x', created: false };

  test('the final text names the pull request, or says nothing changed', () => {
    expect(finalText('Done it', { changed: true, pullRequest: pr })).toBe(`Done it\n\nUpdated pull request: [ENG-1: x](${pr.url})`);
    expect(finalText('  ', { changed: false })).toBe('Done.\n\nNo files changed, so no pull request was opened.');
  });

  test('the stopped text says what the working tree keeps', () => {
    expect(stoppedText({ uncommittedFiles: 2, unpushedCommits: 1 }, '', 'kai/ENG-1')).toMatch(/keeps 2 uncommitted file\(s\) and 1 unpushed commit/);
    expect(stoppedText(undefined, '1 queued message was dropped.')).toMatch(/No changes were made.*1 queued message was dropped/);
  });

  test('a late stop says whether publishing completed', () => {
    expect(lateStopText('')).toMatch(/already finished/);
    expect(lateStopText('', { at: 'publishing', published: true, pullRequestUrl: pr.url })).toMatch(/publishing was completed.*pull\/3/);
    expect(lateStopText('', { at: 'publishing', published: false })).toMatch(/did not complete/);
  });

  test('the error text names the failed step', () => {
    expect(errorText('commit and push', 'rejected')).toMatch(/^kai could not finish this run: commit and push failed: rejected/);
  });
});
