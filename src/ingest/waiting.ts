// Waiting helpers of the ingester's loops: sleeps that end at once on stop, and backoff.

/** Sleeps that `wakeAll()` ends early (on stop). */
export class Sleeper {
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of [...this.sleepers]) s();
  }
}

/** Exponential backoff with ±20% jitter. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}
