/**
 * Bounded retries of transient send failures. The SDK already retries each operation
 * (`retryOptions`); this outer loop covers what outlives those (a connection being re-established,
 * a throttled namespace). It is safe because the MessageId is fixed before the first attempt: a
 * send that reached the broker but whose answer was lost is dropped by duplicate detection.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import { isTransientSendError, toPublishError } from "./errors.js";

export interface RetryPolicy {
  /** Attempts in all (first included); default 3. */
  readonly maxAttempts: number;
  /** Full-jitter exponential backoff: random(0, min(maxDelayMs, baseDelayMs * 2^(n-1))). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

export interface RetrySeams {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Runs `send` until it succeeds, fails permanently, or attempts run out; throws a PublishError. */
export async function withRetries<T>(
  topic: string,
  send: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  seams: RetrySeams = {},
): Promise<T> {
  const sleep = seams.sleep ?? ((ms: number) => sleepFor(ms));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send(attempt);
    } catch (error) {
      if (!isTransientSendError(error) || attempt >= policy.maxAttempts)
        throw toPublishError(error, topic, attempt);
      await sleep(retryDelay(attempt, policy, seams.random));
    }
  }
}
