/**
 * One queue, subscription or dead-letter sub-queue: the messages it holds and their states.
 *
 * States: active (in a ready queue, or locked by a receiver), deferred, scheduled. Each state
 * transition is one method, headed by its preconditions and the AMQP condition on failure.
 * Invariant: a message is in `messages` exactly while the entity holds it, and in at most one of
 * {a ready queue, `locks`}; ready queues may hold stale entries, which `isReady` filters out.
 */
import type { Clock } from "../clock.js";
import type { ReceivableSettings } from "../topology.js";
import { BrokerError, Condition, lockLost } from "./errors.js";
import { newLockToken } from "../amqp/guid.js";
import type { StoredMessage } from "./message.js";
import { patchApplicationProperties } from "./message.js";
import { ReadyQueue } from "./ready-queue.js";
import { SessionTable } from "./sessions.js";
import { TimedHeap } from "./timed-heap.js";
import type { SessionSlot } from "./sessions.js";

export type EntityKind = "queue" | "subscription" | "deadletter" | "transfer-deadletter";

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

export interface DeadLetterInfo {
  readonly reason: string | undefined;
  readonly description: string | undefined;
  readonly properties?: Record<string, unknown> | undefined;
}

export interface EntityContext {
  readonly clock: Clock;
  /** Where a dead-lettered message goes (the DLQ, or ForwardDeadLetteredMessagesTo). */
  deadLetter(from: Entity, m: StoredMessage): void;
}

export class Entity {
  readonly messages = new Map<number, StoredMessage>();
  /** Every enqueue so far had a higher sequence number than the last: `messages` is in order. */
  private seqOrdered = true;
  private maxSeq = -Infinity;
  /** Locked messages by lock token; entity-wide, since settlement may arrive on any link. */
  readonly locks = new Map<string, StoredMessage>();
  readonly sessions: SessionTable;
  private readonly ready = new ReadyQueue();
  private readonly targets: DeliveryTarget[] = [];
  /** Called after every pump: session receivers waiting for a session to become available. */
  readonly waiters = new Set<() => void>();
  private rotate = 0;
  private nextOrder = 1;
  private readonly expiries: TimedHeap<StoredMessage>;
  private readonly scheduled: TimedHeap<StoredMessage>;
  /** The dead-letter sub-queue (absent on the sub-queues themselves). */
  deadLetterQueue: Entity | undefined;
  transferDeadLetterQueue: Entity | undefined;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(
    readonly kind: EntityKind,
    /** Canonical address, e.g. `orders/Subscriptions/audit` or `q/$DeadLetterQueue`. */
    readonly path: string,
    public settings: ReceivableSettings,
    private readonly ctx: EntityContext,
  ) {
    this.sessions = new SessionTable(ctx.clock, (slot) => this.onSessionLockExpired(slot));
    this.expiries = new TimedHeap(
      ctx.clock,
      (m) => m.expiresAt,
      () => this.expireDue(),
    );
    this.scheduled = new TimedHeap(
      ctx.clock,
      (m) => m.scheduledAt!,
      () => this.activateDue(),
    );
  }

  get requiresSession(): boolean {
    return this.settings.requiresSession && this.kind !== "deadletter" && this.kind !== "transfer-deadletter";
  }

  private now(): number {
    return this.ctx.clock.now();
  }

  /**
   * Adds a message that is active now (or scheduled, when `m.state` is "scheduled").
   * Preconditions: `m.seq` is unique in this entity. Effects: ready for delivery, counted.
   */
  enqueue(m: StoredMessage): void {
    // Dead-lettered and forwarded messages keep their sequence numbers, so may arrive out of order.
    if (m.seq <= this.maxSeq) this.seqOrdered = false;
    this.maxSeq = Math.max(this.maxSeq, m.seq);
    this.messages.set(m.seq, m);
    if (m.sessionId !== undefined && this.requiresSession) this.sessions.added(m.sessionId);
    if (m.state === "scheduled") {
      this.scheduled.add(m);
      return;
    }
    this.activate(m);
  }

  private activate(m: StoredMessage): void {
    m.state = "active";
    m.order = this.nextOrder++;
    if (m.expiresAt !== Infinity && this.kind !== "deadletter") {
      this.expiries.add(m);
    }
    this.readyQueueFor(m).append(m);
    this.pump();
  }

  private readyQueueFor(m: StoredMessage): ReadyQueue {
    if (!this.requiresSession || m.sessionId === undefined) return this.ready;
    return this.sessions.slot(m.sessionId).ready;
  }

  private readonly isReady = (m: StoredMessage): boolean => {
    if (this.messages.get(m.seq) !== m || m.state !== "active" || m.lockToken !== undefined) return false;
    if (m.expiresAt <= this.now()) {
      this.expire(m);
      return false;
    }
    return true;
  };

  // ---- receivers -------------------------------------------------------------------------

  attach(target: DeliveryTarget): void {
    this.targets.push(target);
    this.pump();
  }

  detach(target: DeliveryTarget): void {
    const i = this.targets.indexOf(target);
    if (i >= 0) this.targets.splice(i, 1);
    if (target.sessionId !== undefined) this.releaseSession(target.sessionId, target.owner);
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
      const queue = target.sessionId === undefined ? this.ready : this.sessions.get(target.sessionId)?.ready;
      const m = queue?.take(this.isReady);
      if (m === undefined) {
        idle += 1;
        continue;
      }
      idle = 0;
      this.handOut(m, target);
    }
  }

  private handOut(m: StoredMessage, target: DeliveryTarget): void {
    if (target.receiveAndDelete) {
      this.remove(m);
      target.deliver(m, undefined);
      return;
    }
    const token = this.lock(m, target.sessionId);
    target.deliver(m, token);
  }

  /** Takes a peek-lock. For session messages the lock lives as long as the session lock. */
  private lock(m: StoredMessage, sessionId: string | undefined): string {
    const token = newLockToken();
    m.lockToken = token;
    this.locks.set(token, m);
    if (sessionId !== undefined) {
      const slot = this.sessions.get(sessionId)!;
      slot.locked.add(m);
      m.lockedUntil = slot.lockedUntil;
    } else {
      this.armLock(m);
    }
    return token;
  }

  private armLock(m: StoredMessage): void {
    m.cancelLockTimer?.();
    m.lockedUntil = this.now() + this.settings.lockDurationMs;
    m.cancelLockTimer = this.ctx.clock.setTimer(m.lockedUntil, () => {
      if (m.lockToken !== undefined && this.locks.get(m.lockToken) === m) this.giveUp(m, true, {});
    });
  }

  /**
   * Finds a locked message. Fails with message-lock-lost when the token is unknown or expired
   * (an expired lock is released on the spot, so the answer never depends on timer timing).
   */
  locked(token: string): StoredMessage {
    const m = this.locks.get(token);
    if (m === undefined) throw lockLost();
    if (m.sessionId !== undefined && this.requiresSession) {
      const slot = this.sessions.get(m.sessionId);
      if (!slot?.owner || slot.lockedUntil <= this.now()) {
        throw new BrokerError(Condition.sessionLockLost, `The session lock on '${m.sessionId}' was lost.`);
      }
      return m;
    }
    if (m.lockedUntil <= this.now()) {
      this.giveUp(m, true, {});
      throw lockLost();
    }
    return m;
  }

  private unlock(m: StoredMessage): void {
    if (m.lockToken !== undefined) this.locks.delete(m.lockToken);
    m.lockToken = undefined;
    m.cancelLockTimer?.();
    m.cancelLockTimer = undefined;
    if (m.sessionId !== undefined) this.sessions.get(m.sessionId)?.locked.delete(m);
  }

  // ---- settlement ------------------------------------------------------------------------

  /** complete: precondition a valid lock (else message-lock-lost); effect: the message is gone. */
  complete(token: string): void {
    this.remove(this.locked(token));
  }

  /** abandon: the lock is given up; delivery count +1; dead-lettered at MaxDeliveryCount. */
  abandon(token: string, properties: Record<string, unknown>): void {
    this.giveUp(this.locked(token), true, properties);
  }

  /** defer: the message stays, retrievable only by sequence number; delivery count +1. */
  defer(token: string, properties: Record<string, unknown>): void {
    const m = this.locked(token);
    this.unlock(m);
    patchApplicationProperties(m, properties);
    m.deliveryCount += 1;
    m.state = "deferred";
  }

  /** dead-letter: moves the message to the DLQ with reason and description. */
  deadLetterLocked(token: string, info: DeadLetterInfo): void {
    if (this.kind === "deadletter" || this.kind === "transfer-deadletter") {
      throw new BrokerError(
        Condition.notAllowed,
        "A message in a dead-letter queue cannot be dead-lettered.",
      );
    }
    this.deadLetter(this.locked(token), info);
  }

  /** Renews a message lock; fails with message-lock-lost when it already expired. */
  renew(token: string): number {
    const m = this.locked(token);
    if (m.sessionId !== undefined && this.requiresSession) return m.lockedUntil;
    this.armLock(m);
    return m.lockedUntil;
  }

  /** Lock given up without settlement (abandon or expiry): the message becomes available again. */
  private giveUp(m: StoredMessage, countDelivery: boolean, properties: Record<string, unknown>): void {
    this.unlock(m);
    patchApplicationProperties(m, properties);
    if (countDelivery) m.deliveryCount += 1;
    if (
      countDelivery &&
      m.deliveryCount >= this.settings.maxDeliveryCount &&
      this.kind !== "deadletter" &&
      this.kind !== "transfer-deadletter"
    ) {
      this.deadLetter(m, {
        reason: "MaxDeliveryCountExceeded",
        description: `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
      });
      return;
    }
    if (m.state === "deferred") return;
    this.readyQueueFor(m).giveBack(m);
    this.pump();
  }

  /** Removes the message from this entity and hands it to the dead-letter destination. */
  deadLetter(m: StoredMessage, info: DeadLetterInfo): void {
    this.remove(m);
    patchApplicationProperties(m, {
      ...(info.properties ?? {}),
      DeadLetterReason: info.reason ?? null,
      DeadLetterErrorDescription: info.description ?? null,
    });
    this.ctx.deadLetter(this, m);
  }

  remove(m: StoredMessage): void {
    this.unlock(m);
    this.messages.delete(m.seq);
    if (m.sessionId !== undefined && this.requiresSession) this.sessions.forget(m.sessionId, m);
  }

  // ---- deferred, scheduled and peeked messages ---------------------------------------------

  /** receive-by-sequence-number: only deferred messages qualify (message-not-found otherwise). */
  receiveDeferred(
    seqs: readonly number[],
    sessionId: string | undefined,
    deleteNow: boolean,
  ): StoredMessage[] {
    const found = seqs.map((seq) => {
      const m = this.messages.get(seq);
      if (
        m === undefined ||
        m.state !== "deferred" ||
        (sessionId !== undefined && m.sessionId !== sessionId)
      ) {
        throw new BrokerError(
          Condition.messageNotFound,
          `Failed to retrieve the message with sequence number ${seq}.`,
        );
      }
      if (m.lockToken !== undefined && this.locks.get(m.lockToken) === m && m.lockedUntil > this.now()) {
        throw new BrokerError(
          Condition.messageNotFound,
          `The message with sequence number ${seq} is locked.`,
        );
      }
      return m;
    });
    for (const m of found) {
      if (deleteNow) {
        this.remove(m);
      } else {
        this.unlock(m);
        m.lockToken = newLockToken();
        this.locks.set(m.lockToken, m);
        this.armLock(m);
      }
    }
    return found;
  }

  /** Cancels scheduled messages; unknown sequence numbers are ignored, as the service does. */
  cancelScheduled(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const m = this.messages.get(seq);
      if (m?.state === "scheduled") this.messages.delete(seq);
    }
  }

  /** Messages with seq >= from, in sequence order, for peek (no lock is taken). */
  peek(from: number, count: number, sessionId: string | undefined): StoredMessage[] {
    this.expireDue();
    const out: StoredMessage[] = [];
    const take = (m: StoredMessage): boolean => {
      if (m.seq < from || (sessionId !== undefined && m.sessionId !== sessionId)) return false;
      out.push(m);
      return out.length >= count;
    };
    if (this.seqOrdered) {
      // Insertion order is sequence order: no sort (workers peek idle sessions often).
      for (const m of this.messages.values()) if (take(m)) break;
      return out;
    }
    const seqs = [...this.messages.keys()].filter((s) => s >= from).sort((a, b) => a - b);
    for (const seq of seqs) if (take(this.messages.get(seq)!)) break;
    return out;
  }

  private activateDue(): void {
    this.scheduled.takeDue(this.now(), (m) => {
      if (this.messages.get(m.seq) !== m || m.state !== "scheduled") return;
      m.enqueuedAt = m.scheduledAt!;
      if (m.ttlMs !== undefined) m.expiresAt = m.enqueuedAt + m.ttlMs;
      this.activate(m);
    });
  }

  // ---- time to live ------------------------------------------------------------------------

  /** Expires every due message that is not locked (a locked one expires when its lock ends). */
  expireDue(): void {
    const now = this.now();
    this.activateDue();
    this.expiries.takeDue(now, (m) => {
      if (this.messages.get(m.seq) === m && m.lockToken === undefined && m.state === "active") this.expire(m);
    });
  }

  private expire(m: StoredMessage): void {
    if (this.settings.deadLetteringOnMessageExpiration) {
      this.deadLetter(m, {
        reason: "TTLExpiredException",
        description: "The message expired and was dead lettered.",
      });
    } else {
      this.remove(m);
    }
  }

  // ---- sessions ------------------------------------------------------------------------------

  /**
   * Locks a session for `owner`: the given id, or the next one with ready messages.
   * Fails with session-cannot-be-locked when the given id is held by another receiver.
   * Returns undefined when no session is available (the caller long-polls).
   */
  acceptSession(sessionId: string | undefined, owner: object): SessionSlot | undefined {
    this.expireDue();
    const slot =
      sessionId !== undefined
        ? this.sessions.slot(sessionId)
        : this.sessions.nextAvailable((s) => s.ready.hasReady(this.isReady));
    if (slot === undefined) return undefined;
    if (slot.owner !== undefined && slot.owner !== owner && slot.lockedUntil > this.now()) {
      throw new BrokerError(
        Condition.sessionCannotBeLocked,
        `The requested session '${slot.id}' cannot be accepted. It may be locked by another receiver.`,
      );
    }
    if (slot.owner !== undefined && slot.owner !== owner) this.onSessionLockExpired(slot);
    this.sessions.lock(slot, owner, this.settings.lockDurationMs);
    return slot;
  }

  /** The session lock held by `owner`, or session-lock-lost. */
  heldSession(sessionId: string, owner: object | undefined): SessionSlot {
    const slot = this.sessions.get(sessionId);
    if (
      slot === undefined ||
      slot.owner === undefined ||
      (owner !== undefined && slot.owner !== owner) ||
      slot.lockedUntil <= this.now()
    ) {
      throw new BrokerError(
        Condition.sessionLockLost,
        `The session lock on '${sessionId}' was lost or is held by another receiver.`,
      );
    }
    return slot;
  }

  renewSession(sessionId: string, owner: object | undefined): number {
    const slot = this.heldSession(sessionId, owner);
    this.sessions.lock(slot, slot.owner!, this.settings.lockDurationMs);
    for (const m of slot.locked) m.lockedUntil = slot.lockedUntil;
    return slot.lockedUntil;
  }

  /** The receiver closed: its session and the locks of that session's messages are released. */
  releaseSession(sessionId: string, owner: object): void {
    const slot = this.sessions.get(sessionId);
    if (slot?.owner !== owner) return;
    this.releaseSessionMessages(slot, false);
    this.sessions.unlock(slot);
    this.pump();
  }

  private releaseSessionMessages(slot: SessionSlot, countDelivery: boolean): void {
    for (const m of [...slot.locked]) this.giveUp(m, countDelivery, {});
  }

  private onSessionLockExpired(slot: SessionSlot): void {
    const owner = slot.owner;
    this.releaseSessionMessages(slot, true);
    this.sessions.unlock(slot);
    for (const t of this.targets) if (t.owner === owner) t.sessionLockLost(slot.id);
    this.pump();
  }

  // ---- counts --------------------------------------------------------------------------------

  counts(): { active: number; locked: number; scheduled: number; deferred: number; sessions: number } {
    this.expireDue();
    let active = 0;
    let scheduled = 0;
    let deferred = 0;
    for (const m of this.messages.values()) {
      if (m.state === "scheduled") scheduled += 1;
      else if (m.state === "deferred") deferred += 1;
      else if (m.lockToken === undefined) active += 1;
    }
    let locked = 0;
    for (const m of this.locks.values()) if (m.state === "active") locked += 1;
    return { active, locked, scheduled, deferred, sessions: this.sessions.count() };
  }

  close(): void {
    this.closed = true;
    this.expiries.close();
    this.scheduled.close();
    for (const m of this.locks.values()) m.cancelLockTimer?.();
    this.sessions.close();
  }
}
