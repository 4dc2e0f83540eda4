// Closing a Temporal client connection while a call is still being retried makes the retry's
// timer throw ("Channel has been shut down") after the close, an uncaught exception in whatever
// runs next. kai's connections count their calls (retries included) so a process can let them
// settle before it closes, and a retry that still fires after the close ends its call with
// CANCELLED instead of reaching the closed channel.
import {
  InterceptingCall,
  ListenerBuilder,
  Metadata,
  RequesterBuilder,
  status as grpcStatus,
  type Interceptor,
  type InterceptingListener,
} from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { withTimeout } from '../util';

type NextCall = ConstructorParameters<typeof InterceptingCall>[0];

export class CallTracker {
  private active = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  /** Outermost interceptor: a call ends only once the retry interceptor inside it gave up or succeeded. */
  readonly interceptor: Interceptor = (options, nextCall) => {
    const requester = new RequesterBuilder()
      .withStart((metadata, _listener, next) => {
        this.active++;
        let ended = false;
        const tracked = new ListenerBuilder()
          .withOnReceiveStatus((status, onStatus) => {
            if (!ended) {
              ended = true;
              this.end();
            }
            onStatus(status);
          })
          .build();
        next(metadata, tracked);
      })
      .build();
    return new InterceptingCall(nextCall(options), requester);
  };

  /** Innermost interceptor: once the connection is closed, an attempt ends as CANCELLED without touching the channel. */
  readonly guard: Interceptor = (options, nextCall) => (this.closed ? new InterceptingCall(new ClosedCall()) : new InterceptingCall(nextCall(options)));

  get inFlight(): number {
    return this.active;
  }

  /** Resolves when no call is in flight, or after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return;
    const drained = new Promise<void>((resolve) => this.waiters.push(resolve));
    await withTimeout(drained, timeoutMs).catch(() => undefined);
  }

  /** From now on, attempts (retries of calls still in flight) end as CANCELLED. */
  markClosed(): void {
    this.closed = true;
  }

  private end(): void {
    this.active--;
    if (this.active === 0) for (const w of this.waiters.splice(0)) w();
  }
}

/** An attempt made after its connection closed: it reports CANCELLED and sends nothing. */
class ClosedCall implements NextCall {
  private cancelled = false;

  start(_metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    setImmediate(() => {
      listener?.onReceiveMessage?.(null);
      if (!this.cancelled)
        listener?.onReceiveStatus?.({ code: grpcStatus.CANCELLED, details: 'The Temporal connection was closed before this call could be retried', metadata: new Metadata() });
    });
  }
  cancelWithStatus(): void {
    this.cancelled = true;
  }
  getPeer(): string {
    return 'closed';
  }
  getAuthContext(): null {
    return null;
  }
  sendMessageWithContext(_context: unknown, _message: unknown): void {}
  sendMessage(_message: unknown): void {}
  startRead(): void {}
  halfClose(): void {}
}

export interface TrackedConnection {
  connection: Connection;
  /** Calls started and not yet ended (retries of one call count once). */
  inFlight(): number;
  /** Lets calls in flight settle (bounded), then closes the connection; later retries end as CANCELLED. */
  close(settleMs?: number): Promise<void>;
}

/**
 * A client connection (with Temporal's default retries unless `options.interceptors` says
 * otherwise) whose close waits for calls in flight and never strands a retry. Every client
 * connection kai opens goes through here.
 */
export async function connectTracked(options: ConnectionOptions): Promise<TrackedConnection> {
  const tracker = new CallTracker();
  const connection = await Connection.connect({
    ...options,
    interceptors: [tracker.interceptor, ...(options.interceptors ?? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())]), tracker.guard],
  });
  return {
    connection,
    inFlight: () => tracker.inFlight,
    async close(settleMs = 10_000) {
      await tracker.settle(settleMs);
      tracker.markClosed();
      await connection.close();
    },
  };
}
