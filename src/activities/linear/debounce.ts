// When the progress sink posts: a debounce that fires a quiet moment after the last event, but
// never later than a cap after the first, so a steady stream still shows up in Linear.
import type { Clock, Timer } from '../../util';

export class Debounce {
  private timer?: Timer;
  private firstAt?: number;

  constructor(
    private readonly clock: Clock,
    private readonly waitMs: number,
    private readonly maxWaitMs: number,
    private readonly fire: () => void,
  ) {}

  /** Fires `waitMs` after the last call, but no later than `maxWaitMs` after the first. */
  poke(): void {
    const now = this.clock.now();
    this.firstAt ??= now;
    this.timer?.cancel();
    const delay = Math.max(0, Math.min(this.waitMs, this.firstAt + this.maxWaitMs - now));
    this.timer = this.clock.after(delay, () => this.now());
  }

  now(): void {
    this.cancel();
    this.fire();
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.firstAt = undefined;
  }
}
