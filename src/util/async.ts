// Waiting, for code outside workflows (workflow code uses Temporal's sleep and condition).

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class TimeoutError extends Error {
  constructor(
    readonly what: string | undefined,
    readonly ms: number,
  ) {
    super(`${what ? `${what}: ` : ''}no answer within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`}`);
    this.name = 'TimeoutError';
  }
}

export interface TimeoutOptions<T> {
  /** What is awaited, for the error message ("the viewer query"). */
  what?: string;
  /** Receives a value that arrives after the timeout (e.g. to close a connection nobody will use). */
  late?: (value: T) => void;
  /** The error to reject with instead of a TimeoutError. */
  error?: () => Error;
}

/** Settles like `promise`, or rejects after `ms`. The timer never keeps the process alive, and a
 *  rejection after the timeout is not reported as unhandled. */
export function withTimeout<T>(promise: Promise<T>, ms: number, opts: TimeoutOptions<T> = {}): Promise<T> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(opts.error ? opts.error() : new TimeoutError(opts.what, ms));
    }, ms);
    timer.unref();
  });
  promise.then(
    (value) => {
      if (timedOut) opts.late?.(value);
    },
    () => undefined,
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
