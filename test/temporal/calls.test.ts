// kai's client connections count calls in flight so closing one never strands a retry.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { InterceptingCall, ListenerBuilder, RequesterBuilder, status as grpcStatus, type Interceptor } from '@grpc/grpc-js';
import { Client, makeGrpcRetryInterceptor } from '@temporalio/client';
import { connectTracked } from '../../src/temporal/calls';
import { issueWorkflowId } from '../../src/names';
import { FakeActivities } from '../harness/fake-activities';
import { connectTestEnv, sessionClient, startTestWorkers, temporalAddress, uniqueTaskQueue, waitFor } from '../harness/temporal';

test('closing a tracked connection waits for a call in flight to finish instead of cutting it off', async () => {
  const env = await connectTestEnv();
  const taskQueue = uniqueTaskQueue('calls');
  const fakes = new FakeActivities();
  const workers = await startTestWorkers(env, taskQueue, fakes.activities());
  const running = workers.run();
  const tracked = await connectTracked({ address: temporalAddress() });
  try {
    const issueId = randomUUID();
    await sessionClient(env, taskQueue, { idleTimeoutMs: 1500 }).send({
      type: 'prompt',
      issueId,
      payload: { deliveryId: randomUUID(), agentSessionId: 's', body: 'Quick', receivedAt: new Date().toISOString(), source: 'created' },
    });
    // A long poll for the result is in flight until the idle session completes (~1.5 s).
    const client = new Client({ connection: tracked.connection });
    const result = client.workflow.getHandle(issueWorkflowId(issueId)).result();
    await waitFor('the long poll to be in flight', () => tracked.inFlight() >= 1);
    await tracked.close();
    expect(tracked.inFlight()).toBe(0); // close returned only once the long poll had ended
    await expect(result).resolves.toMatchObject({ issueId, turns: 1 });
  } finally {
    workers.shutdown();
    await running;
    await env.close();
  }
});

test('a retry that fires after the connection closed ends its call as CANCELLED instead of throwing from its timer', async () => {
  // Every attempt reaches the real server, and is then reported UNAVAILABLE, so the retry
  // interceptor keeps scheduling attempts on its timer.
  let failing = false;
  let attempts = 0;
  const unavailable: Interceptor = (options, nextCall) =>
    new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, listener, next) => {
          if (!failing) return next(metadata, listener);
          attempts++;
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveStatus((status, onStatus) =>
                onStatus(status.code === grpcStatus.OK ? { ...status, code: grpcStatus.UNAVAILABLE, details: 'made unavailable by the test' } : status),
              )
              .build(),
          );
        })
        .build(),
    );
  const retry = makeGrpcRetryInterceptor({ retryableDecider: (_attempt, status) => status.code === grpcStatus.UNAVAILABLE, delayFunction: () => 300 });
  const tracked = await connectTracked({ address: temporalAddress(), interceptors: [retry, unavailable] });
  failing = true;
  const call = tracked.connection.workflowService.getSystemInfo({});
  const outcome = call.then(
    () => 'resolved',
    (err: { code?: number }) => err.code,
  );
  while (attempts < 2) await new Promise((r) => setTimeout(r, 20));
  expect(tracked.inFlight()).toBe(1);
  await tracked.close(0); // a retry is pending on its timer
  await expect(outcome).resolves.toBe(grpcStatus.CANCELLED);
  expect(tracked.inFlight()).toBe(0);
});

test('every client connection kai opens is a tracked one', () => {
  const src = join(__dirname, '..', '..', 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const untracked = files.filter((f) => f !== join('temporal', 'calls.ts') && /(?<!Native)Connection\.(connect|lazy)\(/.test(readFileSync(join(src, f), 'utf8')));
  expect(files.length).toBeGreaterThan(50);
  expect(untracked).toEqual([]);
});
