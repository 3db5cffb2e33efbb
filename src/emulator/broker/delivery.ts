/**
 * The receiver side of an entity: the links attached to it and the pump that hands ready
 * messages to those with credit, round robin. Kept apart from entity.ts, which decides what is
 * ready and what handing out means (lock or remove); this file only decides who gets it next.
 */
import type { StoredMessage } from "./message.js";
import type { ReadyQueue } from "./ready-queue.js";

/** A receiver link as the broker sees it. */
export interface DeliveryTarget {
  /** Identifies the receiver as a session lock holder (the link itself). */
  readonly owner: object;
  /** The session this receiver holds; undefined for a plain receiver. */
  readonly sessionId: string | undefined;
  readonly receiveAndDelete: boolean;
  credit(): number;
  deliver(m: StoredMessage, lockToken: string | undefined): void;
  /** The session lock expired: the link must be detached with session-lock-lost. */
  sessionLockLost(sessionId: string): void;
}

/** What the dispatcher asks of its entity. */
export interface DeliverySource {
  /** The ready queue `target` draws from: the entity's, or its session's (undefined when none). */
  readyFor(target: DeliveryTarget): ReadyQueue | undefined;
  /** False for ready-queue entries that went stale; see `Entity.isReady`. */
  readonly isReady: (m: StoredMessage) => boolean;
  /** Locks `m` for `target` (or removes it, receive-and-delete) and delivers it. */
  handOut(m: StoredMessage, target: DeliveryTarget): void;
}

export class Dispatcher {
  private readonly targets: DeliveryTarget[] = [];
  /** Called after every pump: session receivers waiting for a session to become available. */
  readonly waiters = new Set<() => void>();
  private rotate = 0;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(private readonly source: DeliverySource) {}

  add(target: DeliveryTarget): void {
    this.targets.push(target);
  }

  remove(target: DeliveryTarget): void {
    const i = this.targets.indexOf(target);
    if (i >= 0) this.targets.splice(i, 1);
  }

  /** The session lock of `owner` on `sessionId` expired: tells each of its links. */
  sessionLockLost(owner: object | undefined, sessionId: string): void {
    for (const t of this.targets) if (t.owner === owner) t.sessionLockLost(sessionId);
  }

  /** Hands ready messages to receivers with credit, round robin. Re-entrant calls coalesce. */
  pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    for (const retry of [...this.waiters]) retry();
  }

  private pumpOnce(): void {
    let idle = 0;
    while (this.targets.length > 0 && idle < this.targets.length) {
      this.rotate = (this.rotate + 1) % this.targets.length;
      const target = this.targets[this.rotate]!;
      if (target.credit() <= 0) {
        idle += 1;
        continue;
      }
      const m = this.source.readyFor(target)?.take(this.source.isReady);
      if (m === undefined) {
        idle += 1;
        continue;
      }
      idle = 0;
      this.source.handOut(m, target);
    }
  }

  /** Stops pumping for good (the entity is closed). */
  close(): void {
    this.closed = true;
  }
}
