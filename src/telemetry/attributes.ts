/**
 * Every span attribute, event and span name sbworker writes, in one module.
 *
 * Names follow the OpenTelemetry messaging semantic conventions for Azure Service Bus, in the
 * form Azure's own SDKs and Azure Monitor read today: `messaging.system` = `servicebus`,
 * `messaging.destination.name` (the topic), `messaging.destination.subscription.name`,
 * `messaging.operation.type` / `.name`, `messaging.message.id`, and the Service Bus specific
 * `messaging.servicebus.*` (delivery count, enqueued time, disposition status).
 *
 * Newer semantic-conventions releases (1.3x, still "development") rename a few of these:
 * `messaging.system` → `messaging.system.name` = `azure.servicebus` and `messaging.servicebus.*`
 * → `azure.servicebus.*`. As the conventions ask of existing instrumentations, the old names stay
 * the default and `OTEL_SEMCONV_STABILITY_OPT_IN=messaging/dup` emits both (see {@link withDup}).
 *
 * Words (src/topics/dsl.ts): topic, subscription, subject, session, delivery, attempt,
 * settlement. sbworker's own attributes live under `sbworker.*`.
 */
import type { Attributes } from "@opentelemetry/api";

export const MESSAGING_SYSTEM = "servicebus";

export const ATTR = {
  messagingSystem: "messaging.system",
  destinationName: "messaging.destination.name",
  subscriptionName: "messaging.destination.subscription.name",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  messageId: "messaging.message.id",
  conversationId: "messaging.message.conversation_id",
  batchMessageCount: "messaging.batch.message_count",
  bodySize: "messaging.message.body.size",
  deliveryCount: "messaging.servicebus.message.delivery_count",
  enqueuedTime: "messaging.servicebus.message.enqueued_time",
  dispositionStatus: "messaging.servicebus.disposition_status",
  errorType: "error.type",
  // sbworker's own
  subject: "sbworker.subject",
  sessionId: "sbworker.session.id",
  attempt: "sbworker.attempt",
  idempotencyKey: "sbworker.idempotency_key",
  scheduledAt: "sbworker.scheduled_enqueue_time",
  settlement: "sbworker.settlement",
  deadLetterReason: "sbworker.dead_letter.reason",
  retryDelayMs: "sbworker.retry.delay_ms",
  nextAttempt: "sbworker.retry.next_attempt",
  outcome: "sbworker.outcome",
  lock: "sbworker.lock",
  ledgerWhy: "sbworker.ledger.why",
  linkMode: "sbworker.trace.link_mode",
  settleDurationMs: "sbworker.settle.duration_ms",
  exceptionMessage: "exception.message",
} as const;

/** `messaging.operation.type` values. */
export const OPERATION_TYPE = { send: "send", process: "process", settle: "settle" } as const;

/** `messaging.operation.name` values (Service Bus operation names). */
export const OPERATION = {
  send: "send",
  schedule: "schedule",
  process: "process",
  complete: "complete",
  abandon: "abandon",
  deadLetter: "dead_letter",
  defer: "defer",
} as const;

/** `messaging.servicebus.disposition_status` values. */
export const DISPOSITION = {
  complete: "complete",
  abandon: "abandon",
  deadLetter: "dead_letter",
  defer: "defer",
} as const;
export type Disposition = (typeof DISPOSITION)[keyof typeof DISPOSITION];

/** Span events on the CONSUMER `process` span. */
export const EVENT = {
  retryScheduled: "sbworker.retry_scheduled",
  retryInPlace: "sbworker.retry_in_place",
  ledgerSkipped: "sbworker.ledger.skipped",
  ledgerHeld: "sbworker.ledger.held",
  lockRenewed: "sbworker.lock_renewed",
  lockLost: "sbworker.lock_lost",
  jobAborted: "sbworker.job_aborted",
  heartbeat: "sbworker.heartbeat",
  /** A settlement the broker accepted (`SBW_TRACE_SETTLEMENT=event`, the default). */
  settled: "sbworker.settled",
  /** A settlement the broker refused or never answered; the lock is left to expire. */
  settleFailed: "sbworker.settle_failed",
} as const;

/** Span names: `{operation} {destination}` as the conventions ask. */
export const SPAN_NAME = {
  send: (topic: string) => `send ${topic}`,
  schedule: (topic: string) => `schedule ${topic}`,
  /** The destination of a consumer is its subscription (`orders/fulfillment`). */
  process: (topic: string, subscription: string) => `process ${topic}/${subscription}`,
  settle: (operation: string, topic: string, subscription: string) => `${operation} ${topic}/${subscription}`,
} as const;

/** Trace-context application properties (./context.ts). */
export const PROPERTY = {
  traceparent: "traceparent",
  tracestate: "tracestate",
  /** What the Azure SDKs read and write (a W3C traceparent value). */
  diagnosticId: "Diagnostic-Id",
} as const;

/** New names of renamed attributes (semantic conventions 1.3x), for `messaging/dup`. */
const RENAMED: Readonly<Record<string, string>> = {
  [ATTR.messagingSystem]: "messaging.system.name",
  [ATTR.deliveryCount]: "azure.servicebus.message.delivery_count",
  [ATTR.enqueuedTime]: "azure.servicebus.message.enqueued_time",
  [ATTR.dispositionStatus]: "azure.servicebus.disposition_status",
};

/** True when `OTEL_SEMCONV_STABILITY_OPT_IN` lists `messaging/dup`. */
export function dupRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  return (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? "")
    .split(",")
    .map((s) => s.trim())
    .includes("messaging/dup");
}

/** Adds the newer names next to the old ones (`messaging.system.name` = `azure.servicebus`). */
export function withDup(attributes: Attributes): Attributes {
  const out: Attributes = { ...attributes };
  for (const [key, value] of Object.entries(attributes)) {
    const renamed = RENAMED[key];
    if (renamed === undefined) continue;
    out[renamed] = key === ATTR.messagingSystem ? "azure.servicebus" : value;
  }
  return out;
}

/** The attributes every span about a topic carries. */
export function topicAttributes(topic: string): Attributes {
  return { [ATTR.messagingSystem]: MESSAGING_SYSTEM, [ATTR.destinationName]: topic };
}
