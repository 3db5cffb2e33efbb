/**
 * The emulator's single source of time. Lock expiry, TTL, scheduled messages and the
 * duplicate-detection window all read `now()` and wait with `setTimer`, so a test can swap in a
 * `ManualClock` and advance time instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once `now()` has reached `at` (epoch ms). Returns a cancel function. */
  setTimer(at: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fn) {
    // setTimeout caps at 2^31-1 ms; longer waits re-arm.
    let handle: NodeJS.Timeout;
    const arm = (): void => {
      const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
      handle = setTimeout(() => (Date.now() >= at ? fn() : arm()), delay);
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

interface PendingTimer {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; timers fire in time order during `advance`. */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers: PendingTimer[] = [];

  constructor(start: number = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(at: number, fn: () => void): () => void {
    const timer: PendingTimer = { at, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves time forward by `ms`, firing due timers in order (timers they add fire too if due). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
    for (let i = this.timers.length - 1; i >= 0; i -= 1)
      if (this.timers[i]!.cancelled) this.timers.splice(i, 1);
  }

  /** Sets the time (forward only). */
  set(at: number): void {
    this.advance(Math.max(0, at - this.current));
  }
}
