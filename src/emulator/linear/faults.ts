// Faults a test or demo injects into the emulator: bursts of 5xx answers, slow answers and a
// request-rate limit answered as Linear does (`RATELIMITED` with `X-RateLimit-*` headers).

export interface StatusFault {
  status: number;
  /** How many matching requests fail before the fault is used up. */
  count: number;
  /** Only requests whose root fields include one of these (e.g. `agentActivityCreate`). */
  operations?: string[];
  /** The request is carried out, then answered with the failure: a response lost on the way
   *  back, after which a client retries what already happened. */
  lostResponse?: boolean;
}

export interface LatencyFault {
  ms: number;
  count: number;
  operations?: string[];
}

export interface RateLimitConfig {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

const matches = (ops: string[] | undefined, rootFields: string[]) => !ops?.length || rootFields.some((f) => ops.includes(f));

export class FaultPlan {
  private statusFaults: StatusFault[] = [];
  private latencyFaults: LatencyFault[] = [];
  private rateLimit?: RateLimitConfig;
  private windowStart = Date.now();
  private used = 0;

  constructor(rateLimit?: RateLimitConfig) {
    this.setRateLimit(rateLimit);
  }

  injectStatus(fault: StatusFault): void {
    if (fault.status < 500 || fault.status > 599) throw new Error(`A status fault must be a 5xx status, not ${fault.status}`);
    this.statusFaults.push({ ...fault });
  }

  injectLatency(fault: LatencyFault): void {
    this.latencyFaults.push({ ...fault });
  }

  setRateLimit(config: RateLimitConfig | undefined): void {
    this.rateLimit = config;
    this.windowStart = Date.now();
    this.used = 0;
  }

  clear(): void {
    this.statusFaults = [];
    this.latencyFaults = [];
  }

  takeStatus(rootFields: string[]): { status: number; lostResponse: boolean } | undefined {
    const f = this.statusFaults.find((x) => x.count > 0 && matches(x.operations, rootFields));
    if (!f) return undefined;
    f.count -= 1;
    return { status: f.status, lostResponse: Boolean(f.lostResponse) };
  }

  takeLatency(rootFields: string[]): number {
    const f = this.latencyFaults.find((x) => x.count > 0 && matches(x.operations, rootFields));
    if (!f) return 0;
    f.count -= 1;
    return f.ms;
  }

  /** Counts one request against the limit; `allowed: false` when over it. */
  takeRequest(): { allowed: boolean; headers: Record<string, string> } {
    if (!this.rateLimit) {
      return { allowed: true, headers: { 'X-RateLimit-Requests-Limit': '5000', 'X-RateLimit-Requests-Remaining': '5000', 'X-RateLimit-Requests-Reset': String(Date.now() + 3_600_000) } };
    }
    const now = Date.now();
    if (now - this.windowStart >= this.rateLimit.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    const allowed = this.used < this.rateLimit.limit;
    if (allowed) this.used += 1;
    return {
      allowed,
      headers: {
        'X-RateLimit-Requests-Limit': String(this.rateLimit.limit),
        'X-RateLimit-Requests-Remaining': String(Math.max(0, this.rateLimit.limit - this.used)),
        // Linear gives the reset as a UTC epoch in milliseconds.
        'X-RateLimit-Requests-Reset': String(this.windowStart + this.rateLimit.windowMs),
      },
    };
  }
}
