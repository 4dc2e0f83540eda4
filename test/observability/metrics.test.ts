import { Writable } from 'node:stream';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { defaultConfig } from '../../src/config';
import {
  createKaiMetrics,
  loggerFromConfig,
  metricsHandler,
  observeSignalLatency,
  recordDelivery,
  recordIngestPoll,
  recordVerifyFailure,
  sessionLogger,
  startOpsServer,
  startSignalTimer,
  temporalRuntimeOptions,
  trackEngineRun,
} from '../../src/observability';

/** The value of the sample `name` whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('kai metrics', () => {
  test('/metrics exposes the named series with their labels after traffic is recorded', async () => {
    const m = createKaiMetrics({ defaultLabels: { component: 'webhook' } });
    recordDelivery('webhook', 'AgentSessionEvent', 'signaled', m);
    recordDelivery('webhook', 'AgentSessionEvent', 'signaled', m);
    recordDelivery('webhook', 'AgentSessionEvent', 'duplicate', m);
    recordDelivery('ingest', 'Comment', 'ignored', m);
    recordVerifyFailure('signature', m);
    recordVerifyFailure('stale', m);
    observeSignalLatency('webhook', 'prompt', 0.03, 'ok', m);
    const end = startSignalTimer('ingest', 'stop', m);
    end('ok');
    recordIngestPoll(7, 42.5, m);
    const done = trackEngineRun('claude', m);
    done('completed');
    done('failed'); // a second call is ignored

    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: m.registry });
    try {
      const res = await fetch(`${ops.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(sample(text, 'kai_deliveries_total', { source: 'webhook', type: 'AgentSessionEvent', outcome: 'signaled', component: 'webhook' })).toBe(2);
      expect(sample(text, 'kai_deliveries_total', { source: 'webhook', type: 'AgentSessionEvent', outcome: 'duplicate', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_deliveries_total', { source: 'ingest', type: 'Comment', outcome: 'ignored', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_duplicate_deliveries_dropped_total', { source: 'webhook', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_webhook_verify_failures_total', { reason: 'signature', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_webhook_verify_failures_total', { reason: 'stale', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_signal_latency_seconds_bucket', { le: '0.05', source: 'webhook', signal: 'prompt', outcome: 'ok', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_signal_latency_seconds_count', { source: 'ingest', signal: 'stop', outcome: 'ok', component: 'webhook' })).toBe(1);
      expect(sample(text, 'kai_ingest_backlog_events', { component: 'webhook' })).toBe(7);
      expect(sample(text, 'kai_ingest_lag_seconds', { component: 'webhook' })).toBe(42.5);
      expect(sample(text, 'kai_engine_runs_total', { engine: 'claude', outcome: 'completed', component: 'webhook' })).toBe(1);
      expect(text).not.toContain('outcome="failed"');
      expect(sample(text, 'kai_engine_runs_active', { engine: 'claude', component: 'webhook' })).toBe(0);
    } finally {
      await ops.close();
    }
  });

  test('an empty backlog reports zero lag', async () => {
    const m = createKaiMetrics();
    recordIngestPoll(0, 999, m);
    expect(sample(await m.registry.metrics(), 'kai_ingest_lag_seconds', {})).toBe(0);
  });

  test('metricsHandler mounts on the webhook app at /metrics', async () => {
    const m = createKaiMetrics();
    recordDelivery('gateway', 'Issue', 'failed', m);
    const app = express();
    app.get('/metrics', metricsHandler(m.registry));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const text = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
      expect(sample(text, 'kai_deliveries_total', { source: 'gateway', type: 'Issue', outcome: 'failed' })).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('the ops server answers /healthz always and /readyz only while ready', async () => {
    let ready = false;
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, ready: () => ready });
    try {
      expect((await fetch(`${ops.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(200);
    } finally {
      await ops.close();
    }
  });
});

describe('Temporal runtime options', () => {
  test('a bind address turns on the Prometheus exporter there', () => {
    const opts = temporalRuntimeOptions({ metricsBindAddress: '0.0.0.0:9465', globalTags: { service: 'kai-worker' } });
    expect(opts.telemetryOptions?.metrics).toMatchObject({
      prometheus: { bindAddress: '0.0.0.0:9465', countersTotalSuffix: true },
      globalTags: { service: 'kai-worker' },
    });
  });

  test('without a bind address no exporter is configured', () => {
    expect(temporalRuntimeOptions({}).telemetryOptions?.metrics).toBeUndefined();
  });
});

describe('logging', () => {
  function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; raw: () => string } {
    let buf = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        buf += chunk.toString();
        cb();
      },
    });
    return { stream, raw: () => buf, lines: () => buf.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
  }

  test('session log lines are JSON with issue identifier, agent session id and workflow id', () => {
    const out = capture();
    const cfg = defaultConfig();
    const log = loggerFromConfig({ ...cfg.log, level: 'info' }, { component: 'worker', destination: out.stream });
    sessionLogger(log, { issueIdentifier: 'AV-123', agentSessionId: 'sess-1', workflowId: 'kai-issue-abc' }).info('engine started');
    const [line] = out.lines();
    expect(line).toMatchObject({ msg: 'engine started', issue: 'AV-123', agentSessionId: 'sess-1', workflowId: 'kai-issue-abc', component: 'worker', app: 'kai' });
  });

  test('tokens and secrets are redacted wherever they are logged', () => {
    const out = capture();
    const log = loggerFromConfig({ level: 'info', format: 'json' }, { destination: out.stream });
    log.info(
      {
        oauth_token: 'lin_oauth_LEAK1',
        headers: { authorization: 'Bearer LEAK2', 'linear-signature': 'LEAK3' },
        linear: { client_secret: 'LEAK4', refresh_token: 'LEAK5' },
        database: { gateway_database_url: 'postgresql://u:LEAK6@h/db' },
      },
      'request',
    );
    expect(out.raw()).not.toMatch(/LEAK/);
    expect(out.raw()).toContain('[redacted]');
  });
});
