/**
 * One queue, subscription or dead-letter sub-queue: the messages it holds and their states.
 *
 * States: active (in a ready queue, or locked by a receiver), deferred, scheduled. Each state
 * transition is one method, headed by its preconditions and the AMQP condition on failure.
 * Invariant: a message is in `messages` exactly while the entity holds it, and in at most one of
 * {a ready queue, `locks`}; ready queues may hold stale entries, which `isReady` filters out.
 * Helpers this file drives: lock bookkeeping (locks.ts), the receiver pump (delivery.ts), the
 * session-lock rules (sessions.ts) and read-only lookups such as peek and counts (browse.ts).
 */
import type { Clock } from "../clock.js";
import type { ReceivableSettings } from "../topology.js";
import { countMessages, findDeferred, peekMessages } from "./browse.js";
import type { EntityCounts } from "./browse.js";
import { Dispatcher } from "./delivery.js";
import type { DeliveryTarget } from "./delivery.js";
import { BrokerError, Condition } from "./errors.js";
import { MessageLocks } from "./locks.js";
import type { StoredMessage } from "./message.js";
import { patchApplicationProperties } from "./message.js";
import { ReadyQueue } from "./ready-queue.js";
import { SessionTable } from "./sessions.js";
import { TimedHeap } from "./timed-heap.js";
import type { SessionSlot } from "./sessions.js";

export type EntityKind = "queue" | "subscription" | "deadletter" | "transfer-deadletter";

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
  /** Peek-locked messages by lock token. */
  readonly locks: MessageLocks;
  readonly sessions: SessionTable;
  private readonly ready = new ReadyQueue();
  private readonly receivers: Dispatcher;
  private nextOrder = 1;
  private readonly expiries: TimedHeap<StoredMessage>;
  private readonly scheduled: TimedHeap<StoredMessage>;
  /** The dead-letter sub-queue (absent on the sub-queues themselves). */
  deadLetterQueue: Entity | undefined;
  transferDeadLetterQueue: Entity | undefined;

  constructor(
    readonly kind: EntityKind,
    /** Canonical address, e.g. `orders/Subscriptions/audit` or `q/$DeadLetterQueue`. */
    readonly path: string,
    public settings: ReceivableSettings,
    private readonly ctx: EntityContext,
  ) {
    this.sessions = new SessionTable(ctx.clock, (slot) => this.onSessionLockExpired(slot));
    this.locks = new MessageLocks({
      clock: ctx.clock,
      sessions: this.sessions,
      lockDurationMs: () => this.settings.lockDurationMs,
      viaSession: () => this.requiresSession,
      expired: (m) => this.giveUp(m, true, {}),
    });
    this.receivers = new Dispatcher({
      readyFor: (t) => (t.sessionId === undefined ? this.ready : this.sessions.get(t.sessionId)?.ready),
      isReady: this.isReady,
      handOut: (m, t) => this.handOut(m, t),
    });
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
    this.receivers.add(target);
    this.pump();
  }

  detach(target: DeliveryTarget): void {
    this.receivers.remove(target);
    if (target.sessionId !== undefined) this.releaseSession(target.sessionId, target.owner);
  }

  /** Session receivers waiting for a session to become available, called after every pump. */
  get waiters(): Set<() => void> {
    return this.receivers.waiters;
  }

  /** Hands ready messages to receivers with credit, round robin. Re-entrant calls coalesce. */
  pump(): void {
    this.receivers.pump();
  }

  private handOut(m: StoredMessage, target: DeliveryTarget): void {
    if (target.receiveAndDelete) {
      this.remove(m);
      target.deliver(m, undefined);
      return;
    }
    const token = this.locks.lock(m, target.sessionId);
    target.deliver(m, token);
  }

  // ---- settlement ------------------------------------------------------------------------

  /** complete: precondition a valid lock (else message-lock-lost); effect: the message is gone. */
  complete(token: string): void {
    this.remove(this.locks.locked(token));
  }

  /** abandon: the lock is given up; delivery count +1; dead-lettered at MaxDeliveryCount. */
  abandon(token: string, properties: Record<string, unknown>): void {
    this.giveUp(this.locks.locked(token), true, properties);
  }

  /** defer: the message stays, retrievable only by sequence number; delivery count +1. */
  defer(token: string, properties: Record<string, unknown>): void {
    const m = this.locks.locked(token);
    this.locks.unlock(m);
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
    this.deadLetter(this.locks.locked(token), info);
  }

  /** Renews a message lock; fails with message-lock-lost when it already expired. */
  renew(token: string): number {
    const m = this.locks.locked(token);
    if (m.sessionId !== undefined && this.requiresSession) return m.lockedUntil;
    this.locks.arm(m);
    return m.lockedUntil;
  }

  /** Lock given up without settlement (abandon or expiry): the message becomes available again. */
  private giveUp(m: StoredMessage, countDelivery: boolean, properties: Record<string, unknown>): void {
    this.locks.unlock(m);
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
    this.locks.unlock(m);
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
    const isLocked = (m: StoredMessage): boolean => this.locks.holds(m) && m.lockedUntil > this.now();
    const found = findDeferred(this.messages, seqs, sessionId, isLocked);
    for (const m of found) {
      if (deleteNow) {
        this.remove(m);
      } else {
        this.locks.unlock(m);
        this.locks.lock(m, undefined);
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
    return peekMessages(this.messages, this.seqOrdered, from, count, sessionId);
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
    const hasReady = (s: SessionSlot): boolean => s.ready.hasReady(this.isReady);
    return this.sessions.accept(sessionId, owner, this.settings.lockDurationMs, hasReady);
  }

  /** The session lock held by `owner`, or session-lock-lost. */
  heldSession(sessionId: string, owner: object | undefined): SessionSlot {
    return this.sessions.held(sessionId, owner);
  }

  renewSession(sessionId: string, owner: object | undefined): number {
    return this.sessions.renew(sessionId, owner, this.settings.lockDurationMs);
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
    this.receivers.sessionLockLost(owner, slot.id);
    this.pump();
  }

  // ---- counts --------------------------------------------------------------------------------

  counts(): EntityCounts {
    this.expireDue();
    return countMessages(this.messages.values(), this.locks.values(), this.sessions.count());
  }

  close(): void {
    this.receivers.close();
    this.expiries.close();
    this.scheduled.close();
    this.locks.close();
    this.sessions.close();
  }
}
