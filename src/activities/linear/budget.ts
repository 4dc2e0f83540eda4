// A client-side request budget: kai stays under Linear's 5,000 requests/hour per app user by
// counting its own requests in a sliding hour, and stops early after Linear says RATELIMITED.

export class BudgetExhausted extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`Linear request budget used up; next request allowed in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

export class RequestBudget {
  private readonly stamps: number[] = [];
  private blockedUntil = 0;

  constructor(
    readonly perHour: number,
    private readonly now: () => number = Date.now,
    private readonly windowMs = 3_600_000,
  ) {
    if (!(perHour > 0)) throw new Error('perHour must be positive');
  }

  /** Counts one request, or throws BudgetExhausted saying how long to wait. */
  take(): void {
    const t = this.now();
    if (t < this.blockedUntil) throw new BudgetExhausted(this.blockedUntil - t);
    while (this.stamps.length && this.stamps[0]! <= t - this.windowMs) this.stamps.shift();
    if (this.stamps.length >= this.perHour) throw new BudgetExhausted(this.stamps[0]! + this.windowMs - t);
    this.stamps.push(t);
  }

  /** Linear refused with RATELIMITED: no request goes out before `untilMs`. */
  blockUntil(untilMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, untilMs);
  }

  get used(): number {
    const t = this.now();
    return this.stamps.filter((s) => s > t - this.windowMs).length;
  }
}
