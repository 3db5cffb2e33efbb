/**
 * A dead letter as every dlq command sees it, whether it comes from the broker (a
 * `ServiceBusReceivedMessage`) or from an exported file (./codec.ts). Selection, tables, stats
 * and the journal work on this view only.
 *
 * Sequence numbers are bigint: on partitioned entities they use the high bits and exceed 2^53.
 */
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import type { FilterableMessage, SqlValue } from "../../emulator/sql/index.js";

/** Application properties the replay adds; the loop guard reads the first. */
export const REPLAY_PROPERTY = {
  count: "sbw-replay-count",
  originalMessageId: "sbw-original-message-id",
  originalReason: "sbw-original-dead-letter-reason",
  replayedFrom: "sbw-replayed-from",
} as const;

export interface MessageView {
  readonly sequenceNumber: bigint | undefined;
  readonly messageId: string | undefined;
  readonly subject: string | undefined;
  readonly sessionId: string | undefined;
  readonly correlationId: string | undefined;
  readonly contentType: string | undefined;
  readonly to: string | undefined;
  readonly replyTo: string | undefined;
  readonly replyToSessionId: string | undefined;
  readonly partitionKey: string | undefined;
  readonly enqueuedTimeUtc: Date | undefined;
  readonly deliveryCount: number | undefined;
  readonly timeToLive: number | undefined;
  readonly deadLetterReason: string | undefined;
  readonly deadLetterErrorDescription: string | undefined;
  readonly deadLetterSource: string | undefined;
  /** As received; includes DeadLetterReason / DeadLetterErrorDescription. */
  readonly applicationProperties: Readonly<Record<string, unknown>>;
  /** How often this message was already replayed (`sbw-replay-count`, 0 when absent). */
  readonly replayCount: number;
}

/** A message id of any AMQP type as text (numbers as decimal, uuids/binary as hex). */
export function idText(id: unknown): string | undefined {
  if (id === undefined || id === null) return undefined;
  if (Buffer.isBuffer(id)) return id.toString("hex");
  if (typeof id === "string") return id;
  if (typeof id === "number" || typeof id === "bigint" || typeof id === "boolean") return String(id);
  return JSON.stringify(id);
}

/** DeadLetterReason and friends are strings on the wire; anything else is shown, not trusted. */
function stringOrUndefined(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function replayCountOf(properties: Readonly<Record<string, unknown>> | undefined): number {
  const value = Number(properties?.[REPLAY_PROPERTY.count]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

export function viewOfReceived(message: ServiceBusReceivedMessage): MessageView {
  const props = (message.applicationProperties ?? {}) as Readonly<Record<string, unknown>>;
  return {
    sequenceNumber:
      message.sequenceNumber === undefined ? undefined : BigInt(message.sequenceNumber.toString()),
    messageId: idText(message.messageId),
    subject: message.subject,
    sessionId: message.sessionId,
    correlationId: idText(message.correlationId),
    contentType: message.contentType,
    to: message.to,
    replyTo: message.replyTo,
    replyToSessionId: message.replyToSessionId,
    partitionKey: message.partitionKey,
    enqueuedTimeUtc: message.enqueuedTimeUtc,
    deliveryCount: message.deliveryCount,
    timeToLive: message.timeToLive,
    deadLetterReason: stringOrUndefined(message.deadLetterReason),
    deadLetterErrorDescription: stringOrUndefined(message.deadLetterErrorDescription),
    deadLetterSource: message.deadLetterSource,
    applicationProperties: props,
    replayCount: replayCountOf(props),
  };
}

function sqlValue(value: unknown): SqlValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (value instanceof Date) return value;
  if (typeof value === "bigint") return Number(value);
  if (Buffer.isBuffer(value)) return value.toString("hex");
  return JSON.stringify(value);
}

/**
 * The view in the emulator's SQL filter shape, so `--where` is evaluated by the very parser the
 * emulator uses for subscription rules. DeadLetterReason and DeadLetterErrorDescription are
 * application properties on the wire, so `--where "DeadLetterReason = 'x'"` works as it would in
 * a rule on a forwarded dead-letter queue.
 */
export function toFilterable(view: MessageView): FilterableMessage {
  const user: Record<string, SqlValue | undefined> = {};
  for (const [key, value] of Object.entries(view.applicationProperties)) user[key] = sqlValue(value);
  const expires =
    view.enqueuedTimeUtc !== undefined && view.timeToLive !== undefined
      ? new Date(view.enqueuedTimeUtc.getTime() + view.timeToLive)
      : undefined;
  return {
    system: {
      MessageId: view.messageId,
      CorrelationId: view.correlationId,
      To: view.to,
      ReplyTo: view.replyTo,
      Label: view.subject,
      SessionId: view.sessionId,
      ReplyToSessionId: view.replyToSessionId,
      ContentType: view.contentType,
      SequenceNumber: view.sequenceNumber === undefined ? undefined : Number(view.sequenceNumber),
      EnqueuedTimeUtc: view.enqueuedTimeUtc,
      DeliveryCount: view.deliveryCount,
      TimeToLive: view.timeToLive,
      ExpiresAtUtc: expires,
      PartitionKey: view.partitionKey,
      DeadLetterSource: view.deadLetterSource,
    },
    user,
  };
}
