// Structured logging (pino). Lines carry issue identifier, agent session id and workflow id
// where known; secrets are redacted by key wherever they appear.
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  'oauth_token',
  'accessToken',
  'access_token',
  'refresh_token',
  'client_secret',
  'apiKey',
  'api_key',
  'secret',
  'webhook_signing_secret',
  'password',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.oauth_token',
  '*.accessToken',
  '*.apiKey',
  '*.api_key',
  '*.secret',
  '*.webhook_signing_secret',
  '*.client_secret',
  '*.authorization',
  '*.password',
  '*.refresh_token',
  '*.access_token',
  'gateway_database_url',
  '*.gateway_database_url',
  'database_url',
  'DATABASE_URL',
  'headers.cookie',
  'headers["linear-signature"]',
  '*.headers.authorization',
  '*.headers["linear-signature"]',
  'req.headers.authorization',
  'req.headers["linear-signature"]',
];

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  /** Where JSON lines go (stdout when absent); ignored when pretty. Tests pass a stream. */
  destination?: pino.DestinationStream;
  /** Fields on every line, e.g. { component: 'webhook' }. */
  bindings?: Record<string, unknown>;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.KAI_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'kai', ...(opts.bindings ?? {}) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (opts.pretty) {
    options.transport = { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,app' } };
    return pino(options);
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** The process-wide logger; the CLI replaces it with one built from config. */
export let logger: Logger = createLogger();

export function setLogger(next: Logger): void {
  logger = next;
}
