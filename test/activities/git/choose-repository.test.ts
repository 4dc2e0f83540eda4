// Which repository an issue works in when its Linear project maps to none: the worktree step
// fails as NotConfigured offering the configured projects (the workflow asks the user), and the
// alias the user picked is honoured; a pick that is not a configured project is refused.
import { ApplicationFailure } from '@temporalio/common';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { createGitActivities } from '../../../src/activities/git/activities';
import { configSchema } from '../../../src/config/schema';
import { failureOf, issue, makeOrigin, tempRoot } from './fixtures';

let root: string;
beforeEach(() => {
  root = tempRoot('kai-choose-');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function acts(raw: Record<string, unknown>) {
  return createGitActivities({ config: configSchema.parse(raw), env: {}, dataDir: path.join(root, 'data') });
}

/** Two url projects (bare repositories whose README names them) and no project_map. */
function twoProjects(extra: Record<string, unknown> = {}) {
  const api = makeOrigin(root, 'api');
  const web = makeOrigin(root, 'web');
  return { projects: { api: { url: `file://${api}` }, web: { url: `file://${web}` } }, ...extra };
}

const details = (err: unknown) => (err instanceof ApplicationFailure ? err.details : undefined);

test('an issue whose project maps to no repository, with several configured, fails as NotConfigured offering the configured projects', async () => {
  const err = await failureOf(acts(twoProjects()).gitPrepareWorktree({ issue: issue(), title: issue().title }));
  expect(err).toMatchObject({ type: 'NotConfigured', nonRetryable: true });
  expect(err.message).toMatch(/No repository is mapped for AV-1 \(Linear project proj-1\)/);
  expect(details(err)).toEqual([{ projects: ['api', 'web'] }]);
});

test('the project the user picked is the repository the worktree comes from', async () => {
  const ws = await acts(twoProjects()).gitPrepareWorktree({ issue: issue(), title: issue().title, project: 'web' });
  expect(ws.repoPath).toBe(path.join(root, 'data', 'repos', 'web.git'));
  expect(ws.branch).toBe('kai/AV-1');
  expect(ws.worktreePath).toBe(path.join(root, 'data', 'worktrees', 'web', 'kai', 'AV-1'));
  expect(readFileSync(path.join(ws.worktreePath, 'README.md'), 'utf8')).toBe('# web\n'); // the web origin's own content
  expect(existsSync(path.join(root, 'data', 'repos', 'api.git'))).toBe(false); // api was never touched
});

test('a pick also wins over a project_map entry', async () => {
  const ws = await acts(twoProjects({ plugins: { linear: { project_map: { 'proj-1': 'api' } } } })).gitPrepareWorktree({
    issue: issue(),
    title: issue().title,
    project: 'web',
  });
  expect(ws.repoPath).toBe(path.join(root, 'data', 'repos', 'web.git'));
});

test('a pick that is not a configured project is refused as NotConfigured, offering the configured ones; a path is no pick', async () => {
  const a = acts(twoProjects());
  for (const project of ['mobile', root, '~/x', 'constructor']) {
    const err = await failureOf(a.gitPrepareWorktree({ issue: issue(), title: issue().title, project }));
    expect(err).toMatchObject({ type: 'NotConfigured', nonRetryable: true });
    expect(err.message).toContain(`The repository "${project}" chosen for AV-1 is not configured (the configured projects are api, web)`);
    expect(details(err)).toEqual([{ projects: ['api', 'web'] }]);
  }
});

test('a project_map entry naming a missing project is a configuration error, not a question', async () => {
  const err = await failureOf(acts(twoProjects({ plugins: { linear: { project_map: { 'proj-1': 'mobile' } } } })).gitPrepareWorktree({ issue: issue(), title: issue().title }));
  expect(err).toMatchObject({ type: 'NotConfigured', nonRetryable: true });
  expect(err.message).toContain('sends AV-1 (Linear project proj-1) to "mobile", which is not configured: add [projects.mobile]');
  expect(details(err) ?? []).toEqual([]);
});

test('with no project configured there is nothing to ask: NotConfigured without choices', async () => {
  const err = await failureOf(acts({}).gitPrepareWorktree({ issue: issue(), title: issue().title }));
  expect(err).toMatchObject({ type: 'NotConfigured', nonRetryable: true });
  expect(err.message).toContain('no [projects.<alias>] is configured');
  expect(details(err) ?? []).toEqual([]);
});
