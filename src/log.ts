// Structured logging (pino). Lines carry issue identifier, agent session id and workflow id
// where known; secrets are masked by key pattern at any depth and by shape in every string.
import pino, { type Logger } from 'pino';
import { maskString, maskTokens, maskValue } from './observability/mask';

/** What replaces a secret in a log line. */
export const LOG_CENSOR = '[redacted]';

/** The masking pino applies to every line: the merged object and child bindings are walked
 *  (bounded) and masked by key pattern at any depth, and every string, the message included, is
 *  masked by shape. pino's path-based `redact` cannot say "any depth", so this replaces it. */
export function logMasking(known: readonly string[] = []): Pick<pino.LoggerOptions, 'formatters' | 'hooks' | 'serializers'> {
  const opts = maskOptions(known);
  const str = (v: string) => maskString(v, opts);
  return {
    // The log formatter has already turned errors into masked plain fields.
    serializers: { err: (v: unknown) => v },
    formatters: {
      log: (obj) => maskValue(obj, opts),
      bindings: (b) => maskValue(b, opts),
    },
    hooks: {
      logMethod(args, method) {
        const out: unknown[] = args.map((a) => (typeof a === 'string' ? str(a) : a));
        // pino takes the message from an Error (or `{ err }`) when none is given: mask it here.
        const first = out[0];
        const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
        if (err instanceof Error && typeof out[1] !== 'string' && (first instanceof Error || (first as { msg?: unknown }).msg === undefined))
          out.splice(1, 0, str(err.message));
        method.apply(this, out as Parameters<typeof method>);
      },
      // Last line of defence for anything that reached the line another way: known values and
      // token shapes (patterns that cannot span a JSON quote).
      streamWrite: (line) => maskTokens(line, opts),
    },
  };
}

function maskOptions(known: readonly string[]) {
  return { censor: LOG_CENSOR, known, maxDepth: 16, maxNodes: 5_000 };
}

/** pino skips the bindings formatter for children (by design), so child bindings are masked
 *  on the way in; every child of a child inherits this `child`. */
function maskChildBindings(root: Logger, known: readonly string[]): Logger {
  const opts = maskOptions(known);
  const original = root.child as unknown as (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  const child = function (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return original.call(this, maskValue(bindings, opts), options);
  };
  Object.defineProperty(root, 'child', { value: child, writable: true, configurable: true });
  return root;
}

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  /** Where JSON lines go (stdout when absent); ignored when pretty. Tests pass a stream. */
  destination?: pino.DestinationStream;
  /** Fields on every line, e.g. { component: 'webhook' }. */
  bindings?: Record<string, unknown>;
  /** Secret values known to this process (config, environment): hidden wherever they appear. */
  secrets?: readonly string[];
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.KAI_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'kai', ...(opts.bindings ?? {}) },
    ...logMasking(opts.secrets),
  };
  if (opts.pretty) {
    options.transport = { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,app' } };
    return maskChildBindings(pino(options), opts.secrets ?? []);
  }
  return maskChildBindings(opts.destination ? pino(options, opts.destination) : pino(options), opts.secrets ?? []);
}

/** The process-wide logger; the CLI replaces it with one built from config. */
export let logger: Logger = createLogger();

export function setLogger(next: Logger): void {
  logger = next;
}
