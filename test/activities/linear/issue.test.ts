// Issue state transitions, the PR link and the opt-in extras (labels, sub-issues, estimates),
// against the emulator's standard workspace (Triage, Backlog, Todo, In Progress, In Review,
// Done, Canceled).
import { createLinearActivities } from '../../../src/activities/linear';
import type { LinearOutcomeConfig } from '../../../src/activities/linear';
import { requestLog, startRig, type Rig } from './helpers';

let rig: Rig;
afterEach(async () => {
  await rig?.emulator.stop();
});

const stateOf = () => rig.emulator.snapshot().issues.find((i) => i.id === rig.issueId)!.state.name;
const setState = (name: string) => {
  const issue = rig.emulator.state.issues.get(rig.issueId)!;
  issue.stateId = rig.emulator.state.teamStates(issue.teamId).find((s) => s.name === name)!.id;
};

describe('moving to started', () => {
  test.each(['Triage', 'Backlog', 'Todo'])('moves a %s issue to the first started state by position', async (from) => {
    rig = await startRig();
    setState(from);
    const acts = createLinearActivities({ linear: rig.linear });
    await expect(acts.linearTransitionIssue({ issueId: rig.issueId, to: 'started' })).resolves.toEqual({ changed: true, from, to: 'In Progress' });
    expect(stateOf()).toBe('In Progress');
  });

  test.each(['In Review', 'Done', 'Canceled'])('leaves an issue already in %s alone', async (from) => {
    rig = await startRig();
    setState(from);
    const acts = createLinearActivities({ linear: rig.linear });
    await expect(acts.linearTransitionIssue({ issueId: rig.issueId, to: 'started' })).resolves.toEqual({ changed: false, from });
    expect(stateOf()).toBe(from);
    expect((await requestLog(rig.emulator)).filter((r) => r.rootFields.includes('issueUpdate'))).toHaveLength(0);
  });
});

describe('moving to success', () => {
  test('goes to the first completed state when nothing is configured', async () => {
    rig = await startRig();
    setState('In Progress');
    const acts = createLinearActivities({ linear: rig.linear });
    await expect(acts.linearTransitionIssue({ issueId: rig.issueId, to: 'success' })).resolves.toMatchObject({ changed: true, to: 'Done' });
    expect(stateOf()).toBe('Done');
  });

  test('goes to success_state_name, matched case-insensitively', async () => {
    rig = await startRig();
    setState('In Progress');
    const acts = createLinearActivities({ linear: rig.linear, plugin: { success_state_name: 'in review' } });
    await acts.linearTransitionIssue({ issueId: rig.issueId, to: 'success' });
    expect(stateOf()).toBe('In Review');
  });

  test('takes the first of success_state_names that exists', async () => {
    rig = await startRig();
    setState('In Progress');
    const acts = createLinearActivities({ linear: rig.linear, plugin: { success_state_names: ['Ready for Review', 'IN REVIEW', 'Done'] } });
    await acts.linearTransitionIssue({ issueId: rig.issueId, to: 'success' });
    expect(stateOf()).toBe('In Review');
  });

  test('falls back to the first completed state when no configured name exists', async () => {
    rig = await startRig();
    setState('In Progress');
    const acts = createLinearActivities({ linear: rig.linear, plugin: { success_state_name: 'Shipped' } });
    await acts.linearTransitionIssue({ issueId: rig.issueId, to: 'success' });
    expect(stateOf()).toBe('Done');
  });

  test('leaves an issue someone canceled meanwhile alone', async () => {
    rig = await startRig();
    const acts = createLinearActivities({ linear: rig.linear });
    await acts.linearLoadIssue({ issueId: rig.issueId });
    setState('Canceled'); // after kai read it: the success move must read it afresh
    await expect(acts.linearTransitionIssue({ issueId: rig.issueId, to: 'success' })).resolves.toEqual({ changed: false, from: 'Canceled' });
    expect(stateOf()).toBe('Canceled');
  });
});

test('links the PR with attachmentLinkGitHubPR, once however often it is linked', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  const input = { issueId: rig.issueId, agentSessionId: rig.sessionId, url: 'https://github.com/acme/app/pull/12', title: 'Fix it' };
  await acts.linearLinkPullRequest(input);
  await acts.linearLinkPullRequest(input);
  const issue = rig.emulator.snapshot().issues.find((i) => i.id === rig.issueId)!;
  expect(issue.attachments).toEqual([expect.objectContaining({ url: input.url, title: 'Fix it', sourceType: 'github' })]);
});

test('falls back to a plain attachment when Linear refuses the GitHub PR link', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  await acts.linearLinkPullRequest({ issueId: rig.issueId, agentSessionId: rig.sessionId, url: 'https://git.example.com/acme/app/merge/3', title: 'Fix it' });
  const issue = rig.emulator.snapshot().issues.find((i) => i.id === rig.issueId)!;
  expect(issue.attachments).toEqual([expect.objectContaining({ url: 'https://git.example.com/acme/app/merge/3', title: 'Fix it' })]);
});

describe('opt-in outcome extras', () => {
  const DESCRIPTION = ['Do these:', '', '- [ ] Add the greeting', '- [x] Read the README', '- [ ] Update the changelog', '* [ ] Tell the team', '', '```', '- [ ] not a task', '```'].join('\n');
  const all: Partial<LinearOutcomeConfig> = {
    auto_labels_enabled: true,
    auto_labels: { processed: 'agent:processed', completed: 'agent:completed', failed: 'agent:failed' },
    subissues_enabled: true,
    subissues_max: 2,
    estimate_updates_enabled: true,
  };

  async function setup(plugin: Partial<LinearOutcomeConfig>) {
    rig = await startRig({ seed: { issueDescription: DESCRIPTION } });
    const acts = createLinearActivities({ linear: rig.linear, plugin });
    const issue = await acts.linearLoadIssue({ issueId: rig.issueId });
    return { acts, issue };
  }

  test('all disabled: the issue is untouched and no request is made', async () => {
    const { acts, issue } = await setup({});
    rig.emulator.clearRequests();
    for (const outcome of ['processed', 'completed', 'failed'] as const) await acts.linearRecordOutcome({ issue, outcome });
    expect(await requestLog(rig.emulator)).toHaveLength(0);
    const snap = rig.emulator.snapshot();
    expect(snap.issues).toHaveLength(1);
    expect(snap.issues[0]).toMatchObject({ labels: [], estimate: undefined });
    expect(snap.labels).toHaveLength(0);
  });

  test('auto labels are created when missing and swapped as the outcome changes', async () => {
    const { acts, issue } = await setup({ auto_labels_enabled: true });
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    await acts.linearRecordOutcome({ issue, outcome: 'failed' });
    const reloaded = await acts.linearLoadIssue({ issueId: rig.issueId });
    expect(reloaded.labels.sort()).toEqual(['agent:failed', 'agent:processed']);
    await acts.linearRecordOutcome({ issue: reloaded, outcome: 'completed' });
    const snap = rig.emulator.snapshot();
    expect(snap.issues[0]!.labels.sort()).toEqual(['agent:completed', 'agent:processed']);
    expect(snap.labels.map((l) => l.name).sort()).toEqual(['agent:completed', 'agent:failed', 'agent:processed']);
  });

  test('an existing workspace label is reused, not duplicated', async () => {
    const { acts, issue } = await setup({ auto_labels_enabled: true });
    rig.emulator.state.addLabel({ name: 'Agent:Processed' });
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    const snap = rig.emulator.snapshot();
    expect(snap.labels).toHaveLength(1);
    expect(snap.issues[0]!.labels).toEqual(['Agent:Processed']);
  });

  test('sub-issues come from open checklist items, capped by subissues_max, and are not created twice', async () => {
    const { acts, issue } = await setup({ subissues_enabled: true, subissues_max: 2 });
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    const children = rig.emulator.snapshot().issues.filter((i) => i.parentId === rig.issueId);
    expect(children.map((c) => c.title)).toEqual(['Add the greeting', 'Update the changelog']);
    expect(children.every((c) => c.teamKey === 'ENG' && c.projectId === rig.emulator.workspace!.project.id)).toBe(true);
  });

  test('the estimate is set from the checklist only when the issue has none', async () => {
    const { acts, issue } = await setup({ estimate_updates_enabled: true });
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    expect(rig.emulator.snapshot().issues[0]!.estimate).toBe(2); // three open items
    rig.emulator.state.issues.get(rig.issueId)!.estimate = 8;
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    expect(rig.emulator.snapshot().issues[0]!.estimate).toBe(8);
  });

  test('all enabled together on the processed outcome', async () => {
    const { acts, issue } = await setup(all);
    await acts.linearRecordOutcome({ issue, outcome: 'processed' });
    const snap = rig.emulator.snapshot();
    const parent = snap.issues.find((i) => i.id === rig.issueId)!;
    expect(parent.labels).toEqual(['agent:processed']);
    expect(parent.estimate).toBe(2);
    expect(snap.issues.filter((i) => i.parentId === rig.issueId)).toHaveLength(2);
  });
});

test('the loaded issue says whether kai is its delegate or assignee, read in the same request as the issue', async () => {
  rig = await startRig();
  const acts = createLinearActivities({ linear: rig.linear });
  const appUserId = rig.emulator.state.appUser.id;
  await expect(acts.linearLoadIssue({ issueId: rig.issueId })).resolves.toMatchObject({ delegateId: appUserId, kaiIsDelegate: true, kaiIsAssignee: false });
  const issue = rig.emulator.state.issues.get(rig.issueId)!;
  issue.delegateId = undefined;
  const loaded = await acts.linearLoadIssue({ issueId: rig.issueId });
  expect(loaded).toMatchObject({ kaiIsDelegate: false, kaiIsAssignee: false });
  expect(loaded.delegateId).toBeUndefined();
  const reads = (await requestLog(rig.emulator)).filter((r) => r.rootFields.includes('issue'));
  expect(reads).toHaveLength(2);
  expect(reads.every((r) => r.rootFields.includes('viewer'))).toBe(true);
});

describe('the repository a user chose', () => {
  test('is recorded on the issue as one attachment, replaced by a later choice, and read back with the issue by a fresh worker', async () => {
    rig = await startRig();
    const acts = createLinearActivities({ linear: rig.linear });
    const before = await acts.linearLoadIssue({ issueId: rig.issueId });
    expect(before.repository).toBeUndefined();
    const issueUrl = before.url;

    await acts.linearRecordRepository({ issueId: rig.issueId, issueUrl, project: 'web' });
    await acts.linearRecordRepository({ issueId: rig.issueId, issueUrl, project: 'web' }); // a retry
    // another worker, no memory of the first: the choice comes from Linear
    const fresh = createLinearActivities({ linear: rig.linear });
    expect((await fresh.linearLoadIssue({ issueId: rig.issueId })).repository).toBe('web');

    await fresh.linearRecordRepository({ issueId: rig.issueId, issueUrl, project: 'api' });
    expect((await acts.linearLoadIssue({ issueId: rig.issueId })).repository).toBe('api');
    const attachments = [...rig.emulator.state.attachments.values()].filter((a) => a.issueId === rig.issueId);
    expect(attachments).toHaveLength(1);
    expect(attachments[0]).toMatchObject({ title: 'Repository: api', url: `${issueUrl}#kai-repository`, metadata: { kaiRepository: 'api' } });
  });

  test('another attachment carrying the key under a different URL is not taken for the record', async () => {
    rig = await startRig();
    rig.emulator.state.createAttachment({ issueId: rig.issueId, title: 'Other', url: 'https://example.com/x', metadata: { kaiRepository: 'evil' } });
    const acts = createLinearActivities({ linear: rig.linear });
    expect((await acts.linearLoadIssue({ issueId: rig.issueId })).repository).toBeUndefined();
  });
});
