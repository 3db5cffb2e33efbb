/**
 * Sessions of one session-enabled entity: per session a ready queue (strict order), the
 * session state, and the exclusive session lock with its rules (accept, check, renew). A slot
 * exists while the session has messages, state or a lock holder, so `count()` is the number of
 * live sessions.
 */
import type { Clock } from "../clock.js";
import { BrokerError, Condition } from "./errors.js";
import type { StoredMessage } from "./message.js";
import { ReadyQueue } from "./ready-queue.js";

export interface SessionSlot {
  readonly id: string;
  readonly ready: ReadyQueue;
  state: Buffer | null;
  /** The receiver that holds the session lock. */
  owner: object | undefined;
  lockedUntil: number;
  cancelTimer: (() => void) | undefined;
  /** Messages of this session currently locked by the owner. */
  readonly locked: Set<StoredMessage>;
  messageCount: number;
}

export class SessionTable {
  private readonly slots = new Map<string, SessionSlot>();

  constructor(
    private readonly clock: Clock,
    private readonly onLockExpired: (slot: SessionSlot) => void,
  ) {}

  get(id: string): SessionSlot | undefined {
    return this.slots.get(id);
  }

  slot(id: string): SessionSlot {
    let s = this.slots.get(id);
    if (s === undefined) {
      s = {
        id,
        ready: new ReadyQueue(),
        state: null,
        owner: undefined,
        lockedUntil: 0,
        cancelTimer: undefined,
        locked: new Set(),
        messageCount: 0,
      };
      this.slots.set(id, s);
    }
    return s;
  }

  /** The first unlocked session (in creation order) for which `hasReady` holds. */
  nextAvailable(hasReady: (s: SessionSlot) => boolean): SessionSlot | undefined {
    const now = this.clock.now();
    for (const s of this.slots.values()) {
      if (s.owner !== undefined && s.lockedUntil > now) continue;
      if (hasReady(s)) return s;
    }
    return undefined;
  }

  lock(slot: SessionSlot, owner: object, durationMs: number): void {
    slot.cancelTimer?.();
    slot.owner = owner;
    slot.lockedUntil = this.clock.now() + durationMs;
    slot.cancelTimer = this.clock.setTimer(slot.lockedUntil, () => {
      if (slot.owner === owner) this.onLockExpired(slot);
    });
  }

  /**
   * Locks a session for `owner`: the given id, or the next one for which `hasReady` holds. A
   * lock held by another receiver that ran out is taken over (its holder loses it first, through
   * `onLockExpired`). Fails with session-cannot-be-locked when the given id is held by another
   * receiver. Returns undefined when no session is available (the caller long-polls).
   */
  accept(
    id: string | undefined,
    owner: object,
    durationMs: number,
    hasReady: (s: SessionSlot) => boolean,
  ): SessionSlot | undefined {
    const slot = id !== undefined ? this.slot(id) : this.nextAvailable(hasReady);
    if (slot === undefined) return undefined;
    if (slot.owner !== undefined && slot.owner !== owner && slot.lockedUntil > this.clock.now()) {
      throw new BrokerError(
        Condition.sessionCannotBeLocked,
        `The requested session '${slot.id}' cannot be accepted. It may be locked by another receiver.`,
      );
    }
    if (slot.owner !== undefined && slot.owner !== owner) this.onLockExpired(slot);
    this.lock(slot, owner, durationMs);
    return slot;
  }

  /** The session lock held by `owner` (by anyone, when undefined), or session-lock-lost. */
  held(id: string, owner: object | undefined): SessionSlot {
    const slot = this.slots.get(id);
    if (
      slot === undefined ||
      slot.owner === undefined ||
      (owner !== undefined && slot.owner !== owner) ||
      slot.lockedUntil <= this.clock.now()
    ) {
      throw new BrokerError(
        Condition.sessionLockLost,
        `The session lock on '${id}' was lost or is held by another receiver.`,
      );
    }
    return slot;
  }

  /** Renews a held session lock, and with it the locks of the session's locked messages. */
  renew(id: string, owner: object | undefined, durationMs: number): number {
    const slot = this.held(id, owner);
    this.lock(slot, slot.owner!, durationMs);
    for (const m of slot.locked) m.lockedUntil = slot.lockedUntil;
    return slot.lockedUntil;
  }

  unlock(slot: SessionSlot): void {
    slot.cancelTimer?.();
    slot.cancelTimer = undefined;
    slot.owner = undefined;
    slot.lockedUntil = 0;
    this.dropIfEmpty(slot);
  }

  added(id: string): void {
    this.slot(id).messageCount += 1;
  }

  forget(id: string, m: StoredMessage): void {
    const s = this.slots.get(id);
    if (s === undefined) return;
    s.locked.delete(m);
    s.messageCount = Math.max(0, s.messageCount - 1);
    this.dropIfEmpty(s);
  }

  setState(slot: SessionSlot, state: Buffer | null): void {
    slot.state = state;
    this.dropIfEmpty(slot);
  }

  private dropIfEmpty(s: SessionSlot): void {
    if (s.messageCount === 0 && s.state === null && s.owner === undefined) this.slots.delete(s.id);
  }

  ids(): IterableIterator<string> {
    return this.slots.keys();
  }

  count(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.messageCount > 0 || s.state !== null) n += 1;
    return n;
  }

  close(): void {
    for (const s of this.slots.values()) s.cancelTimer?.();
  }
}
