/**
 * A minimal typed publisher (issue 3 needs it for `ctx.publish` and `sbworker publish`; issue 5
 * grows it: trace context, batches, bounded retries, `idempotencyKey`).
 *
 * `publish(topic, subject, payload)` is typed by the topology map and validated at run time. The
 * body is the contract's JSON; the session id and MessageId come from the topic's `sessionId()` and
 * `messageId()` unless given, so a retried publish is absorbed by duplicate detection.
 */
import { randomUUID } from "node:crypto";
import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from "@azure/service-bus";
import type { PublishPayloadOf, SubjectOf, TopicName, TopologyShape } from "../topics/dsl.js";

export interface PublishOptions {
  readonly sessionId?: string;
  readonly messageId?: string;
  readonly correlationId?: string;
  /** Enqueue at this time instead of now (a scheduled message). */
  readonly scheduledAt?: Date;
  readonly timeToLiveMs?: number;
  readonly applicationProperties?: Readonly<Record<string, string | number | boolean>>;
}

export interface Published {
  readonly messageId: string;
  readonly sessionId: string | undefined;
}

export type PublishErrorCode = "UnknownTopic" | "UnknownSubject" | "InvalidPayload";

export class PublishError extends Error {
  readonly code: PublishErrorCode;
  constructor(code: PublishErrorCode, message: string) {
    super(message);
    this.name = "PublishError";
    this.code = code;
  }
}

export function isPublishError(error: unknown): error is PublishError {
  return error instanceof PublishError;
}

export interface Publisher<T extends TopologyShape> extends AsyncDisposable {
  publish<K extends TopicName<T>, S extends SubjectOf<T, K>>(
    topic: K,
    subject: S,
    payload: PublishPayloadOf<T, K, S>,
    options?: PublishOptions,
  ): Promise<Published>;
  /** Builds the SDK message without sending it (validation included). */
  toMessage(topic: string, subject: string, payload: unknown, options?: PublishOptions): ServiceBusMessage;
  close(): Promise<void>;
}

export interface PublisherOptions<T extends TopologyShape> {
  readonly client: ServiceBusClient;
  readonly topology: T;
}

export function createPublisher<T extends TopologyShape>(options: PublisherOptions<T>): Publisher<T> {
  const { client, topology } = options;
  const senders = new Map<string, ServiceBusSender>();

  const toMessage = (
    topic: string,
    subject: string,
    payload: unknown,
    opts: PublishOptions = {},
  ): ServiceBusMessage => {
    const definition = topology[topic];
    if (!definition) throw new PublishError("UnknownTopic", `unknown topic "${topic}"`);
    const contract = definition.messages[subject];
    if (!contract) throw new PublishError("UnknownSubject", `topic "${topic}" has no subject "${subject}"`);
    const parsed = contract.safeParse(payload);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ");
      throw new PublishError("InvalidPayload", `${topic}/${subject} payload is invalid: ${issues}`);
    }
    const message = { subject, payload: parsed.data };
    const sessionId = opts.sessionId ?? definition.sessionId?.(message);
    const messageId = opts.messageId ?? definition.messageId?.(message) ?? randomUUID();
    return {
      body: Buffer.from(JSON.stringify(parsed.data)),
      contentType: "application/json",
      subject,
      messageId,
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(opts.correlationId !== undefined ? { correlationId: opts.correlationId } : {}),
      ...(opts.timeToLiveMs !== undefined ? { timeToLive: opts.timeToLiveMs } : {}),
      ...(opts.scheduledAt !== undefined ? { scheduledEnqueueTimeUtc: opts.scheduledAt } : {}),
      ...(opts.applicationProperties ? { applicationProperties: { ...opts.applicationProperties } } : {}),
    };
  };

  const senderFor = (topic: string): ServiceBusSender => {
    let sender = senders.get(topic);
    if (!sender) {
      sender = client.createSender(topology[topic]?.name ?? topic);
      senders.set(topic, sender);
    }
    return sender;
  };

  const close = async (): Promise<void> => {
    const all = [...senders.values()];
    senders.clear();
    await Promise.all(all.map((s) => s.close()));
  };

  return {
    async publish(topic, subject, payload, opts) {
      const message = toMessage(topic, subject, payload, opts);
      await senderFor(topic).sendMessages(message);
      return { messageId: String(message.messageId), sessionId: message.sessionId };
    },
    toMessage,
    close,
    [Symbol.asyncDispose]: close,
  };
}
