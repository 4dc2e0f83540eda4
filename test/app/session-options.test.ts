// What a session workflow starts with comes from kai.toml: each key reaches its option.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionOptionsFromConfig } from '../../src/app/session-options';
import { ConfigError, readConfig } from '../../src/config';
import { DEFAULT_SESSION_OPTIONS } from '../../src/workflows/options';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kai-options-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const path = join(dir, 'kai.toml');
  writeFileSync(path, text);
  return readConfig({ path, env: {}, cwd: dir }).config;
}

function problems(text: string): string[] {
  try {
    load(text);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

test('comment grace, keep-alive and whether an assignment counts as given come from [limits] and [linear], in seconds', () => {
  const options = sessionOptionsFromConfig(load('[limits]\ncomment_grace_s = 2.5\nkeep_alive_s = 600\n[linear]\nassignee_holds = false\n'));
  expect(options).toMatchObject({ commentGraceMs: 2500, keepAliveMs: 600_000, assigneeHolds: false });
});

test('without the keys the options are the workflow defaults', () => {
  const options = sessionOptionsFromConfig(load(''));
  expect({ commentGraceMs: options.commentGraceMs, keepAliveMs: options.keepAliveMs, assigneeHolds: options.assigneeHolds }).toEqual({
    commentGraceMs: DEFAULT_SESSION_OPTIONS.commentGraceMs,
    keepAliveMs: DEFAULT_SESSION_OPTIONS.keepAliveMs,
    assigneeHolds: DEFAULT_SESSION_OPTIONS.assigneeHolds,
  });
});

test.each([
  ['[limits]\ncomment_grace_s = 0', 'limits.comment_grace_s: expected a number greater than 0, found the integer 0.'],
  ['[limits]\ncomment_grace_s = 600', 'limits.comment_grace_s: expected a number at most 300, found the integer 600.'],
  ['[limits]\nkeep_alive_s = 1800', 'limits.keep_alive_s: expected a number at most 1500, found the integer 1800.'],
  ['[limits]\nkeep_alive_s = 1', 'limits.keep_alive_s: expected a number at least 10, found the integer 1.'],
  ['[linear]\nassignee_holds = "no"', 'linear.assignee_holds: expected a boolean (true or false), found the string "no".'],
])('%s is refused with what was expected', (toml, message) => {
  expect(problems(toml)).toEqual([message]);
});
