// Screenshots of the Temporal Web UI showing kai's sessions as people see them: the workflow
// list with `ENG-123: title` summaries and kai's search attributes, and one session's timeline
// with a summary on each activity and timer. Needs a Chromium (Debian: apt-get install chromium;
// or set CHROMIUM=/path/to/chrome). Run:
//   npx jest --roots='<rootDir>/scripts' --testMatch='**/web-ui-screenshot.test.ts'
// Writes web-ui-list.png, web-ui-attributes.png and web-ui-timeline.png to KAI_SCREENSHOT_DIR (default: the cwd).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { SessionClient } from '../src/client';
import { issueWorkflowId, engineTaskQueueFor } from '../src/names';
import { findTemporalCli, startDevServer } from '../src/temporal/dev-server';
import { createKaiWorkers } from '../src/worker';
import { FakeActivities } from '../test/harness/fake-activities';
import { uniqueTaskQueue, waitFor, workflowBundle } from '../test/harness/temporal';

function chromium(): string {
  for (const bin of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (bin && existsSync(bin)) return bin;
  }
  throw new Error('No Chromium found: apt-get install chromium, or set CHROMIUM to a Chrome/Chromium binary.');
}

function screenshot(url: string, file: string): void {
  execFileSync(
    chromium(),
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1800,1400', '--virtual-time-budget=10000', '--timeout=40000', `--screenshot=${file}`, url],
    { stdio: 'ignore', timeout: 90_000 },
  );
  if (!existsSync(file) || statSync(file).size < 20_000) throw new Error(`Chromium wrote no usable screenshot to ${file}`);
}

test('screenshots of the Web UI show issue identifiers and step summaries', async () => {
  const cli = findTemporalCli();
  if (!cli) throw new Error('No Temporal CLI: run scripts/ensure-temporal-cli.sh');
  const server = await startDevServer({ cliPath: cli.path, headless: false });
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const taskQueue = uniqueTaskQueue('web-ui');
  const fakes = new FakeActivities();
  const workers = await createKaiWorkers({
    connection: native,
    namespace: 'default',
    taskQueue,
    engineTaskQueue: engineTaskQueueFor(taskQueue),
    activities: fakes.activities(),
    concurrentEngineRuns: 4,
    workflowBundle: workflowBundle(),
    shutdownGraceTime: '2s',
  });
  const running = workers.run();
  try {
    const sessions = new SessionClient(new Client({ connection }), { taskQueue, sessionOptions: { webUiBaseUrl: server.uiUrl, idleTimeoutMs: 3000 } });
    const issues = [
      { identifier: 'ENG-123', title: 'Add a greeting to the home page', teamKey: 'ENG' },
      { identifier: 'OPS-7', title: 'Rotate the staging certificates', teamKey: 'OPS' },
    ].map((i) => ({ ...i, id: randomUUID() }));
    const runIds: string[] = [];
    for (const issue of issues) {
      fakes.issue = { ...fakes.issue, id: issue.id, identifier: issue.identifier, title: issue.title, teamKey: issue.teamKey };
      const started = await sessions.send({
        type: 'prompt',
        issueId: issue.id,
        payload: { deliveryId: randomUUID(), agentSessionId: `s-${issue.identifier}`, body: issue.title, receivedAt: new Date().toISOString(), source: 'created', issue },
      });
      runIds.push(started.runId);
      await waitFor(`the answer on ${issue.identifier}`, () => fakes.finals().some((f) => f.agentSessionId === `s-${issue.identifier}`));
    }
    // completed sessions: the UI's pages settle (a running one keeps polling)
    for (const issue of issues) await sessions.client.workflow.getHandle(issueWorkflowId(issue.id)).result();
    const dir = process.env.KAI_SCREENSHOT_DIR ?? process.cwd();
    const ui = `${server.uiUrl}/namespaces/default`;
    // the list, filtered by kai's search attribute (the table's columns are chosen in the browser)
    screenshot(`${ui}/workflows?query=${encodeURIComponent("KaiIssueIdentifier = 'ENG-123'")}`, join(dir, 'web-ui-list.png'));
    const session = `${ui}/workflows/${encodeURIComponent(issueWorkflowId(issues[0]!.id))}/${runIds[0]}`;
    // the session's search attributes (KaiIssueIdentifier ENG-123, team, engine, phase)
    screenshot(`${session}/metadata`, join(dir, 'web-ui-attributes.png'));
    // one session: its summary (ENG-123: title), details and the timeline of summarised steps
    screenshot(`${ui}/workflows/${encodeURIComponent(issueWorkflowId(issues[0]!.id))}/${runIds[0]}/history`, join(dir, 'web-ui-timeline.png'));
    console.log(`screenshots in ${dir}: web-ui-list.png, web-ui-attributes.png, web-ui-timeline.png`);
  } finally {
    workers.shutdown();
    await running;
    await connection.close();
    await native.close();
    await server.stop();
  }
}, 240_000);
