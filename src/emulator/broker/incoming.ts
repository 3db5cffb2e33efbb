/**
 * An incoming message on its way into the namespace (./namespace.ts): its bare bytes, encoded
 * once and shared by every copy; the MessageId the broker stamps when the client sent none; the
 * header fields, schedule and TTL it asks for; the stored form it takes in a queue or
 * subscription; and the decoded form of a stored message.
 */
import { randomBytes } from "node:crypto";
import type { AmqpMessage } from "../amqp/rhea.js";
import { bareFromEncoded, decodeBare, encodeBare } from "./message.js";
import type { StoredMessage } from "./message.js";
import type { SlabAllocator } from "./slab.js";

/** An incoming message: decoded, and the encoded bytes when the client sent them in a batch. */
export interface Incoming {
  decoded: AmqpMessage;
  readonly raw: Buffer | undefined;
  /** The bare sections, encoded once and reused for every copy. */
  bare?: Buffer | undefined;
  /** The broker assigned the MessageId (the client sent none). */
  stampedId?: boolean;
  /** `decoded` holds the head only (no body); `raw` has the whole message. */
  partial?: boolean;
}

/** The bare sections of `m`, encoded on first use and kept for the next copy. */
export function bareOf(m: Incoming, slabs: SlabAllocator): Buffer {
  m.bare ??=
    m.raw !== undefined
      ? bareFromEncoded(m.raw, m.decoded, m.stampedId === true, slabs)
      : encodeBare(m.decoded, slabs);
  return m.bare;
}

/** The client's header fields (rhea flattens them onto the message); delivery count is ours. */
export function headerOf(d: AmqpMessage): StoredMessage["header"] {
  if (
    d.durable === undefined &&
    d.priority === undefined &&
    d.ttl === undefined &&
    d.first_acquirer === undefined
  ) {
    return undefined;
  }
  const h: NonNullable<StoredMessage["header"]> = {};
  if (d.durable !== undefined) h.durable = d.durable;
  if (d.priority !== undefined) h.priority = d.priority;
  if (d.ttl !== undefined) h.ttl = d.ttl;
  if (d.first_acquirer !== undefined) h.first_acquirer = d.first_acquirer;
  return h;
}

export function scheduledTime(d: AmqpMessage): number | undefined {
  const v = d.message_annotations?.["x-opt-scheduled-enqueue-time"];
  if (v instanceof Date) return v.getTime();
  return typeof v === "number" ? v : undefined;
}

export function minTtl(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * The JS SDK sends no message-id on plain sends; the service stamps one, so do we. MessageIds the
 * broker assigns: 32 hex characters, a random prefix and a counter (no crypto per message). */
export class MessageIds {
  private readonly prefix = randomBytes(8).toString("hex");
  private counter = 0;
  next(): string {
    this.counter += 1;
    return this.prefix + this.counter.toString(16).padStart(16, "0");
  }
}

export function ensureMessageId(m: Incoming, ids: MessageIds): string {
  if (m.decoded.message_id === undefined || m.decoded.message_id === null) {
    m.decoded.message_id = ids.next();
    m.stampedId = true; // The stored bytes must carry the new id (see bareOf).
    m.bare = undefined;
  }
  return messageIdString(m.decoded.message_id);
}

export function messageIdString(id: unknown): string {
  if (Buffer.isBuffer(id) && id.length === 16) {
    const h = id.toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return String(id);
}

/**
 * The stored form of `m` as sequence number `seq` of its entity: scheduled when `scheduledAt`
 * is given (and enqueued then), with the shorter of the header TTL and the entity's default.
 */
export function toStored(
  m: Incoming,
  slabs: SlabAllocator,
  seq: number,
  now: number,
  scheduledAt: number | undefined,
  defaultTtl: number | undefined,
  hops: number,
): StoredMessage {
  const d = m.decoded;
  const rest = bareOf(m, slabs);
  const ttlFromHeader = typeof d.ttl === "number" && d.ttl > 0 ? d.ttl : undefined;
  const ttlMs =
    ttlFromHeader === undefined
      ? defaultTtl
      : defaultTtl === undefined
        ? ttlFromHeader
        : Math.min(ttlFromHeader, defaultTtl);
  const enqueuedAt = scheduledAt ?? now;
  const annotations = d.message_annotations;
  return {
    seq,
    order: 0,
    messageId: messageIdString(d.message_id),
    sessionId: d.group_id,
    header: headerOf(d),
    annotations: annotations && Object.keys(annotations).length > 0 ? annotations : undefined,
    rest,
    size: rest.length,
    enqueuedAt,
    expiresAt: ttlMs === undefined ? Infinity : enqueuedAt + ttlMs,
    ttlMs,
    deliveryCount: 0,
    state: scheduledAt !== undefined ? "scheduled" : "active",
    scheduledAt,
    lockToken: undefined,
    lockedUntil: 0,
    cancelLockTimer: undefined,
    hops,
    deadLetterSource: undefined,
  };
}

export function decodeStored(m: StoredMessage): AmqpMessage {
  const d = decodeBare(m.rest);
  Object.assign(d, m.header ?? {});
  if (m.annotations) d.message_annotations = { ...m.annotations };
  if (m.deadLetterSource !== undefined)
    d.message_annotations = { ...d.message_annotations, "x-opt-deadletter-source": m.deadLetterSource };
  return d;
}
