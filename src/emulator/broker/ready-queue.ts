/**
 * The messages of one queue, subscription or session that a receiver may take now, in order.
 * New messages append to a FIFO; messages that come back (abandoned, lock expired) go into a
 * heap keyed by their original order, so they are redelivered before anything newer: strict
 * order within a session depends on this.
 */
import { MinHeap } from "./heap.js";
import type { StoredMessage } from "./message.js";

export class ReadyQueue {
  private fifo: StoredMessage[] = [];
  private head = 0;
  private readonly returned = new MinHeap<StoredMessage>((a, b) => a.order < b.order);

  /** Approximate length (may include entries that went stale). */
  get length(): number {
    return this.fifo.length - this.head + this.returned.size;
  }

  append(m: StoredMessage): void {
    this.fifo.push(m);
  }

  giveBack(m: StoredMessage): void {
    this.returned.push(m);
  }

  /** Removes and returns the next entry for which `valid` holds, dropping stale ones. */
  take(valid: (m: StoredMessage) => boolean): StoredMessage | undefined {
    for (;;) {
      const a = this.fifo[this.head];
      const b = this.returned.peek();
      let next: StoredMessage | undefined;
      if (a !== undefined && (b === undefined || a.order < b.order)) {
        next = a;
        this.fifo[this.head] = undefined as unknown as StoredMessage;
        this.head += 1;
        if (this.head > 1024 && this.head * 2 > this.fifo.length) {
          this.fifo = this.fifo.slice(this.head);
          this.head = 0;
        }
      } else if (b !== undefined) {
        next = this.returned.pop();
      } else {
        return undefined;
      }
      if (next !== undefined && valid(next)) return next;
    }
  }

  /** True when a valid entry exists; drops stale entries at the front. */
  hasReady(valid: (m: StoredMessage) => boolean): boolean {
    const m = this.take(valid);
    if (m === undefined) return false;
    this.returned.push(m);
    return true;
  }
}
