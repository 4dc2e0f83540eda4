// Logging set up from [log] in kai.toml: JSON lines in production, pretty for `kai dev`.
// Every line about a session carries the issue identifier, agent session id and workflow id.
import type { DestinationStream, Logger } from 'pino';
import type { KaiConfig } from '../config/schema';
import { secretValues } from '../config/secrets';
import { createLogger, setLogger } from '../log';
import { envSecretValues } from './mask';

export interface LoggingOptions {
  /** `kai dev`: pretty output unless the file asks for JSON explicitly via KAI_LOG_FORMAT. */
  dev?: boolean;
  /** The process role, on every line: worker, webhook, gateway, ingest, dev. */
  component?: string;
  destination?: DestinationStream;
  /** Secret values to hide wherever they appear (configureLogging adds the config's and the
   *  environment's). Shapes and secret-named keys are masked regardless. */
  secrets?: readonly string[];
}

/** pretty when [log] format = "pretty", or in dev mode when the format was left at its default. */
export function loggerFromConfig(log: KaiConfig['log'], opts: LoggingOptions = {}): Logger {
  const pretty = log.format === 'pretty' || (opts.dev === true && !opts.destination && process.env.KAI_LOG_FORMAT !== 'json');
  return createLogger({
    level: log.level,
    pretty,
    destination: opts.destination,
    bindings: opts.component ? { component: opts.component } : undefined,
    secrets: opts.secrets,
  });
}

/** Builds the logger from config and makes it the process-wide one (src/log.ts `logger`). */
export function configureLogging(config: KaiConfig, opts: LoggingOptions = {}): Logger {
  const secrets = new Set([...(opts.secrets ?? []), ...secretValues(config), ...envSecretValues(process.env)]);
  const logger = loggerFromConfig(config.log, { ...opts, secrets: [...secrets] });
  setLogger(logger);
  return logger;
}

export interface SessionLogContext {
  issueIdentifier?: string;
  issueId?: string;
  agentSessionId?: string;
  workflowId?: string;
}

/** The field names every session log line uses, so logs can be searched by any of them. */
export function sessionLogFields(ctx: SessionLogContext): Record<string, string> {
  const out: Record<string, string> = {};
  if (ctx.issueIdentifier) out.issue = ctx.issueIdentifier;
  if (ctx.issueId) out.issueId = ctx.issueId;
  if (ctx.agentSessionId) out.agentSessionId = ctx.agentSessionId;
  if (ctx.workflowId) out.workflowId = ctx.workflowId;
  return out;
}

/** A child logger bound to one session. */
export function sessionLogger(base: Logger, ctx: SessionLogContext): Logger {
  return base.child(sessionLogFields(ctx));
}
