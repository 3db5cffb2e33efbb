/**
 * The peek-locks of one entity's messages, by lock token: taking a lock, its expiry timer, the
 * validity check every settlement and renewal starts with, and release. Kept apart from
 * entity.ts because lock bookkeeping is one concern with its own invariant (a message is in the
 * table exactly while `m.lockToken` names it); what an expired lock means is the entity's call.
 */
import type { Clock } from "../clock.js";
import { newLockToken } from "../amqp/guid.js";
import { BrokerError, Condition, lockLost } from "./errors.js";
import type { StoredMessage } from "./message.js";
import type { SessionTable } from "./sessions.js";

export interface LockOptions {
  readonly clock: Clock;
  readonly sessions: SessionTable;
  /** The entity's lock duration now (read at every lock, since an update may change it). */
  lockDurationMs(): number;
  /** Whether session messages are locked through their session lock (the entity requires sessions). */
  viaSession(): boolean;
  /** A lock ran out before settlement: the entity gives the message up. */
  expired(m: StoredMessage): void;
}

/** Locked messages by lock token; entity-wide, since settlement may arrive on any link. */
export class MessageLocks {
  private readonly byToken = new Map<string, StoredMessage>();

  constructor(private readonly o: LockOptions) {}

  /** Takes a peek-lock. For session messages the lock lives as long as the session lock. */
  lock(m: StoredMessage, sessionId: string | undefined): string {
    const token = newLockToken();
    m.lockToken = token;
    this.byToken.set(token, m);
    if (sessionId !== undefined) {
      const slot = this.o.sessions.get(sessionId)!;
      slot.locked.add(m);
      m.lockedUntil = slot.lockedUntil;
    } else {
      this.arm(m);
    }
    return token;
  }

  /** (Re)starts the lock duration and expiry timer of a message locked on its own. */
  arm(m: StoredMessage): void {
    m.cancelLockTimer?.();
    m.lockedUntil = this.o.clock.now() + this.o.lockDurationMs();
    m.cancelLockTimer = this.o.clock.setTimer(m.lockedUntil, () => {
      if (this.holds(m)) this.o.expired(m);
    });
  }

  /** True while `m` is locked under its current token (its lock may have run out meanwhile). */
  holds(m: StoredMessage): boolean {
    return m.lockToken !== undefined && this.byToken.get(m.lockToken) === m;
  }

  /**
   * Finds a locked message. Fails with message-lock-lost when the token is unknown or expired
   * (an expired lock is released on the spot, so the answer never depends on timer timing).
   */
  locked(token: string): StoredMessage {
    const m = this.byToken.get(token);
    if (m === undefined) throw lockLost();
    if (m.sessionId !== undefined && this.o.viaSession()) {
      const slot = this.o.sessions.get(m.sessionId);
      if (!slot?.owner || slot.lockedUntil <= this.o.clock.now()) {
        throw new BrokerError(Condition.sessionLockLost, `The session lock on '${m.sessionId}' was lost.`);
      }
      return m;
    }
    if (m.lockedUntil <= this.o.clock.now()) {
      this.o.expired(m);
      throw lockLost();
    }
    return m;
  }

  unlock(m: StoredMessage): void {
    if (m.lockToken !== undefined) this.byToken.delete(m.lockToken);
    m.lockToken = undefined;
    m.cancelLockTimer?.();
    m.cancelLockTimer = undefined;
    if (m.sessionId !== undefined) this.o.sessions.get(m.sessionId)?.locked.delete(m);
  }

  values(): IterableIterator<StoredMessage> {
    return this.byToken.values();
  }

  close(): void {
    for (const m of this.byToken.values()) m.cancelLockTimer?.();
  }
}
