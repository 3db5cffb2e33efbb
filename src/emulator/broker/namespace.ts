/**
 * The namespace: queues, topics and subscriptions by name, and the send path into them
 * (size limit, session check, duplicate detection, scheduling, topic fan-out through rules,
 * auto-forwarding). Names resolve case-insensitively, as in Service Bus. A message's stored
 * form is built by incoming.ts; the read-only snapshot of the namespace is snapshot.ts.
 */
import type { Clock } from "../clock.js";
import type { AmqpMessage } from "../amqp/rhea.js";
import type { EmulatorSnapshot } from "../api.js";
import type { QueueSpec, ReceivableSettings, SubscriptionSpec, TopicSpec, Topology } from "../topology.js";
import { Entity } from "./entity.js";
import type { EntityContext } from "./entity.js";
import { BrokerError, Condition, entityNotFound } from "./errors.js";
import { decodeBare } from "./message.js";
import type { StoredMessage } from "./message.js";
import { admit, compileRules } from "./rules.js";
import type { CompiledRule } from "./rules.js";
import { DuplicateWindow } from "./dedup.js";
import {
  bareOf,
  decodeStored,
  ensureMessageId,
  MessageIds,
  minTtl,
  scheduledTime,
  toStored,
  type Incoming,
} from "./incoming.js";
import { TimedHeap } from "./timed-heap.js";
import { SlabAllocator } from "./slab.js";
import { snapshotOf } from "./snapshot.js";

const MAX_HOPS = 4;

export interface Queue {
  readonly spec: QueueSpec;
  readonly entity: Entity;
  readonly dedup: DuplicateWindow;
  nextSeq: number;
}

export interface Subscription {
  spec: SubscriptionSpec;
  readonly entity: Entity;
  rules: CompiledRule[];
}

interface PendingTopicMessage {
  readonly seq: number;
  readonly at: number;
  readonly decoded: AmqpMessage;
  readonly raw: Buffer | undefined;
}

export interface Topic {
  readonly spec: TopicSpec;
  readonly subscriptions: Map<string, Subscription>;
  readonly dedup: DuplicateWindow;
  nextSeq: number;
  readonly scheduled: Map<number, PendingTopicMessage>;
  /** The scheduled messages by due time (entries cancelled from `scheduled` go stale). */
  readonly due: TimedHeap<PendingTopicMessage>;
}

/** What an address names once the `sb://host:port/` prefix and `$management` are stripped. */
export type Resolved =
  | { readonly kind: "queue"; readonly queue: Queue; readonly entity: Entity }
  | { readonly kind: "topic"; readonly topic: Topic }
  | {
      readonly kind: "subscription";
      readonly topic: Topic;
      readonly subscription: Subscription;
      readonly entity: Entity;
    }
  | { readonly kind: "deadletter"; readonly entity: Entity };

export class Namespace {
  readonly queues = new Map<string, Queue>();
  readonly topics = new Map<string, Topic>();
  private readonly ctx: EntityContext;
  private readonly slabs = new SlabAllocator();
  private readonly ids = new MessageIds();

  constructor(
    readonly name: string,
    private readonly clock: Clock,
  ) {
    this.ctx = { clock, deadLetter: (from, m) => this.routeDeadLetter(from, m) };
  }

  static fromTopology(topology: Topology, clock: Clock): Namespace {
    const ns = new Namespace(topology.namespace, clock);
    for (const q of topology.queues) ns.createQueue(q);
    for (const t of topology.topics) ns.createTopic(t);
    return ns;
  }

  createQueue(spec: QueueSpec): Queue {
    const key = spec.name.toLowerCase();
    if (this.queues.has(key) || this.topics.has(key)) {
      throw new BrokerError(
        Condition.entityAlreadyExists,
        `The messaging entity '${spec.name}' already exists.`,
      );
    }
    const q: Queue = {
      spec,
      entity: this.receivable("queue", spec.name, spec),
      dedup: new DuplicateWindow(),
      nextSeq: 1,
    };
    this.queues.set(key, q);
    return q;
  }

  createTopic(spec: TopicSpec): Topic {
    const key = spec.name.toLowerCase();
    if (this.queues.has(key) || this.topics.has(key)) {
      throw new BrokerError(
        Condition.entityAlreadyExists,
        `The messaging entity '${spec.name}' already exists.`,
      );
    }
    const topic: Topic = {
      spec,
      subscriptions: new Map(),
      dedup: new DuplicateWindow(),
      nextSeq: 1,
      scheduled: new Map(),
      due: new TimedHeap(
        this.clock,
        (p) => p.at,
        () => this.fanOutDue(topic),
      ),
    };
    this.topics.set(key, topic);
    for (const s of spec.subscriptions) this.createSubscription(topic, s);
    return topic;
  }

  createSubscription(topic: Topic, spec: SubscriptionSpec): Subscription {
    const key = spec.name.toLowerCase();
    if (topic.subscriptions.has(key)) {
      throw new BrokerError(
        Condition.entityAlreadyExists,
        `The messaging entity '${topic.spec.name}/Subscriptions/${spec.name}' already exists.`,
      );
    }
    const path = `${topic.spec.name}/Subscriptions/${spec.name}`;
    const sub: Subscription = {
      spec,
      entity: this.receivable("subscription", path, spec),
      rules: compileRules(spec.rules),
    };
    topic.subscriptions.set(key, sub);
    return sub;
  }

  private receivable(kind: "queue" | "subscription", path: string, settings: ReceivableSettings): Entity {
    const entity = new Entity(kind, path, settings, this.ctx);
    const dlqSettings: ReceivableSettings = { ...settings, requiresSession: false, forwardTo: undefined };
    entity.deadLetterQueue = new Entity("deadletter", `${path}/$DeadLetterQueue`, dlqSettings, this.ctx);
    entity.transferDeadLetterQueue = new Entity(
      "transfer-deadletter",
      `${path}/$Transfer/$DeadLetterQueue`,
      dlqSettings,
      this.ctx,
    );
    return entity;
  }

  /** Resolves a link address or CBS audience; throws entity-not-found (as the SDK expects it). */
  resolve(address: string): Resolved {
    const path = address
      .replace(/^[a-z]+:\/\/[^/]*\//i, "")
      .replace(/\/\$management$/i, "")
      .replace(/\/+$/, "");
    const parts = path.split("/");
    const lower = parts.map((p) => p.toLowerCase());
    const notFound = (): BrokerError => entityNotFound(address);
    const withSub = (entity: Entity, rest: string[]): Entity => {
      if (rest.length === 0) return entity;
      if (rest.length === 1 && rest[0] === "$deadletterqueue") return entity.deadLetterQueue!;
      if (rest.length === 2 && rest[0] === "$transfer" && rest[1] === "$deadletterqueue")
        return entity.transferDeadLetterQueue!;
      throw notFound();
    };
    const queue = this.queues.get(lower[0] ?? "");
    if (queue) {
      const entity = withSub(queue.entity, lower.slice(1));
      return entity === queue.entity ? { kind: "queue", queue, entity } : { kind: "deadletter", entity };
    }
    const topic = this.topics.get(lower[0] ?? "");
    if (!topic) throw notFound();
    if (lower.length === 1) return { kind: "topic", topic };
    if (lower[1] !== "subscriptions" || lower.length < 3) throw notFound();
    const subscription = topic.subscriptions.get(lower[2]!);
    if (!subscription) throw notFound();
    const entity = withSub(subscription.entity, lower.slice(3));
    return entity === subscription.entity
      ? { kind: "subscription", topic, subscription, entity }
      : { kind: "deadletter", entity };
  }

  /**
   * Sends messages to a queue or topic. All are checked before any is stored, so a batch is
   * accepted or refused whole. Returns the sequence numbers of scheduled messages.
   */
  send(
    address: string,
    messages: readonly Incoming[],
    scheduleAt?: readonly number[],
    maxSize?: number,
  ): number[] {
    const target = this.resolve(address);
    if (target.kind !== "queue" && target.kind !== "topic") {
      throw new BrokerError(
        Condition.notAllowed,
        `Cannot send to '${address}': only queues and topics accept messages.`,
      );
    }
    const spec = target.kind === "queue" ? target.queue.spec : target.topic.spec;
    const limit = maxSize ?? spec.maxMessageSizeBytes;
    for (const m of messages) {
      ensureMessageId(m, this.ids);
      const size = bareOf(m, this.slabs).length;
      if (size > limit) {
        throw new BrokerError(
          Condition.messageSizeExceeded,
          `The received message (size ${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the link.`,
        );
      }
      if (target.kind === "queue" && target.queue.spec.requiresSession && m.decoded.group_id === undefined) {
        throw new BrokerError(
          Condition.notAllowed,
          `The SessionId was not set on a message, and it cannot be sent to the entity '${spec.name}'. Entities that have session support enabled can only receive messages that have a non-empty SessionId.`,
        );
      }
    }
    const seqs: number[] = [];
    messages.forEach((m, i) => {
      const at = scheduleAt?.[i] ?? scheduledTime(m.decoded);
      seqs.push(this.accept(target.kind === "queue" ? target.queue : target.topic, m, at, 0));
    });
    return seqs;
  }

  /** Stores one message in a queue or fans it out through a topic. */
  private accept(target: Queue | Topic, m: Incoming, scheduledAt: number | undefined, hops: number): number {
    const now = this.clock.now();
    const spec = target.spec;
    const messageId = ensureMessageId(m, this.ids);
    if (
      spec.requiresDuplicateDetection &&
      target.dedup.seen(messageId, now, spec.duplicateDetectionWindowMs)
    ) {
      return 0; // Absorbed, as the service does: the send succeeds and nothing is stored.
    }
    const seq = target.nextSeq++;
    const at = scheduledAt !== undefined && scheduledAt > now ? scheduledAt : undefined;
    if ("subscriptions" in target) {
      if (at !== undefined) {
        this.scheduleAtTopic(target, { seq, at, decoded: m.decoded, raw: m.raw });
      } else {
        this.fanOut(target, m, seq, now, hops);
      }
      return seq;
    }
    const stored = toStored(m, this.slabs, seq, now, at, spec.defaultMessageTtlMs, hops);
    this.deliverTo(target.entity, target.spec.forwardTo, stored);
    return seq;
  }

  /** Puts a message into a queue or subscription, or forwards it when the entity auto-forwards. */
  private deliverTo(entity: Entity, forwardTo: string | undefined, m: StoredMessage): void {
    if (forwardTo === undefined || m.state === "scheduled") {
      entity.enqueue(m);
      return;
    }
    if (m.hops + 1 > MAX_HOPS) {
      entity.transferDeadLetterQueue!.enqueue({ ...m, state: "active" });
      return;
    }
    this.forward(forwardTo, m, m.hops + 1);
  }

  private forward(to: string, m: StoredMessage, hops: number): void {
    const target = this.resolve(to);
    const decoded = decodeStored(m);
    const incoming: Incoming = { decoded, raw: undefined };
    if (target.kind === "queue") this.accept(target.queue, incoming, undefined, hops);
    else if (target.kind === "topic") this.accept(target.topic, incoming, undefined, hops);
  }

  private fanOut(topic: Topic, m: Incoming, seq: number, now: number, hops: number): void {
    for (const sub of topic.subscriptions.values()) {
      if (m.partial === true && m.raw !== undefined && sub.rules.some((r) => r.action !== undefined)) {
        // A rule action writes a new copy from the decoded form, so it needs the body too.
        const full = decodeBare(m.raw);
        m.decoded = { ...full, ...m.decoded, body: full.body };
        m.partial = false;
      }
      const copies = admit(sub.rules, m.decoded, seq, now);
      for (const decoded of copies) {
        const incoming: Incoming = decoded === m.decoded ? m : { decoded, raw: undefined };
        // Copies share the bytes of `m` unless an action changed them.
        const ttl = minTtl(sub.spec.defaultMessageTtlMs, topic.spec.defaultMessageTtlMs);
        const stored = toStored(incoming, this.slabs, seq, now, undefined, ttl, hops);
        if (sub.entity.requiresSession && stored.sessionId === undefined) {
          sub.entity.deadLetterQueue!.enqueue({ ...stored, state: "active" });
          continue;
        }
        this.deliverTo(sub.entity, sub.spec.forwardTo, stored);
      }
    }
  }

  private scheduleAtTopic(topic: Topic, p: PendingTopicMessage): void {
    topic.scheduled.set(p.seq, p);
    topic.due.add(p);
  }

  /** Scheduled topic messages that fell due go through the rules now, as if just sent. */
  private fanOutDue(topic: Topic): void {
    topic.due.takeDue(this.clock.now(), (p) => {
      if (topic.scheduled.get(p.seq) !== p) return;
      topic.scheduled.delete(p.seq);
      this.fanOut(topic, { decoded: p.decoded, raw: p.raw }, p.seq, p.at, 0);
    });
  }

  cancelScheduled(resolved: Resolved, seqs: readonly number[]): void {
    if (resolved.kind === "topic") {
      for (const s of seqs) resolved.topic.scheduled.delete(s);
    } else if (resolved.kind === "queue") {
      resolved.entity.cancelScheduled(seqs);
    }
  }

  private routeDeadLetter(from: Entity, m: StoredMessage): void {
    m.expiresAt = Infinity; // TTL does not apply in a dead-letter queue.
    const forward = from.settings.forwardDeadLetteredMessagesTo;
    if (forward !== undefined && from.kind !== "deadletter") {
      m.deadLetterSource = from.path;
      this.forward(forward, m, m.hops + 1);
      return;
    }
    m.state = "active";
    from.deadLetterQueue?.enqueue(m);
  }

  snapshot(connections: number): EmulatorSnapshot {
    return snapshotOf(this.queues, this.topics, connections);
  }

  close(): void {
    const all = (e: Entity): Entity[] => [e, e.deadLetterQueue!, e.transferDeadLetterQueue!];
    for (const q of this.queues.values()) all(q.entity).forEach((e) => e.close());
    for (const t of this.topics.values()) {
      t.due.close();
      for (const s of t.subscriptions.values()) all(s.entity).forEach((e) => e.close());
    }
  }
}
