/**
 * Application properties the worker reads and writes, in one place, and the attempt arithmetic.
 *
 * - `sbw-attempt`: the attempt number a retry copy starts at (absent on first publish = 1).
 * - `sbw-replay-to`: routes a copy sent to the topic to exactly one subscription (see
 *   src/topics/emulatorConfig.ts for the rules that make this work).
 * - `sbw-root-message-id`: MessageId of the message first published (retry copies keep it).
 * - `sbw-causation-id`: MessageId of the message whose handler published this one.
 */
import { createHash } from "node:crypto";
import type { ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";
import { REPLAY_PROPERTY } from "../topics/emulatorConfig.js";

export const PROPERTY = {
  attempt: "sbw-attempt",
  replayTo: REPLAY_PROPERTY,
  rootMessageId: "sbw-root-message-id",
  causationId: "sbw-causation-id",
} as const;

type Props = Readonly<Record<string, unknown>> | undefined;

/** The `sbw-attempt` a message was published with (1 when absent or malformed). */
export function baseAttempt(properties: Props): number {
  const value = Number(properties?.[PROPERTY.attempt]);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/**
 * The handler attempt a delivery represents: the copy's starting attempt plus the broker's
 * delivery count (each lost lock, crash or abandon counts as an attempt used).
 */
export function attemptOf(
  message: Pick<ServiceBusReceivedMessage, "applicationProperties" | "deliveryCount">,
): number {
  return baseAttempt(message.applicationProperties) + (message.deliveryCount ?? 0);
}

export function messageIdText(id: ServiceBusReceivedMessage["messageId"]): string {
  if (typeof id === "string") return id; // what publishers send; checked first, on every message
  if (id === undefined) return "";
  if (Buffer.isBuffer(id)) return id.toString("hex");
  return String(id);
}

export function rootMessageId(
  message: Pick<ServiceBusReceivedMessage, "applicationProperties" | "messageId">,
): string {
  const root = message.applicationProperties?.[PROPERTY.rootMessageId];
  return typeof root === "string" && root.length > 0 ? root : messageIdText(message.messageId);
}

/**
 * MessageId of the retry copy of a delivery. It depends on the root id, the subscription and the
 * *original's* `sbw-attempt` only (not on the delivery count), so if the process dies between
 * scheduling the copy and completing the original, the redelivered original schedules a copy with
 * the same id, which duplicate detection (where the topic enables it) drops.
 */
export function retryMessageId(root: string, subscription: string, generation: number): string {
  const readable = `${root}~${subscription}~retry${generation}`;
  return readable.length <= 128 ? readable : createHash("sha256").update(readable).digest("hex");
}

/** The copy scheduled to retry a failed delivery on a plain subscription. */
export function retryCopy(
  message: ServiceBusReceivedMessage,
  subscription: string,
  nextAttempt: number,
  scheduledAt: Date,
): ServiceBusMessage {
  const root = rootMessageId(message);
  return {
    body: message.body as unknown,
    messageId: retryMessageId(root, subscription, baseAttempt(message.applicationProperties)),
    scheduledEnqueueTimeUtc: scheduledAt,
    ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    ...(message.correlationId !== undefined ? { correlationId: message.correlationId } : {}),
    ...(message.sessionId !== undefined ? { sessionId: message.sessionId } : {}),
    ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
    ...(message.to !== undefined ? { to: message.to } : {}),
    applicationProperties: {
      ...(message.applicationProperties as Record<string, string | number | boolean | Date | null>),
      [PROPERTY.attempt]: nextAttempt,
      [PROPERTY.replayTo]: subscription,
      [PROPERTY.rootMessageId]: root,
    },
  };
}
