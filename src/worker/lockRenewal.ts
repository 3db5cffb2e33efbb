/**
 * Lock renewal for one message lock or one session lock, while a handler runs (or a session is
 * held). The SDK's own auto-renewal is switched off (`maxAutoLockRenewalDurationInMs: 0`) so the
 * worker decides: issue 4 gates this on heartbeats and stall detection.
 *
 * Timing follows the SDK: renew when `min(remaining / 2, 10 s)` is left. A renewal that fails with
 * `MessageLockLost`/`SessionLockLost` aborts `lost` at once and stops; any other failure is retried
 * every second until a renewal succeeds, the broker reports the lock lost, or the lock has run out by
 * our clock (then `lost` is aborted with the last error).
 */
import { isServiceBusError } from "@azure/service-bus";
import { lastAttempt } from "../publisher/lastAttempt.js";
import { LazyAbortController } from "./lazyAbort.js";

export interface LockRenewalOptions {
  /** When the lock currently expires (undefined: unknown, renew soon). */
  readonly lockedUntil: () => Date | undefined;
  /** Renews and returns the new expiry. */
  readonly renew: () => Promise<Date | undefined>;
  /** Stop renewing after this long (Infinity: as long as the lock is held). */
  readonly maxRenewalMs: number;
  /** Asked before each renewal; false stops renewing for good (heartbeat gating, ./jobs/job.ts). */
  readonly shouldRenew?: () => boolean;
  readonly onRenewed?: () => void;
  readonly onLost?: (error: unknown) => void;
  /** A renewal failed for another reason (reported once per failure). */
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

export interface LockRenewal {
  /** Aborted when the lock is known lost; the reason is the broker's error. */
  readonly lost: AbortSignal;
  /** `lost.aborted`, without creating the signal (most renewals never need one). */
  readonly isLost: boolean;
  stop(): void;
}

const MAX_MARGIN_MS = 10_000;
const RETRY_MS = 1_000;
const EXPIRY_GRACE_MS = 2_000;

/** The broker's "lock lost", also as the last attempt of the AggregateError the SDK's retries end in. */
export function isLockLost(error: unknown): boolean {
  const last = lastAttempt(error);
  return isServiceBusError(last) && (last.code === "MessageLockLost" || last.code === "SessionLockLost");
}

const MIN_DELAY_AFTER_RENEWAL_MS = 1_000;

export function startLockRenewal(options: LockRenewalOptions): LockRenewal {
  // Destructured: the closures below keep these, not the caller's options literal (an object a
  // long-lived closure holds may be pretenured by V8, see docs/performance.md).
  const { lockedUntil, renew, shouldRenew, onRenewed, onLost, onError } = options;
  const now = options.now ?? Date.now;
  const lost = new LazyAbortController();
  const stopAt = now() + options.maxRenewalMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    if (now() + delayMs > stopAt) return; // renewal budget spent: let the lock run out
    // Whole seconds (rounded down: a little early) beyond 2 s: Node keeps one timer list per
    // distinct delay, and fractional delays computed per message would make a list for each.
    // setTimeout fires at once for delays beyond 2^31-1 ms; cap them.
    const ms = delayMs >= 2_000 ? Math.floor(delayMs / 1_000) * 1_000 : Math.max(0, Math.floor(delayMs));
    timer = setTimeout(() => void renewOnce(), Math.min(ms, 2 ** 31 - 1));
  };

  const nextDelay = (): number => {
    const until = lockedUntil()?.getTime();
    if (until === undefined || Number.isNaN(until)) return RETRY_MS;
    const remaining = until - now();
    return remaining - Math.min(remaining / 2, MAX_MARGIN_MS);
  };

  const renewOnce = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    if (shouldRenew && !shouldRenew()) {
      stopped = true; // a stalled or over-budget handler: let the lock run out
      return;
    }
    try {
      await renew();
      if (stopped) return;
      onRenewed?.();
      // Right after a renewal the lock has its full duration ahead; a shorter computed delay
      // means the broker's clock is behind ours, and renewing again at once would only spin.
      schedule(Math.max(nextDelay(), MIN_DELAY_AFTER_RENEWAL_MS));
    } catch (error) {
      if (stopped) return;
      const until = lockedUntil()?.getTime();
      // The broker said so, or we could not renew and the lock has run out by our clock (with a
      // grace for clock skew): either way the message is the broker's again, so stop the handler
      // rather than let it finish work whose settlement must fail.
      if (isLockLost(error) || (until !== undefined && now() >= until + EXPIRY_GRACE_MS)) {
        stopped = true;
        lost.abort(error);
        onLost?.(error);
        return;
      }
      onError?.(error);
      // Keep trying while the lock may still be held: the broker answers LockLost once it is not.
      schedule(RETRY_MS);
    }
  };

  schedule(nextDelay());
  return new Renewal(lost, () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  });
}

/**
 * A class, not an object literal with getters: V8 builds such a literal into old space, where its
 * pointers keep young per-message objects alive through minor GCs (see docs/performance.md).
 */
class Renewal implements LockRenewal {
  constructor(
    private readonly controller: LazyAbortController,
    readonly stop: () => void,
  ) {}

  get lost(): AbortSignal {
    return this.controller.signal;
  }

  get isLost(): boolean {
    return this.controller.aborted;
  }
}
