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
];

export interface LogOptions {
  level?: string;
  pretty?: boolean;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.KAI_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
  return pino({
    level,
    base: { app: 'kai' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    transport: opts.pretty ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } : undefined,
  });
}

/** The process-wide logger; the CLI replaces it with one built from config. */
export let logger: Logger = createLogger();

export function setLogger(next: Logger): void {
  logger = next;
}
