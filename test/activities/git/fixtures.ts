// Real repositories in a temp dir for the git activity tests: a bare "origin" with one commit on
// main, and (for path projects) a checkout whose remote is that origin.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { IssueContext } from '../../../src/workflows/types';

const ident = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

export const sh = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...ident } }).trim();

export function tempRoot(prefix = 'kai-git-'): string {
  return realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** A bare repository at `<root>/<name>.git` whose main holds README.md. */
export function makeOrigin(root: string, name = 'app'): string {
  const origin = path.join(root, `${name}.git`);
  const seed = path.join(root, `${name}-seed`);
  execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', origin]);
  execFileSync('git', ['init', '--quiet', '-b', 'main', seed]);
  // The content names the repository: two origins made within one second must not share a commit.
  writeFileSync(path.join(seed, 'README.md'), `# ${name}\n`);
  sh(seed, 'add', '.');
  sh(seed, 'commit', '--quiet', '-m', 'initial');
  sh(seed, 'push', '--quiet', origin, 'main');
  return origin;
}

/** A checkout of `origin` at `<root>/<name>` (a `path` project). */
export function makeCheckout(root: string, origin: string, name = 'app'): string {
  const repo = path.join(root, name);
  sh(root, 'clone', '--quiet', origin, repo);
  return repo;
}

export const issue = (over: Partial<IssueContext> = {}): IssueContext => ({
  id: 'issue-uuid-1',
  identifier: 'AV-1',
  title: 'Add JWT authentication',
  url: 'https://linear.app/acme/issue/AV-1/add-jwt-authentication',
  teamId: 't1',
  projectId: 'proj-1',
  labels: [],
  ...over,
});

/** What a failed call threw, for assertions on its type and message. */
export async function failureOf(p: Promise<unknown>): Promise<{ type?: string; nonRetryable?: boolean; message: string; nextRetryDelay?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as { type?: string; nonRetryable?: boolean; message: string; nextRetryDelay?: unknown };
  }
  throw new Error('expected the call to fail, and it succeeded');
}
