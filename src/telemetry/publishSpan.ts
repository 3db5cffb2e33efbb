/**
 * The PRODUCER span of one publish (one per topic group of a `publishBatch`), a child of the
 * caller's active span; its context is what the message carries (./context.ts). The trace model
 * is drawn in docs/telemetry.md.
 */
import type { Attributes, Context, Span, Tracer } from "@opentelemetry/api";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { ATTR, OPERATION, OPERATION_TYPE, SPAN_NAME, topicAttributes, withDup } from "./attributes.js";
import { sbworkerTracer } from "./spans.js";

export interface PublishSpanInput {
  readonly topic: string;
  readonly messageCount: number;
  /** Set for a single message. */
  readonly messageId?: string;
  readonly subject?: string;
  readonly sessionId?: string;
  readonly correlationId?: string;
  readonly idempotencyKey?: string;
  readonly scheduledAt?: Date;
}

export interface PublishTracingOptions {
  readonly tracer?: Tracer;
  /** Also emit the renamed attributes (`OTEL_SEMCONV_STABILITY_OPT_IN=messaging/dup`). */
  readonly dup?: boolean;
}

/** Starts the PRODUCER span of one send (or schedule), as a child of `parent` (the active context). */
export function startPublishSpan(
  input: PublishSpanInput,
  options: PublishTracingOptions = {},
  parent: Context = context.active(),
): { readonly span: Span; readonly context: Context } {
  const operation = input.scheduledAt ? OPERATION.schedule : OPERATION.send;
  // Optional fields assigned, not spread in from conditional objects (docs/performance.md).
  const attributes: Attributes = {
    [ATTR.operationType]: OPERATION_TYPE.send,
    [ATTR.operationName]: operation,
    ...topicAttributes(input.topic),
  };
  if (input.messageCount > 1) attributes[ATTR.batchMessageCount] = input.messageCount;
  if (input.messageId !== undefined) attributes[ATTR.messageId] = input.messageId;
  if (input.subject !== undefined) attributes[ATTR.subject] = input.subject;
  if (input.sessionId !== undefined) attributes[ATTR.sessionId] = input.sessionId;
  if (input.correlationId !== undefined) attributes[ATTR.conversationId] = input.correlationId;
  if (input.idempotencyKey !== undefined) attributes[ATTR.idempotencyKey] = input.idempotencyKey;
  if (input.scheduledAt) attributes[ATTR.scheduledAt] = input.scheduledAt.toISOString();
  const span = (options.tracer ?? sbworkerTracer()).startSpan(
    input.scheduledAt ? SPAN_NAME.schedule(input.topic) : SPAN_NAME.send(input.topic),
    { kind: SpanKind.PRODUCER, attributes: options.dup ? withDup(attributes) : attributes },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}
