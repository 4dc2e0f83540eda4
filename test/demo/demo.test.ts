// `kai demo --json` against the test dev server: one whole offline session, read back as the
// JSON object the README documents, with every step of the lifecycle present exactly once.
import { runDemo } from '../../src/cli/demo';
import { defaultConfig } from '../../src/config/schema';
import { temporalAddress, workflowBundle } from '../harness/temporal';

jest.setTimeout(90_000);

test('kai demo --json: acknowledged, one final response per prompt, the help reply, states moved, one PR opened and linked', async () => {
  let stdout = '';
  let stderr = '';
  // The test server runs headless: say where its Web UI would be, so the session links the run.
  const base = defaultConfig();
  const code = await runDemo({
    config: { ...base, temporal: { ...base.temporal, web_ui_url: 'http://127.0.0.1:8233' } },
    json: true,
    keep: false,
    temporalAddress: temporalAddress(),
    workflowBundle: workflowBundle(),
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
  });
  const report = JSON.parse(stdout); // exactly one JSON object on stdout
  if (code !== 0) throw new Error(`demo failed: ${report.missing?.join('; ')}\n${stderr}`);
  expect(report.ok).toBe(true);
  expect(Object.keys(report)).toEqual(
    expect.arrayContaining(['ok', 'issue', 'activities', 'plan', 'externalUrls', 'stateTransitions', 'pullRequest', 'ackLatencyMs', 'linearRequests', 'historyEvents', 'workflowId', 'webUiUrl']),
  );

  type A = { type: string; ephemeral: boolean; body: string };
  const activities: A[] = report.activities;
  const prompts = activities.filter((a) => a.type === 'prompt');
  const responses = activities.filter((a) => a.type === 'response');
  // The delegation is a session without a prompt activity; the follow-up and /help are prompts.
  expect(prompts.map((p) => p.body)).toEqual(['Please also thank the reader at the end of the README.', '/help']);
  expect(responses).toHaveLength(3);
  expect(activities.filter((a) => a.type === 'error')).toHaveLength(0);
  // Acknowledged first, ephemerally, and the ack latency measured at the emulator.
  expect(activities[0]).toMatchObject({ type: 'thought', ephemeral: true, body: 'On it: reading the issue.' });
  expect(report.ackLatencyMs).toEqual(expect.any(Number));
  expect(report.ackLatencyMs).toBeGreaterThanOrEqual(0);
  expect(activities.some((a) => a.type === 'action' && a.body.includes('Edit README.md'))).toBe(true);
  // /help is answered at once, even while the engine runs; the two turns answer in order.
  const turnAnswers = responses.filter((r) => !r.body.includes('kai commands'));
  expect(responses.filter((r) => r.body.includes('kai commands'))).toHaveLength(1);
  expect(turnAnswers).toHaveLength(2);
  expect(turnAnswers[0]!.body).toContain('Opened pull request');
  expect(turnAnswers[1]!.body).toContain('Updated pull request');

  expect(report.plan.length).toBeGreaterThan(0);
  expect(report.plan.every((p: { status: string }) => p.status === 'completed')).toBe(true);
  expect(report.stateTransitions.map((s: { to: string }) => s.to)).toEqual(['In Progress', 'Done']);
  expect(report.issue.state).toBe('Done');

  expect(report.pullRequest).toMatchObject({ number: 1, state: 'open', linked: true });
  const urls = report.externalUrls.map((u: { url: string }) => u.url);
  expect(urls).toContain(report.pullRequest.url);
  expect(urls).toContain(report.webUiUrl);
  expect(report.workflowId).toBe(`kai-issue-${report.issue.id}`);
  expect(report.linearRequests).toBeGreaterThan(0);
  expect(report.historyEvents).toBeGreaterThan(0);
});
