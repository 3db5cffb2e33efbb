/**
 * What the administration API reports beyond the topology: timestamps, pass-through properties
 * the broker does not act on (Status, UserMetadata, MaxSizeInMegabytes...), and runtime counts
 * computed from the same `Entity.counts()` that `snapshot()` uses.
 *
 * Count mapping (Service Bus semantics): ActiveMessageCount counts every message in the active
 * state, i.e. snapshot `active + locked + deferred` (the service counts locked and deferred
 * messages as active); DeadLetterMessageCount is snapshot `deadLettered`; ScheduledMessageCount is
 * snapshot `scheduled`; TransferDeadLetterMessageCount counts `$Transfer/$DeadLetterQueue`;
 * TransferMessageCount is always 0 (forwarding happens synchronously on send).
 */
import type { Clock } from "../clock.js";
import type { Entity } from "../broker/entity.js";
import type { Topic } from "../broker/namespace.js";

export interface EntityMeta {
  createdAt: number;
  updatedAt: number;
  /** Properties echoed back as given (element name to text). */
  extras: Record<string, string>;
}

/** Timestamps and pass-through properties, keyed by the broker's own objects. */
export class MetaStore {
  private readonly map = new WeakMap<object, EntityMeta>();

  constructor(
    private readonly clock: Clock,
    /** Entities from Config.json count as created when the emulator started. */
    private readonly startedAt: number,
  ) {}

  get(key: object): EntityMeta {
    let m = this.map.get(key);
    if (m === undefined) {
      m = { createdAt: this.startedAt, updatedAt: this.startedAt, extras: {} };
      this.map.set(key, m);
    }
    return m;
  }

  created(key: object, extras: Record<string, string>): EntityMeta {
    const now = this.clock.now();
    const m: EntityMeta = { createdAt: now, updatedAt: now, extras };
    this.map.set(key, m);
    return m;
  }

  /** Records an update; `from` carries over the creation time when the key object changed. */
  updated(key: object, extras: Record<string, string>, from: object = key): EntityMeta {
    const previous = this.get(from);
    const m: EntityMeta = {
      createdAt: previous.createdAt,
      updatedAt: this.clock.now(),
      extras: { ...previous.extras, ...extras },
    };
    this.map.set(key, m);
    return m;
  }
}

export interface RuntimeCounts {
  readonly active: number;
  readonly deadLetter: number;
  readonly scheduled: number;
  readonly transfer: number;
  readonly transferDeadLetter: number;
  /** All messages the entity holds, its dead-letter sub-queues included. */
  readonly messageCount: number;
  readonly sizeInBytes: number;
  /** The latest enqueue time among held messages (0 when none). */
  readonly lastEnqueuedAt: number;
}

function held(e: Entity | undefined): number {
  if (e === undefined) return 0;
  const c = e.counts();
  return c.active + c.locked + c.deferred + c.scheduled;
}

function bytes(e: Entity | undefined): { size: number; last: number } {
  let size = 0;
  let last = 0;
  for (const m of e?.messages.values() ?? []) {
    size += m.size;
    last = Math.max(last, m.enqueuedAt);
  }
  return { size, last };
}

export function receivableRuntime(e: Entity): RuntimeCounts {
  const c = e.counts();
  const active = c.active + c.locked + c.deferred;
  const deadLetter = held(e.deadLetterQueue);
  const transferDeadLetter = held(e.transferDeadLetterQueue);
  const parts = [e, e.deadLetterQueue, e.transferDeadLetterQueue].map(bytes);
  return {
    active,
    deadLetter,
    scheduled: c.scheduled,
    transfer: 0,
    transferDeadLetter,
    messageCount: active + c.scheduled + deadLetter + transferDeadLetter,
    sizeInBytes: parts.reduce((n, p) => n + p.size, 0),
    lastEnqueuedAt: Math.max(...parts.map((p) => p.last)),
  };
}

/** A topic holds only its scheduled messages; its size is that of its subscriptions' messages. */
export function topicRuntime(t: Topic): RuntimeCounts & { readonly subscriptionCount: number } {
  let size = 0;
  let last = 0;
  for (const s of t.subscriptions.values()) {
    const r = receivableRuntime(s.entity);
    size += r.sizeInBytes;
    last = Math.max(last, r.lastEnqueuedAt);
  }
  return {
    active: 0,
    deadLetter: 0,
    scheduled: t.scheduled.size,
    transfer: 0,
    transferDeadLetter: 0,
    messageCount: t.scheduled.size,
    sizeInBytes: size,
    lastEnqueuedAt: last,
    subscriptionCount: t.subscriptions.size,
  };
}
