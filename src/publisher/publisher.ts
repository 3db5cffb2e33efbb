/**
 * `createPublisher`: typed, validated, traced publishing with bounded retries.
 *
 * Every message carries the trace context of its PRODUCER span (`traceparent`, `tracestate`,
 * `Diagnostic-Id`), scheduled ones included; a context already on the message is kept
 * (src/telemetry/context.ts). The SDK's own instrumentation sees `Diagnostic-Id` and stays out.
 */
import type { TokenCredential } from "@azure/core-auth";
import type {
  ServiceBusClientOptions,
  ServiceBusMessage,
  ServiceBusMessageBatch,
  ServiceBusSender,
} from "@azure/service-bus";
import { ServiceBusClient } from "@azure/service-bus";
import type { Span, Tracer } from "@opentelemetry/api";
import { context } from "@opentelemetry/api";
import { injectTraceContext } from "../telemetry/context.js";
import { startPublishSpan } from "../telemetry/publishSpan.js";
import { recordError } from "../telemetry/spans.js";
import type { PublishPayloadOf, SubjectOf, TopicName, TopologyShape } from "../topics/dsl.js";
import { topology as defaultTopology, type Topology } from "../topics/index.js";
import { PublishError, toPublishError } from "./errors.js";
import { prepareMessage, type PreparedMessage, type PublishOptions } from "./message.js";
import { DEFAULT_RETRY, withRetries, type RetryPolicy, type RetrySeams } from "./retry.js";
import { finishedWithin } from "../worker/deadline.js";

export interface Published {
  readonly messageId: string;
  readonly sessionId: string | undefined;
  /** Scheduled messages: the sequence number `cancelScheduledMessages` takes. */
  readonly sequenceNumber?: string;
}

/** One message of a `publishBatch`, typed by the topology like `publish`'s arguments. */
export type PublishItem<T extends TopologyShape> = {
  [K in TopicName<T>]: {
    [S in SubjectOf<T, K>]: {
      readonly topic: K;
      readonly subject: S;
      readonly payload: PublishPayloadOf<T, K, S>;
      readonly options?: PublishOptions;
    };
  }[SubjectOf<T, K>];
}[TopicName<T>];

export interface Publisher<T extends TopologyShape = Topology> extends AsyncDisposable {
  publish<K extends TopicName<T>, S extends SubjectOf<T, K>>(
    topic: K,
    subject: S,
    payload: PublishPayloadOf<T, K, S>,
    options?: PublishOptions,
  ): Promise<Published>;
  /** Builds the SDK message without sending it (validation included, no trace context). */
  toMessage(topic: string, subject: string, payload: unknown, options?: PublishOptions): ServiceBusMessage;
  /** Closes the senders, and the client when the publisher created it. Idempotent. */
  close(): Promise<void>;
}

/**
 * What `createPublisher` returns. (`publishBatch` lives here rather than on {@link Publisher} so
 * that a publisher typed by one topology still passes where a `Publisher<TopologyShape>` is asked
 * for, as the worker's handler contexts do.)
 */
export interface BatchPublisher<T extends TopologyShape = Topology> extends Publisher<T> {
  /**
   * Sends many messages in as few SDK batches as fit (per topic; scheduled ones per scheduled
   * time). Everything is validated before anything is sent. Results are in input order.
   */
  publishBatch(items: readonly PublishItem<T>[]): Promise<Published[]>;
}

/** A connection string, or a fully qualified namespace with an Azure credential. */
export type PublisherConnection =
  string | { readonly namespace: string; readonly credential: TokenCredential };

export interface PublisherOptions<T extends TopologyShape> {
  /** The publisher creates (and closes) its own client. */
  readonly connection?: PublisherConnection;
  /** Or share a client (the worker does); it is not closed by `close()`. */
  readonly client?: ServiceBusClient;
  readonly clientOptions?: ServiceBusClientOptions;
  /** Defaults to sbworker's topology (src/topics). */
  readonly topology?: T;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How long `close()` waits for the senders (and an owned client) to close, default 10 s. Past it,
   * `close()` resolves and leaves them behind: over a connection a network partition holds, each
   * close would wait for the SDK's operation timeout (60 s by default), one after the other.
   */
  readonly closeTimeoutMs?: number;
  readonly tracing?: { readonly tracer?: Tracer; readonly dup?: boolean };
  /** Test seams for the retry backoff. */
  readonly seams?: RetrySeams;
}

function clientFor(options: PublisherOptions<TopologyShape>): { client: ServiceBusClient; owned: boolean } {
  if (options.client) return { client: options.client, owned: false };
  const { connection } = options;
  if (connection === undefined)
    throw new TypeError("createPublisher: pass `connection` (or a `client` to share)");
  const client =
    typeof connection === "string"
      ? new ServiceBusClient(connection, options.clientOptions)
      : new ServiceBusClient(connection.namespace, connection.credential, options.clientOptions);
  return { client, owned: true };
}

export function createPublisher<T extends TopologyShape = Topology>(
  options: PublisherOptions<T>,
): BatchPublisher<T> {
  const topology: TopologyShape = options.topology ?? defaultTopology;
  const { client, owned } = clientFor(options);
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const seams = options.seams ?? {};
  const tracing = {
    ...(options.tracing?.tracer ? { tracer: options.tracing.tracer } : {}),
    dup: options.tracing?.dup ?? false,
  };
  const senders = new Map<string, ServiceBusSender>();
  let closed: Promise<void> | undefined;

  const senderFor = (entity: string): ServiceBusSender => {
    if (closed) throw new PublishError("Closed", "the publisher is closed");
    let sender = senders.get(entity);
    if (!sender) {
      sender = client.createSender(entity);
      senders.set(entity, sender);
    }
    return sender;
  };

  /** Runs `work` inside a PRODUCER span whose context every message carries. */
  const traced = async <R>(
    group: readonly PreparedMessage[],
    work: (messages: ServiceBusMessage[], span: Span) => Promise<R>,
  ): Promise<R> => {
    const first = group[0]!;
    const single = group.length === 1;
    const { span, context: spanContext } = startPublishSpan(
      {
        topic: first.topic,
        messageCount: group.length,
        ...(single ? { messageId: first.messageId, subject: first.subject } : {}),
        ...(single && first.sessionId !== undefined ? { sessionId: first.sessionId } : {}),
        ...(single && first.idempotencyKey !== undefined ? { idempotencyKey: first.idempotencyKey } : {}),
        ...(single && first.message.correlationId !== undefined
          ? { correlationId: String(first.message.correlationId) }
          : {}),
        ...(single && first.scheduledAt ? { scheduledAt: first.scheduledAt } : {}),
      },
      tracing,
    );
    const messages = group.map((p) => ({
      ...p.message,
      applicationProperties: injectTraceContext({ ...p.message.applicationProperties }, spanContext),
    }));
    try {
      return await context.with(spanContext, () => work(messages, span));
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  };

  const sendOne = (prepared: PreparedMessage): Promise<Published> =>
    traced([prepared], async ([message]) => {
      const sender = senderFor(prepared.entity);
      const base = { messageId: prepared.messageId, sessionId: prepared.sessionId };
      if (prepared.scheduledAt) {
        const [sequence] = await withRetries(
          prepared.topic,
          () => sender.scheduleMessages(message!, prepared.scheduledAt!),
          policy,
          seams,
        );
        return { ...base, ...(sequence !== undefined ? { sequenceNumber: sequence.toString() } : {}) };
      }
      await withRetries(prepared.topic, () => sender.sendMessages(message!), policy, seams);
      return base;
    });

  /** Packs `messages` into as few batches as fit; a message alone too big for a batch is an error. */
  const pack = async (sender: ServiceBusSender, topic: string, messages: readonly ServiceBusMessage[]) => {
    const batches: { batch: ServiceBusMessageBatch; messages: ServiceBusMessage[] }[] = [];
    let current = { batch: await sender.createMessageBatch(), messages: [] as ServiceBusMessage[] };
    for (const message of messages) {
      if (current.batch.tryAddMessage(message)) {
        current.messages.push(message);
        continue;
      }
      if (current.messages.length === 0)
        throw new PublishError(
          "MessageTooLarge",
          `${topic}: message ${String(message.messageId)} does not fit in a batch`,
        );
      batches.push(current);
      current = { batch: await sender.createMessageBatch(), messages: [] };
      if (!current.batch.tryAddMessage(message))
        throw new PublishError(
          "MessageTooLarge",
          `${topic}: message ${String(message.messageId)} does not fit in a batch`,
        );
      current.messages.push(message);
    }
    if (current.messages.length > 0) batches.push(current);
    return batches;
  };

  const sendGroup = (group: readonly PreparedMessage[], sent: { messageId: string }[]): Promise<void> =>
    traced(group, async (messages) => {
      const { topic, entity } = group[0]!;
      const sender = senderFor(entity);
      const now = messages.filter((m) => m.scheduledEnqueueTimeUtc === undefined);
      const later = new Map<number, ServiceBusMessage[]>();
      for (const m of messages) {
        const at = m.scheduledEnqueueTimeUtc?.getTime();
        if (at !== undefined) later.set(at, [...(later.get(at) ?? []), m]);
      }
      for (const { batch, messages: packed } of now.length > 0 ? await pack(sender, topic, now) : []) {
        await withRetries(
          topic,
          async (attempt) => {
            // A retry sends a fresh batch of the same messages (same MessageIds).
            if (attempt === 1) return sender.sendMessages(batch);
            const again = await sender.createMessageBatch();
            for (const m of packed) again.tryAddMessage(m);
            return sender.sendMessages(again);
          },
          policy,
          seams,
        );
        sent.push(...packed.map((m) => ({ messageId: String(m.messageId) })));
      }
      for (const [at, scheduled] of later) {
        await withRetries(topic, () => sender.scheduleMessages(scheduled, new Date(at)), policy, seams);
        sent.push(...scheduled.map((m) => ({ messageId: String(m.messageId) })));
      }
    });

  const close = (): Promise<void> =>
    (closed ??= (async () => {
      const all = [...senders.values()];
      senders.clear();
      const closing = (async () => {
        await Promise.all(all.map((s) => s.close()));
        if (owned) await client.close();
      })();
      // A failed close is still reported; one that runs over is left behind.
      await finishedWithin(closing, options.closeTimeoutMs ?? 10_000);
    })());

  return {
    publish(topic, subject, payload, publishOptions) {
      try {
        if (closed) throw new PublishError("Closed", "the publisher is closed");
        return sendOne(prepareMessage(topology, topic, subject, payload, publishOptions));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    async publishBatch(items) {
      if (closed) throw new PublishError("Closed", "the publisher is closed");
      const prepared = items.map((item) =>
        prepareMessage(topology, item.topic, item.subject, item.payload, item.options),
      );
      const byTopic = new Map<string, PreparedMessage[]>();
      for (const p of prepared) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
      const sent: { messageId: string }[] = [];
      try {
        for (const group of byTopic.values()) await sendGroup(group, sent);
      } catch (error) {
        const failure = toPublishError(error, [...byTopic.keys()].join(","), 1);
        throw new PublishError(failure.code, failure.message, {
          cause: failure.cause ?? error,
          attempts: failure.attempts,
          published: sent,
        });
      }
      return prepared.map((p) => ({ messageId: p.messageId, sessionId: p.sessionId }));
    },
    toMessage: (topic, subject, payload, publishOptions) =>
      prepareMessage(topology, topic, subject, payload, publishOptions).message,
    close,
    [Symbol.asyncDispose]: close,
  };
}
