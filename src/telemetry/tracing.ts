/**
 * The worker's spans (the trace model is drawn in docs/telemetry.md; the publisher's PRODUCER
 * span, whose context the message carries, is ./publishSpan.ts):
 *
 * - worker: one CONSUMER `process` span per handler attempt. By default it starts a trace of its
 *   own and LINKS to the publisher's context (a job can run hours after the request, and a
 *   request can fan out to many jobs); with `SBW_TRACE_PARENT_FROM_MESSAGE=true` it is PARENTED
 *   to it, so request and job share one trace. It never inherits whatever context happens to be
 *   active in the receive callback (an SDK client that also sends would otherwise parent it to an
 *   unrelated span);
 * - settlement: by default a `sbworker.settled` event on the process span (`sbworker.settle_failed`
 *   when the broker call failed), with `messaging.servicebus.disposition_status` and how long the
 *   broker took; with `SBW_TRACE_SETTLEMENT=span`, a CLIENT child span per broker settlement
 *   (`complete`, `abandon`, `dead_letter`) instead. A child span costs a sampled message about as
 *   much again as its process span (docs/telemetry.md, "Cost"). Retries, ledger hits, lock
 *   renewals and job aborts are events on the process span.
 *
 * With no SDK registered the API hands out non-recording spans and all of this costs little. A
 * process span is started with its subscription's attributes (built once; samplers see them) and
 * gets the per-message ones only when it records, so an unsampled attempt builds none.
 */
import type { Attributes, Context, Link, Span, SpanContext, Tracer } from "@opentelemetry/api";
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import type { DeliveryEvent } from "../worker/observer.js";
import type { Outcome, Settlement } from "../worker/policy.js";
import {
  ATTR,
  DISPOSITION,
  EVENT,
  OPERATION,
  OPERATION_TYPE,
  SPAN_NAME,
  topicAttributes,
  withDup,
  type Disposition,
} from "./attributes.js";
import { bySubscription } from "./bySubscription.js";
import { extractSpanContext } from "./context.js";
import { errorMessage, errorType, recordError, sbworkerTracer } from "./spans.js";

/** How a settlement is recorded (`SBW_TRACE_SETTLEMENT`). */
export type SettlementRecording = "event" | "span";

export interface WorkerTracingOptions {
  /** Parent the process span to the publisher's span instead of linking it (`SBW_TRACE_PARENT_FROM_MESSAGE`). */
  readonly parentFromMessage: boolean;
  /** An event on the process span (default), or a CLIENT child span per settlement. */
  readonly settlement?: SettlementRecording;
  readonly dup?: boolean;
  readonly tracer?: Tracer;
}

/** The settlement child span, ended once the broker answered. */
export interface SettleTrace {
  end(settlement: Settlement, error?: unknown): void;
}

/** The CONSUMER span of one handler attempt. */
export interface DeliveryTrace {
  readonly span: Span;
  /** The context the handler runs in: its logs carry this span's ids, its publishes are children. */
  readonly context: Context;
  /** Runs `fn` with {@link context} active. */
  run<T>(fn: () => T): T;
  event(name: string, attributes?: Attributes): void;
  /** The handler's outcome: status, `error.type`, exception. */
  handled(outcome: Outcome): void;
  /** A settlement the broker is about to hear. */
  startSettle(): SettleTrace;
  /** A session retry in place (no broker call: the lock is held through the backoff). */
  retryInPlace(settlement: Extract<Settlement, { kind: "retry" }>): void;
  /** Ends the span (idempotent). */
  end(): void;
}

export interface WorkerTracing {
  start(message: ServiceBusReceivedMessage, event: DeliveryEvent): DeliveryTrace;
}

/** The disposition the broker sees for a settlement (a retry schedules a copy, then completes). */
export function dispositionOf(settlement: Settlement): Disposition {
  switch (settlement.kind) {
    case "complete":
    case "retry":
      return DISPOSITION.complete;
    case "abandon":
      return DISPOSITION.abandon;
    case "deadLetter":
      return DISPOSITION.deadLetter;
  }
}

function settlementAttributes(settlement: Settlement): Attributes {
  return addSettlementAttributes({}, settlement);
}

function addSettlementAttributes(attributes: Attributes, settlement: Settlement): Attributes {
  attributes[ATTR.settlement] = settlement.kind;
  if (settlement.kind === "deadLetter") attributes[ATTR.deadLetterReason] = settlement.reason;
  if (settlement.kind === "retry") {
    attributes[ATTR.retryDelayMs] = settlement.delayMs;
    attributes[ATTR.nextAttempt] = settlement.nextAttempt;
  }
  return attributes;
}

function outcomeError(outcome: Outcome): { type: string; error?: unknown; message: string } | undefined {
  switch (outcome.kind) {
    case "success":
      return undefined;
    case "failed":
      return {
        type: errorType(outcome.error),
        error: outcome.error,
        message: errorMessage(outcome.error),
      };
    case "invalidBody":
      return { type: "SchemaValidationFailed", message: outcome.detail };
    case "noHandler":
      return { type: "NoHandler", message: `no handler for subject ${String(outcome.subject)}` };
    case "interrupted":
      return {
        type: errorType(outcome.reason),
        message: outcome.reason instanceof Error ? outcome.reason.message : "interrupted",
      };
  }
}

/**
 * One class for sampled and unsampled attempts alike, told apart by `recording`, so the
 * consumers' call sites see one class whatever the sampler decides (with a 10 % sampler, two
 * classes made them polymorphic on every message).
 */
class SpanDeliveryTrace implements DeliveryTrace {
  constructor(
    readonly span: Span,
    readonly context: Context,
    /**
     * The span records and has not ended: attributes, events and settlement are added. False for
     * an unsampled attempt (only its context is used), and from `end()` on, as `isRecording()`
     * turns false (a session's lock renewal in a retry's backoff outlives the attempt's span).
     */
    private recording: boolean,
    private readonly tracer: Tracer,
    private readonly spans: SubscriptionSpans,
    private readonly messageId: string,
    private readonly dup: boolean,
    private readonly settleAsSpan: boolean,
  ) {}

  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  event(name: string, attributes?: Attributes): void {
    if (this.recording) this.span.addEvent(name, attributes);
  }

  handled(outcome: Outcome): void {
    if (!this.recording) return;
    this.span.setAttribute(ATTR.outcome, outcome.kind);
    const failure = outcomeError(outcome);
    if (!failure) return;
    this.span.setAttribute(ATTR.errorType, failure.type);
    if (failure.error instanceof Error) this.span.recordException(failure.error);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  }

  startSettle(): SettleTrace {
    if (!this.recording) return NO_SETTLE;
    const started = Date.now();
    return {
      end: (settlement, error) => {
        const disposition = dispositionOf(settlement);
        if (this.settleAsSpan) this.settleSpan(disposition, settlement, started, error);
        else this.settleEvent(disposition, settlement, started, error);
        this.span.setAttribute(ATTR.dispositionStatus, disposition);
        if (settlement.kind === "retry") this.event(EVENT.retryScheduled, settlementAttributes(settlement));
      },
    };
  }

  private settleEvent(
    disposition: Disposition,
    settlement: Settlement,
    started: number,
    error: unknown,
  ): void {
    // Per-message fields before the spread of the constant part: on Node 20, properties added
    // after a spread take V8's slow path (about 1 µs; docs/performance.md).
    const attributes: Attributes = {
      [ATTR.settleDurationMs]: Date.now() - started,
      ...this.spans.settleEvent[disposition],
    };
    addSettlementAttributes(attributes, settlement);
    if (error !== undefined) {
      attributes[ATTR.errorType] = errorType(error);
      attributes[ATTR.exceptionMessage] = errorMessage(error);
    }
    this.span.addEvent(
      error === undefined ? EVENT.settled : EVENT.settleFailed,
      this.dup ? withDup(attributes) : attributes,
    );
  }

  private settleSpan(
    disposition: Disposition,
    settlement: Settlement,
    started: number,
    error: unknown,
  ): void {
    const settle = this.spans.settle[disposition];
    // One copy of the subscription's constant part; the rest is per message (fields first, as above).
    const attributes: Attributes = { [ATTR.messageId]: this.messageId, ...settle.attributes };
    addSettlementAttributes(attributes, settlement);
    const child = this.tracer.startSpan(
      settle.name,
      { kind: SpanKind.CLIENT, startTime: started, attributes: this.dup ? withDup(attributes) : attributes },
      this.context,
    );
    if (error !== undefined) recordError(child, error);
    child.end();
  }

  retryInPlace(settlement: Extract<Settlement, { kind: "retry" }>): void {
    if (!this.recording) return;
    this.span.addEvent(EVENT.retryInPlace, settlementAttributes(settlement));
    this.span.setAttribute(ATTR.settlement, settlement.kind);
  }

  end(): void {
    // Unsampled (a non-recording span has nothing to end) or already ended.
    if (!this.recording) return;
    this.recording = false;
    this.span.end();
  }
}

const NO_SETTLE: SettleTrace = { end: () => {} };

/** Shared, never written: the SDK only reads (maps) the links it is given. */
const NO_LINKS: Link[] = [];

/** What does not change from one message of a subscription to the next, built once. */
interface SubscriptionSpans {
  readonly name: string;
  /** Per disposition: the settlement span's name and constant attributes. */
  readonly settle: Readonly<Record<Disposition, { readonly name: string; readonly attributes: Attributes }>>;
  /** Per disposition: the settlement event's constant attributes. */
  readonly settleEvent: Readonly<Record<Disposition, Attributes>>;
  /**
   * Given at start, so samplers see them (the semantic conventions' sampling-relevant ones); the
   * per-message attributes are added only once the span is known to record.
   */
  readonly atStart: Attributes;
}

function perMessageAttributes(message: ServiceBusReceivedMessage, event: DeliveryEvent): Attributes {
  // Optional fields assigned, not spread in: each `...(cond ? {...} : {})` after the first
  // takes V8's slow path on Node 20 (docs/performance.md), for every sampled message.
  const attributes: Attributes = {
    [ATTR.messageId]: event.messageId,
    [ATTR.deliveryCount]: event.deliveryCount,
    [ATTR.attempt]: event.attempt,
  };
  const enqueued = message.enqueuedTimeUtc?.getTime();
  if (enqueued !== undefined) attributes[ATTR.enqueuedTime] = Math.floor(enqueued / 1000);
  if (event.subject !== undefined) attributes[ATTR.subject] = event.subject;
  if (event.sessionId !== undefined) attributes[ATTR.sessionId] = event.sessionId;
  if (message.correlationId !== undefined) attributes[ATTR.conversationId] = String(message.correlationId);
  return attributes;
}

export function createWorkerTracing(options: WorkerTracingOptions): WorkerTracing {
  const tracer = options.tracer ?? sbworkerTracer();
  const dup = options.dup ?? false;
  const linkMode = options.parentFromMessage ? "parent" : "link";
  const settleAsSpan = options.settlement === "span";
  const spansOf = bySubscription((topic, subscription): SubscriptionSpans => {
    const atStart: Attributes = {
      ...topicAttributes(topic),
      [ATTR.subscriptionName]: subscription,
      [ATTR.operationType]: OPERATION_TYPE.process,
      [ATTR.operationName]: OPERATION.process,
      [ATTR.linkMode]: linkMode,
    };
    const settleOf = (disposition: Disposition) => ({
      name: SPAN_NAME.settle(disposition, topic, subscription),
      attributes: {
        ...topicAttributes(topic),
        [ATTR.subscriptionName]: subscription,
        [ATTR.operationType]: OPERATION_TYPE.settle,
        [ATTR.operationName]: disposition,
        [ATTR.dispositionStatus]: disposition,
      },
    });
    // The event is on the process span, which names the destination already.
    const settleEventOf = (disposition: Disposition): Attributes => ({
      [ATTR.operationType]: OPERATION_TYPE.settle,
      [ATTR.operationName]: disposition,
      [ATTR.dispositionStatus]: disposition,
    });
    const dispositions = Object.values(DISPOSITION);
    return {
      name: SPAN_NAME.process(topic, subscription),
      settle: Object.fromEntries(dispositions.map((d) => [d, settleOf(d)])) as Record<
        Disposition,
        ReturnType<typeof settleOf>
      >,
      settleEvent: Object.fromEntries(dispositions.map((d) => [d, settleEventOf(d)])) as Record<
        Disposition,
        Attributes
      >,
      atStart: dup ? withDup(atStart) : atStart,
    };
  });
  return {
    start(message, event) {
      const spans = spansOf(event);
      // Parent mode needs the publisher's context to start the span. Link mode reads it only
      // once the span is known to record: the samplers sbworker configures do not look at
      // links, and an unsampled attempt (nine in ten with a 10 % sampler) then skips the parse
      // and the link (about 1 µs; docs/telemetry.md, "Cost").
      const remote: SpanContext | undefined = options.parentFromMessage
        ? extractSpanContext(message.applicationProperties)
        : undefined;
      const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
      const links = remote ? [{ context: remote }] : NO_LINKS;
      const span = tracer.startSpan(
        spans.name,
        { kind: SpanKind.CONSUMER, attributes: spans.atStart, links },
        parent,
      );
      // Unsampled: no link, no attributes to build, no events, no settlement spans; only the
      // context to run in (publishes from the handler carry "not sampled").
      const recording = span.isRecording();
      if (recording) {
        if (!options.parentFromMessage) {
          const linked = extractSpanContext(message.applicationProperties);
          if (linked) span.addLink({ context: linked });
        }
        const perMessage = perMessageAttributes(message, event);
        span.setAttributes(dup ? withDup(perMessage) : perMessage);
      }
      return new SpanDeliveryTrace(
        span,
        trace.setSpan(parent, span),
        recording,
        tracer,
        spans,
        event.messageId,
        dup,
        settleAsSpan,
      );
    },
  };
}
