// The Temporal server goes down in the middle of a real session and comes back (file-persisted,
// same port): the webhook answers 503 while it is down, Linear's redelivery then succeeds, and
// the session finishes. (PostgreSQL restarting during ingest: test/ingest/restart.test.ts.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueWorkflowId } from '../../src/names';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/temporal/ports';
import { HARNESS_ENV } from '../harness/constants';
import { waitFor } from '../harness/temporal';
import { hasAction, pullRequests, sessionView, startFaultStack } from './helpers';

jest.setTimeout(150_000);

let server: DevServer | undefined;
let stack: Awaited<ReturnType<typeof startFaultStack>> | undefined;
afterAll(async () => {
  await stack?.stop();
  await server?.stop();
});

test('a Temporal restart mid-session: 503 while down, the redelivery then succeeds and the session finishes', async () => {
  const cliPath = process.env[HARNESS_ENV.cliPath]!;
  const dbFile = join(mkdtempSync(join(tmpdir(), 'kai-temporal-restart-')), 'temporal.db');
  const port = await freePort();
  const start = () => startDevServer({ cliPath, dbFile, port, headless: true });
  server = await start();
  // The engine's completion can be lost while the server is down: a short heartbeat timeout lets
  // the server hand the run out again in seconds rather than the default minute.
  stack = await startFaultStack({ temporalAddress: server.address, engineStep: 1, heartbeatTimeoutS: 10 });
  const { world } = stack;
  const { linear } = world;
  const issue = world.workspace.issue;

  const { session, delivery } = await linear.startSession({ issueId: issue.id, send: true });
  expect(delivery?.status).toBe(200);
  await waitFor('the engine to start', () => hasAction(world, session.id), 30_000);

  await server.stop();
  const down = await linear.prompt(session.id, 'Please also thank the reader at the end of the README.');
  expect(down.delivery?.status).toBe(503);

  server = await start();
  const retried = await linear.redeliver(down.delivery!.deliveryId);
  expect(retried.status).toBe(200);

  const handle = stack.client.workflow.getHandle(issueWorkflowId(issue.id));
  const result = await handle.result();
  expect(result.turns).toBe(2);
  const view = sessionView(world, session.id);
  expect(view.errors).toEqual([]);
  expect(view.responses).toHaveLength(2);
  expect(view.acks).toBe(2);
  expect(pullRequests(world)).toHaveLength(1);
  expect(linear.state.states.get(linear.state.issue(issue.id).stateId)?.type).toBe('completed');
});
