// Installs the Temporal Runtime for a worker process: the SDK's Prometheus exporter at a bind
// address (task latencies, poll and slot metrics, workflow and activity counters) and the SDK's
// logs routed into kai's pino logger. Must run before the first NativeConnection or Worker.
import { Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger, type RuntimeOptions } from '@temporalio/worker';
import type { Logger as PinoLogger } from 'pino';

export interface TemporalRuntimeOptions {
  /** host:port for Temporal's /metrics, e.g. 0.0.0.0:9465; no exporter when unset. */
  metricsBindAddress?: string;
  /** Prefix of every Temporal metric name. */
  metricPrefix?: string;
  /** Tags on every series, e.g. { service: 'kai-worker' }. */
  globalTags?: Record<string, string>;
  logger?: PinoLogger;
  /** Level of the SDK's core (Rust) logs forwarded to the logger. */
  coreLogLevel?: LogLevel;
}

/** pino behind the SDK's Logger interface. */
export function pinoTemporalLogger(logger: PinoLogger): TemporalLogger {
  const at = (level: LogLevel) => (message: string, meta?: LogMetadata) => {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    logger[method]({ ...(meta ?? {}), component: 'temporal' }, message);
  };
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

export function temporalRuntimeOptions(opts: TemporalRuntimeOptions): RuntimeOptions {
  const options: RuntimeOptions = { telemetryOptions: {} };
  if (opts.logger) {
    options.logger = pinoTemporalLogger(opts.logger);
    options.telemetryOptions!.logging = { filter: { core: opts.coreLogLevel ?? 'WARN', other: 'ERROR' }, forward: {} };
  }
  if (opts.metricsBindAddress) {
    options.telemetryOptions!.metrics = {
      metricPrefix: opts.metricPrefix ?? 'temporal_',
      globalTags: opts.globalTags,
      prometheus: { bindAddress: opts.metricsBindAddress, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: true },
    };
  }
  return options;
}

/** Runtime.install with kai's options. Call once per process, before connecting. */
export function installTemporalRuntime(opts: TemporalRuntimeOptions): Runtime {
  return Runtime.install(temporalRuntimeOptions(opts));
}
