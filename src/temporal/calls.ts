// Closing a Temporal client connection while a call is still being retried makes the retry's
// timer throw ("Channel has been shut down") after the close. kai's connections count their
// calls (retries included) so a process can let them settle before it closes the connection.
import { InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

export class CallTracker {
  private active = 0;
  private waiters: Array<() => void> = [];

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

  get inFlight(): number {
    return this.active;
  }

  /** Resolves when no call is in flight, or after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push(resolve)),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  private end(): void {
    this.active--;
    if (this.active === 0) for (const w of this.waiters.splice(0)) w();
  }
}

export interface TrackedConnection {
  connection: Connection;
  /** Calls started and not yet ended (retries of one call count once). */
  inFlight(): number;
  /** Lets calls in flight settle (bounded), then closes the connection. */
  close(settleMs?: number): Promise<void>;
}

/** A client connection with Temporal's default retries, whose close waits for calls in flight. */
export async function connectTracked(options: ConnectionOptions): Promise<TrackedConnection> {
  const tracker = new CallTracker();
  const connection = await Connection.connect({
    ...options,
    interceptors: [tracker.interceptor, ...(options.interceptors ?? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())])],
  });
  return {
    connection,
    inFlight: () => tracker.inFlight,
    async close(settleMs = 10_000) {
      await tracker.settle(settleMs);
      await connection.close();
    },
  };
}
