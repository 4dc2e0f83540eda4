// `kai status <identifier>` and `kai sessions` against a real session workflow on the test
// server (activities faked): the phase, the pull request and the Web UI link a user looks for.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueWorkflowId, SEARCH_ATTRIBUTES } from '../../src/names';
import { statusQuery } from '../../src/workflows/signals';
import type { KaiWorkers } from '../../src/worker';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, temporalAddress, uniqueTaskQueue, waitFor, type TestEnv } from '../harness/temporal';
import { runKai } from './run-kai';

const WEB_UI = 'http://temporal-ui.test:8233';
const PR_URL = 'https://github.com/acme/app/pull/1';

let env: TestEnv;
let dir: string;
let configPath: string;
let workers: KaiWorkers;
let running: Promise<void>;
let issueId: string;
let identifier: string;

beforeAll(async () => {
  env = await connectTestEnv();
  dir = mkdtempSync(join(tmpdir(), 'kai-cli-inspect-'));
  configPath = join(dir, 'kai.toml');
  writeFileSync(configPath, `[temporal]\naddress = "${temporalAddress()}"\nnamespace = "default"\nweb_ui_url = "${WEB_UI}"\n`);

  const taskQueue = uniqueTaskQueue('cli-inspect');
  const fakes = new FakeActivities();
  issueId = randomUUID();
  // Other test files run sessions on the same server: a key of its own makes this one findable.
  const team = `CLI${randomUUID().replace(/[^a-z]/g, '').slice(0, 4).toUpperCase()}`;
  identifier = `${team}-7`;
  fakes.issue = { ...fakes.issue, id: issueId, identifier, teamKey: team, url: `https://linear.app/acme/issue/${identifier}` };
  workers = await startTestWorkers(env, taskQueue, fakes.activities(), 4, 'inspect-pod-0');
  running = workers.run();
  const sessions = sessionClient(env, taskQueue, { webUiBaseUrl: WEB_UI });
  await sessions.send({
    type: 'prompt',
    issueId,
    payload: { deliveryId: randomUUID(), agentSessionId: 'session-cli', body: 'Add a greeting', author: 'Ada', receivedAt: new Date().toISOString(), source: 'created' },
  });
  const handle = env.client.workflow.getHandle(issueWorkflowId(issueId));
  await waitFor('the turn to publish its PR and go idle', async () => {
    const s = await handle.query(statusQuery);
    return s.prUrl === PR_URL && s.phase === 'idle' && s.turns === 1;
  });
  await waitFor('visibility to index the identifier', async () => {
    for await (const wf of env.client.workflow.list({ query: `${SEARCH_ATTRIBUTES.issueIdentifier.name} = '${identifier}' AND ${SEARCH_ATTRIBUTES.phase.name} = 'idle'` })) {
      return wf.workflowId;
    }
    return undefined;
  });
});

afterAll(async () => {
  await env?.client.workflow.getHandle(issueWorkflowId(issueId)).terminate('test over').catch(() => undefined);
  workers?.shutdown();
  await running;
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kai status', () => {
  it('finds the session by its identifier and prints its phase, pull request and Web UI link', async () => {
    const run = await runKai(['--config', configPath, 'status', identifier.toLowerCase()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const workflowId = issueWorkflowId(issueId);
    expect(run.stdout).toContain(`${identifier}  (${workflowId})`);
    expect(run.stdout).toContain('workflow: RUNNING');
    expect(run.stdout).toContain('phase: idle');
    expect(run.stdout).toContain('agent session: session-cli');
    expect(run.stdout).toContain('held by worker: inspect-pod-0');
    expect(run.stdout).toMatch(/turns: 1\s+pull request: https:\/\/github\.com\/acme\/app\/pull\/1/);
    expect(run.stdout).toContain(`Web UI: ${WEB_UI}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
  });

  it('prints the same as JSON with --json', async () => {
    const run = await runKai(['--config', configPath, 'status', identifier, '--json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({
      workflowId: issueWorkflowId(issueId),
      execution: 'RUNNING',
      status: { issueIdentifier: identifier, phase: 'idle', prUrl: PR_URL, turns: 1 },
      webUiUrl: `${WEB_UI}/namespaces/default/workflows/${encodeURIComponent(issueWorkflowId(issueId))}`,
    });
  });

  it('says there is no session, and exits 1, for an identifier kai never saw', async () => {
    const run = await runKai(['--config', configPath, 'status', 'NOPE-404404']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No kai session found for NOPE-404404.');
  });
});

describe('kai sessions', () => {
  it("lists the running session with its phase, engine, team, pull request and Web UI link", async () => {
    const run = await runKai(['--config', configPath, 'sessions', '--limit', '500']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^ISSUE\s+WORKFLOW\s+PHASE\s+ENGINE\s+TEAM\s+PULL REQUEST\s+WEB UI$/);
    const row = lines.find((l) => l.startsWith(`${identifier} `));
    expect(row).toBeDefined();
    const cells = row!.trim().split(/\s{2,}/);
    expect(cells).toEqual([
      identifier,
      'RUNNING',
      'idle',
      'script',
      identifier.split('-')[0],
      PR_URL,
      `${WEB_UI}/namespaces/default/workflows/${encodeURIComponent(issueWorkflowId(issueId))}`,
    ]);
  });
});
