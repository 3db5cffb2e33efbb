/**
 * From (topic, subject, payload, options) to the SDK message: validation against the contract,
 * the MessageId, the session id, the idempotency key. No network, no tracing (./publisher.ts).
 *
 * MessageId, first that applies:
 * 1. `options.messageId` as given;
 * 2. derived from `options.idempotencyKey`: `<subject>:<key>`, or its SHA-256 when longer than
 *    128 characters (the broker's limit), so the same request always gets the same id;
 * 3. the contract's business key (`messageId(message)` on the topic, e.g. `o-1:OrderPlaced`);
 * 4. a random UUID (still fixed across this publish's retries).
 * The idempotency key also travels as the `idempotency-key` property, which the worker's ledger
 * uses (src/worker/jobs/key.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import type { ServiceBusMessage } from "@azure/service-bus";
import type { AnyTopicDefinition, TopologyShape } from "../topics/dsl.js";
import { IDEMPOTENCY_KEY_PROPERTY } from "../worker/jobs/key.js";
import { PublishError } from "./errors.js";

export type PropertyValue = string | number | boolean | Date | null;

export interface PublishOptions {
  /** Defaults to the topic's `sessionId(message)` (e.g. the order id). */
  readonly sessionId?: string;
  /** An explicit MessageId (wins over `idempotencyKey` and the contract's key). */
  readonly messageId?: string;
  /** The request's idempotency key: fixes the MessageId and the worker's ledger key. */
  readonly idempotencyKey?: string;
  readonly correlationId?: string;
  /** Enqueue at this time instead of now (a scheduled message). */
  readonly scheduledAt?: Date;
  /** Time to live, milliseconds. */
  readonly timeToLive?: number;
  readonly applicationProperties?: Readonly<Record<string, PropertyValue>>;
}

/** A validated message, ready to send. */
export interface PreparedMessage {
  readonly topic: string;
  /** The entity name on the broker (the definition's `name`). */
  readonly entity: string;
  readonly subject: string;
  readonly message: ServiceBusMessage;
  readonly messageId: string;
  readonly sessionId: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly scheduledAt: Date | undefined;
}

const MAX_MESSAGE_ID = 128;

export function deriveMessageId(subject: string, idempotencyKey: string): string {
  const readable = `${subject}:${idempotencyKey}`;
  return readable.length <= MAX_MESSAGE_ID ? readable : createHash("sha256").update(readable).digest("hex");
}

function definitionOf(topology: TopologyShape, topic: string): AnyTopicDefinition {
  const definition = Object.hasOwn(topology, topic) ? topology[topic] : undefined;
  if (!definition) {
    throw new PublishError(
      "UnknownTopic",
      `unknown topic "${topic}" (known: ${Object.keys(topology).join(", ")})`,
    );
  }
  return definition;
}

export function prepareMessage(
  topology: TopologyShape,
  topic: string,
  subject: string,
  payload: unknown,
  options: PublishOptions = {},
): PreparedMessage {
  const definition = definitionOf(topology, topic);
  const contract = Object.hasOwn(definition.messages, subject) ? definition.messages[subject] : undefined;
  if (!contract) {
    throw new PublishError(
      "UnknownSubject",
      `topic "${topic}" has no subject "${subject}" (known: ${Object.keys(definition.messages).join(", ")})`,
    );
  }
  const parsed = contract.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new PublishError("InvalidPayload", `${topic}/${subject} payload is invalid: ${issues}`);
  }
  const { scheduledAt, timeToLive, idempotencyKey } = options;
  if (scheduledAt !== undefined && !(scheduledAt instanceof Date && Number.isFinite(scheduledAt.getTime())))
    throw new PublishError("InvalidOptions", `${topic}/${subject}: scheduledAt must be a valid Date`);
  if (timeToLive !== undefined && !(Number.isInteger(timeToLive) && timeToLive > 0))
    throw new PublishError(
      "InvalidOptions",
      `${topic}/${subject}: timeToLive must be a positive integer (ms)`,
    );
  if (idempotencyKey !== undefined && idempotencyKey.length === 0)
    throw new PublishError("InvalidOptions", `${topic}/${subject}: idempotencyKey must not be empty`);

  const typed = { subject, payload: parsed.data };
  const sessionId = options.sessionId ?? definition.sessionId?.(typed);
  const messageId =
    options.messageId ??
    (idempotencyKey !== undefined ? deriveMessageId(subject, idempotencyKey) : undefined) ??
    definition.messageId?.(typed) ??
    randomUUID();
  const properties: Record<string, PropertyValue> = {
    ...options.applicationProperties,
    ...(idempotencyKey !== undefined ? { [IDEMPOTENCY_KEY_PROPERTY]: idempotencyKey } : {}),
  };
  const message: ServiceBusMessage = {
    body: Buffer.from(JSON.stringify(parsed.data)),
    contentType: "application/json",
    subject,
    messageId,
    ...(sessionId !== undefined ? { sessionId } : {}),
    ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    ...(timeToLive !== undefined ? { timeToLive } : {}),
    ...(scheduledAt !== undefined ? { scheduledEnqueueTimeUtc: scheduledAt } : {}),
    ...(Object.keys(properties).length > 0 ? { applicationProperties: properties } : {}),
  };
  return {
    topic,
    entity: definition.name,
    subject,
    message,
    messageId,
    sessionId,
    idempotencyKey,
    scheduledAt,
  };
}
