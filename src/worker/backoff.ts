/** Capped exponential backoff with full jitter (see the AWS Architecture Blog, "Exponential Backoff And Jitter"). */

export interface BackoffOptions {
  /** Delay ceiling of the first retry; doubles per attempt. */
  readonly baseMs: number;
  /** No delay ceiling exceeds this. */
  readonly maxMs: number;
}

/** The ceiling before jitter for the retry after `attempt` (1-based): min(max, base * 2^(attempt-1)). */
export function backoffCeiling(attempt: number, options: BackoffOptions): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows to Infinity for huge attempts; min() keeps it capped.
  return Math.min(options.maxMs, options.baseMs * 2 ** exponent);
}

/**
 * Full jitter: a uniformly random delay in [0, ceiling). `random` is a seam for tests
 * (it must return a number in [0, 1), like `Math.random`).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}
