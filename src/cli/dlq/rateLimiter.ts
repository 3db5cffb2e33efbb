/**
 * `--rate <msgs/s>`: evenly spaced sends (no bursts), so a replay does not flood the consumers
 * that just recovered. The clock and the sleep are parameters, so tests drive time by hand.
 */
export interface LimiterClock {
  now(): number;
  /** Resolves after `ms`, or rejects early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemLimiterClock: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

export class RateLimiter {
  private readonly intervalMs: number;
  private nextAt = Number.NEGATIVE_INFINITY;

  /** `ratePerSecond` undefined: no limit. */
  constructor(
    ratePerSecond: number | undefined,
    private readonly clock: LimiterClock = systemLimiterClock,
  ) {
    this.intervalMs = ratePerSecond === undefined ? 0 : 1000 / ratePerSecond;
  }

  /**
   * Waits for the next slot. Slots are reserved in call order, so concurrent callers are spaced
   * out too. Rejects with the signal's reason when it aborts while waiting (the slot is lost).
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = this.clock.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    if (at > now) await this.clock.sleep(at - now, signal);
  }
}
