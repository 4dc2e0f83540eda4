// kai asks which repository when none is mapped for an issue, end to end: Linear emulator
// webhooks, the real workflow and activities, two local repositories with bare origins. The
// answer picks the repository, and a later workflow for the same issue works there without asking.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDemoRepository } from '../../src/app/stack';
import { issueWorkflowId } from '../../src/names';
import { temporalAddress, waitFor } from '../harness/temporal';
import { tempRoot } from '../activities/git/fixtures';
import { sessionView, startFaultStack } from '../faults/helpers';

jest.setTimeout(120_000);

let stack: Awaited<ReturnType<typeof startFaultStack>>;
let webRoot: string;
let web: { repoPath: string; originPath: string };

beforeAll(async () => {
  webRoot = tempRoot('kai-web-');
  web = makeDemoRepository(webRoot);
  // Besides the stack's own "demo" project (mapped to the seeded Linear project), a "web"
  // project: an issue outside that Linear project maps to neither, and two could serve.
  stack = await startFaultStack({
    temporalAddress: temporalAddress(),
    idleS: 4,
    adjust: (config) => ({ ...config, projects: { ...config.projects, web: { path: web.repoPath } } }),
  });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(webRoot, { recursive: true, force: true });
});

const branchOn = (origin: string, branch: string): string =>
  execFileSync('git', ['for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`], { cwd: origin, encoding: 'utf8' }).trim();
const commitsOn = (origin: string, branch: string): number =>
  Number(execFileSync('git', ['rev-list', '--count', `main..${branch}`], { cwd: origin, encoding: 'utf8' }).trim());

test('with no repository mapped, kai asks which one; the answer picks it, and a later workflow for the issue works there without asking', async () => {
  const { linear, workspace } = stack.world;
  const store = linear.state;
  const issue = store.addIssue({
    teamId: workspace.team.id,
    title: 'Greet the web visitors',
    description: 'The README should greet people.',
    stateType: 'backlog',
    creatorId: workspace.user.id,
    delegateId: store.appUser.id,
  }); // in no Linear project
  const handle = stack.client.workflow.getHandle(issueWorkflowId(issue.id));
  const branch = `kai/${issue.identifier}`;

  // 1. Delegation: kai asks, with the configured projects as options, and waits for the answer.
  const first = (await linear.startSession({ issueId: issue.id, send: true })).session;
  await waitFor('the question', () => store.sessionStatus(first.id) === 'awaitingInput', 30_000);
  const asked = store.visibleActivities(first.id).filter((a) => a.content.type === 'elicitation');
  expect(asked).toHaveLength(1);
  expect(asked[0]).toMatchObject({ signal: 'select', signalMetadata: { options: expect.arrayContaining([{ value: 'demo' }, { value: 'web' }]) } });
  expect(sessionView(stack.world, first.id).errors).toEqual([]);

  // 2. The user picks "web": the request that asked runs there, and the pick is kept on the issue.
  await linear.prompt(first.id, 'web');
  await handle.result();
  const firstRun = (await handle.describe()).runId;
  expect(sessionView(stack.world, first.id).responses).toHaveLength(1);
  expect(branchOn(web.originPath, branch)).not.toBe('');
  expect(branchOn(stack.world.originPath, branch)).toBe('');
  expect(commitsOn(web.originPath, branch)).toBe(1);
  const records = [...store.attachments.values()].filter((a) => a.issueId === issue.id && a.metadata.kaiRepository);
  expect(records.map((a) => a.metadata.kaiRepository)).toEqual(['web']);

  // 3. The workflow has ended; a new session on the issue starts a new one, which reads the pick
  //    back from Linear: no question, and its work lands on the same branch of "web".
  const second = (await linear.startSession({ issueId: issue.id, send: true })).session;
  expect((await handle.describe()).runId).not.toBe(firstRun);
  await handle.result();
  const view = sessionView(stack.world, second.id);
  expect(view.all.filter((a) => a.type === 'elicitation')).toEqual([]);
  expect(view.errors).toEqual([]);
  expect(view.responses).toHaveLength(1);
  expect(commitsOn(web.originPath, branch)).toBe(2);
  expect(branchOn(stack.world.originPath, branch)).toBe('');
  expect([...store.attachments.values()].filter((a) => a.issueId === issue.id && a.metadata.kaiRepository)).toHaveLength(1);
});
