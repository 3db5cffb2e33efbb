/**
 * The message a replay sends for one dead letter, and its MessageId.
 *
 * Kept: body bytes (and AMQP body type), content type, subject, correlation id, session id,
 * reply-to, reply-to session id, to, partition key, time to live, and every application property
 * (so W3C `traceparent` / `tracestate` and the SDK's `Diagnostic-Id` carry the original trace).
 * Dropped: `DeadLetterReason` / `DeadLetterErrorDescription` (the new message is not a dead letter),
 * the worker's retry bookkeeping `sbw-attempt` and `sbw-root-message-id` (a replay starts a fresh
 * attempt budget, and the worker derives retry-copy MessageIds from the root id: keeping the old
 * root would give the replay's retry copies the ids of the original's retry copies, which duplicate
 * detection may still remember and silently drop), and `sbw-replay-to` (set anew from the target).
 * Added: `sbw-replay-count` (+1), `sbw-original-message-id` (of the first message in the chain),
 * `sbw-original-dead-letter-reason`, `sbw-replayed-from` (the source entity).
 */
import { createHash } from "node:crypto";
import type { ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";
import { PROPERTY as WORKER_PROPERTY } from "../../worker/properties.js";
import { REPLAY_PROPERTY as ROUTE_PROPERTY } from "../../topics/emulatorConfig.js";
import type { SourceEntity, Target } from "./entity.js";
import { sourceLabel } from "./entity.js";
import { idText, REPLAY_PROPERTY, replayCountOf } from "./view.js";

const MAX_MESSAGE_ID = 128;

/** Application properties that never travel from a dead letter to its replay. */
export const DROPPED_PROPERTIES: readonly string[] = [
  "DeadLetterReason",
  "DeadLetterErrorDescription",
  WORKER_PROPERTY.attempt,
  WORKER_PROPERTY.rootMessageId,
  ROUTE_PROPERTY,
];

/**
 * `<original id>~<source entity>~dlq<sequence number>`, or its SHA-256 when longer than 128.
 * - Different from the original id, so duplicate detection does not swallow a replay sent while
 *   the original is still inside the window.
 * - The same for the same dead letter, so if a replay dies between sending and completing, the
 *   next replay of that dead letter sends the same id and duplicate detection absorbs it.
 * - The source entity is part of it because the subscriptions of one topic share sequence numbers:
 *   two subscriptions dead-lettering the same message must not produce the same replay id.
 */
export function replayMessageId(originalId: string, source: string, sequenceNumber: bigint): string {
  const readable = `${originalId}~${source}~dlq${sequenceNumber}`;
  return readable.length <= MAX_MESSAGE_ID ? readable : createHash("sha256").update(readable).digest("hex");
}

/** The id of the first message of a replay chain: kept across replays so it stays traceable. */
export function originalMessageId(
  message: Pick<ServiceBusReceivedMessage, "applicationProperties" | "messageId">,
): string {
  const earlier = message.applicationProperties?.[REPLAY_PROPERTY.originalMessageId];
  return typeof earlier === "string" && earlier !== "" ? earlier : (idText(message.messageId) ?? "");
}

/** `AmqpAnnotatedMessage` lives in @azure/core-amqp, which is not our dependency; derive it. */
type AmqpAnnotatedMessage = ServiceBusReceivedMessage["_rawAmqpMessage"];

type AppProperties = Record<string, string | number | boolean | Date | null>;

export function replayProperties(
  message: ServiceBusReceivedMessage,
  source: SourceEntity,
  target: Target,
): AppProperties {
  const properties: AppProperties = {};
  for (const [key, value] of Object.entries(message.applicationProperties ?? {})) {
    if (!DROPPED_PROPERTIES.includes(key)) properties[key] = value;
  }
  properties[REPLAY_PROPERTY.count] = replayCountOf(message.applicationProperties) + 1;
  properties[REPLAY_PROPERTY.originalMessageId] = originalMessageId(message);
  const reason = message.deadLetterReason;
  if (typeof reason === "string") properties[REPLAY_PROPERTY.originalReason] = reason;
  properties[REPLAY_PROPERTY.replayedFrom] = sourceLabel(source);
  if (target.kind === "subscription") properties[ROUTE_PROPERTY] = target.subscription;
  return properties;
}

export type OutgoingMessage = ServiceBusMessage | AmqpAnnotatedMessage;

/**
 * The replay of `message` (received with `skipParsingBodyAsJson` and `skipConvertingDate`).
 * A data body is sent as a Buffer: one data section with the same bytes. An AMQP value or
 * sequence body (rare; sent by non-SDK clients) keeps its body type (see toAnnotated).
 */
export function buildReplay(
  message: ServiceBusReceivedMessage,
  source: SourceEntity,
  target: Target,
): { readonly messageId: string; readonly message: OutgoingMessage } {
  const sequenceNumber =
    message.sequenceNumber === undefined ? 0n : BigInt(message.sequenceNumber.toString());
  const messageId = replayMessageId(originalMessageId(message), sourceLabel(source), sequenceNumber);
  const applicationProperties = replayProperties(message, source, target);
  const plain: ServiceBusMessage = {
    body: message.body as unknown,
    messageId,
    applicationProperties,
    ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    ...(message.correlationId !== undefined ? { correlationId: message.correlationId } : {}),
    ...(message.sessionId !== undefined ? { sessionId: message.sessionId } : {}),
    ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
    ...(message.replyToSessionId !== undefined ? { replyToSessionId: message.replyToSessionId } : {}),
    ...(message.to !== undefined ? { to: message.to } : {}),
    ...(message.partitionKey !== undefined ? { partitionKey: message.partitionKey } : {}),
    ...(message.timeToLive ? { timeToLive: message.timeToLive } : {}),
  };
  const bodyType = message._rawAmqpMessage.bodyType ?? "data";
  return { messageId, message: bodyType === "data" ? plain : toAnnotated(plain, bodyType) };
}

/**
 * The same message as an AmqpAnnotatedMessage with an AMQP value or sequence body: a
 * ServiceBusMessage would JSON-encode such a body into a data section and change its bytes.
 */
export function toAnnotated(
  message: ServiceBusMessage,
  bodyType: "value" | "sequence",
): AmqpAnnotatedMessage {
  const m = message;
  const properties: AmqpAnnotatedMessage["properties"] = {};
  if (m.messageId !== undefined) properties.messageId = m.messageId;
  if (m.contentType !== undefined) properties.contentType = m.contentType;
  if (m.subject !== undefined) properties.subject = m.subject;
  if (m.correlationId !== undefined) properties.correlationId = m.correlationId;
  if (m.sessionId !== undefined) properties.groupId = m.sessionId;
  if (m.replyTo !== undefined) properties.replyTo = m.replyTo;
  if (m.replyToSessionId !== undefined) properties.replyToGroupId = m.replyToSessionId;
  if (m.to !== undefined) properties.to = m.to;
  return {
    body: m.body as unknown,
    bodyType,
    properties,
    // The service requires the annotations section; an empty map is what the SDK sends too.
    messageAnnotations: m.partitionKey !== undefined ? { "x-opt-partition-key": m.partitionKey } : {},
    ...(m.applicationProperties ? { applicationProperties: m.applicationProperties } : {}),
    ...(m.timeToLive ? { header: { timeToLive: m.timeToLive } } : {}),
  };
}

/** A ServiceBusMessage, or its annotated form when the body is not a data section. */
export function withBodyType(
  message: ServiceBusMessage,
  bodyType: "data" | "value" | "sequence",
): OutgoingMessage {
  return bodyType === "data" ? message : toAnnotated(message, bodyType);
}
