// kai's own Prometheus metrics (prom-client). The webhook, gateway and ingester record through
// the small functions below; `/metrics` serves the registry. Temporal's worker metrics are
// served separately by the Temporal Runtime (see temporal-runtime.ts).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where a Linear event entered kai. */
export type DeliverySource = 'webhook' | 'gateway' | 'ingest';

/** What became of one delivery:
 *  - `signaled`: handed to the workflow (or stored in the events table, for the gateway);
 *  - `duplicate`: seen before (same Linear-Delivery / external id), dropped;
 *  - `ignored`: valid but not for kai (event type or issue it does not handle);
 *  - `rejected`: failed verification or validation (answered 4xx);
 *  - `failed`: could not be handed off (answered 5xx so Linear retries). */
export type DeliveryOutcome = 'signaled' | 'duplicate' | 'ignored' | 'rejected' | 'failed';

export type VerifyFailureReason = 'signature' | 'stale' | 'missing_header' | 'malformed';

export const METRIC_NAMES = {
  deliveries: 'kai_deliveries_total',
  duplicates: 'kai_duplicate_deliveries_dropped_total',
  verifyFailures: 'kai_webhook_verify_failures_total',
  signalLatency: 'kai_signal_latency_seconds',
  ingestLag: 'kai_ingest_lag_seconds',
  ingestBacklog: 'kai_ingest_backlog_events',
  engineRunsActive: 'kai_engine_runs_active',
  engineRuns: 'kai_engine_runs_total',
} as const;

export interface KaiMetrics {
  registry: Registry;
  deliveries: Counter<'source' | 'type' | 'outcome'>;
  duplicates: Counter<'source'>;
  verifyFailures: Counter<'reason'>;
  signalLatency: Histogram<'source' | 'signal' | 'outcome'>;
  ingestLag: Gauge;
  ingestBacklog: Gauge;
  engineRunsActive: Gauge<'engine'>;
  engineRuns: Counter<'engine' | 'outcome'>;
}

export interface CreateMetricsOptions {
  /** Add Node's process metrics (CPU, memory, event loop lag); on in production processes. */
  defaultMetrics?: boolean;
  /** Labels added to every series, e.g. { component: 'webhook' }. */
  defaultLabels?: Record<string, string>;
}

/** A fresh registry with kai's metrics. Tests make their own; processes use `kaiMetrics()`. */
export function createKaiMetrics(opts: CreateMetricsOptions = {}): KaiMetrics {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'kai_process_' });
  const registers = [registry];
  return {
    registry,
    deliveries: new Counter({
      name: METRIC_NAMES.deliveries,
      help: 'Linear events received, by source, event type (Linear-Event) and outcome.',
      labelNames: ['source', 'type', 'outcome'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: METRIC_NAMES.duplicates,
      help: 'Deliveries dropped because the same delivery id was already handled.',
      labelNames: ['source'] as const,
      registers,
    }),
    verifyFailures: new Counter({
      name: METRIC_NAMES.verifyFailures,
      help: 'Webhook deliveries rejected by signature or timestamp verification.',
      labelNames: ['reason'] as const,
      registers,
    }),
    signalLatency: new Histogram({
      name: METRIC_NAMES.signalLatency,
      help: 'Time from receiving an event to Temporal accepting its signal (signal-with-start).',
      labelNames: ['source', 'signal', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    ingestLag: new Gauge({
      name: METRIC_NAMES.ingestLag,
      help: 'Age of the oldest pending row in the events table at the last poll (0 when none).',
      registers,
    }),
    ingestBacklog: new Gauge({
      name: METRIC_NAMES.ingestBacklog,
      help: 'Pending rows in the events table at the last poll.',
      registers,
    }),
    engineRunsActive: new Gauge({
      name: METRIC_NAMES.engineRunsActive,
      help: 'Engine runs in progress in this worker.',
      labelNames: ['engine'] as const,
      registers,
    }),
    engineRuns: new Counter({
      name: METRIC_NAMES.engineRuns,
      help: 'Engine runs finished, by engine and outcome (completed, failed, cancelled).',
      labelNames: ['engine', 'outcome'] as const,
      registers,
    }),
  };
}

let processMetrics: KaiMetrics | undefined;

/** The process-wide metrics (created on first use). */
export function kaiMetrics(): KaiMetrics {
  processMetrics ??= createKaiMetrics();
  return processMetrics;
}

/** Replaces the process-wide metrics, e.g. with one carrying default process metrics. */
export function setKaiMetrics(next: KaiMetrics): void {
  processMetrics = next;
}

// Recording functions: what the webhook, gateway and ingester call. Each takes an optional
// metrics object so a test can pass its own registry.

export function recordDelivery(source: DeliverySource, type: string, outcome: DeliveryOutcome, m: KaiMetrics = kaiMetrics()): void {
  m.deliveries.inc({ source, type: type || 'unknown', outcome });
  if (outcome === 'duplicate') m.duplicates.inc({ source });
}

export function recordVerifyFailure(reason: VerifyFailureReason, m: KaiMetrics = kaiMetrics()): void {
  m.verifyFailures.inc({ reason });
}

/** Starts timing one signal; call the returned function once Temporal answered. */
export function startSignalTimer(source: DeliverySource, signal: string, m: KaiMetrics = kaiMetrics()): (outcome: 'ok' | 'error') => number {
  const end = m.signalLatency.startTimer({ source, signal });
  return (outcome) => end({ outcome });
}

export function observeSignalLatency(source: DeliverySource, signal: string, seconds: number, outcome: 'ok' | 'error' = 'ok', m: KaiMetrics = kaiMetrics()): void {
  m.signalLatency.observe({ source, signal, outcome }, seconds);
}

/** After each poll of the events table: pending rows and the age of the oldest (seconds). */
export function recordIngestPoll(backlog: number, oldestPendingAgeSeconds: number, m: KaiMetrics = kaiMetrics()): void {
  m.ingestBacklog.set(backlog);
  m.ingestLag.set(backlog > 0 ? Math.max(0, oldestPendingAgeSeconds) : 0);
}

/** Around one engine run in the worker: returns the function to call when it ends. */
export function trackEngineRun(engine: string, m: KaiMetrics = kaiMetrics()): (outcome: 'completed' | 'failed' | 'cancelled') => void {
  m.engineRunsActive.inc({ engine });
  let done = false;
  return (outcome) => {
    if (done) return;
    done = true;
    m.engineRunsActive.dec({ engine });
    m.engineRuns.inc({ engine, outcome });
  };
}
