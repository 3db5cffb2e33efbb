/**
 * Items that fall due at a time of their own (scheduled messages, expiring messages), earliest
 * first, with one clock timer armed at the earliest. Entries may go stale (a message completed
 * before it expired): the owner skips those as `takeDue` hands them over.
 */
import type { Clock } from "../clock.js";
import { MinHeap } from "./heap.js";

export class TimedHeap<T> {
  private readonly heap: MinHeap<T>;
  private cancelTimer: (() => void) | undefined;
  /** When the armed timer fires; Infinity when none is armed. */
  private timerAt = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly dueAt: (item: T) => number,
    /** Called when the timer fires; it is expected to call `takeDue`. */
    private readonly onTimer: () => void,
  ) {
    this.heap = new MinHeap<T>((a, b) => dueAt(a) < dueAt(b));
  }

  add(item: T): void {
    this.heap.push(item);
    this.arm();
  }

  /** Pops every item due at `now`, earliest first, into `take`; then arms the timer for the next. */
  takeDue(now: number, take: (item: T) => void): void {
    for (
      let item = this.heap.peek();
      item !== undefined && this.dueAt(item) <= now;
      item = this.heap.peek()
    ) {
      this.heap.pop();
      take(item);
    }
    this.arm();
  }

  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = Infinity;
  }

  /** Re-arms only when the earliest item is due before the armed timer fires. */
  private arm(): void {
    const next = this.heap.peek();
    if (next === undefined || this.dueAt(next) >= this.timerAt) return;
    this.cancelTimer?.();
    this.timerAt = this.dueAt(next);
    this.cancelTimer = this.clock.setTimer(this.timerAt, () => {
      this.timerAt = Infinity;
      this.onTimer();
    });
  }
}
