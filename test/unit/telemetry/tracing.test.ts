import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import { ATTR, DISPOSITION, EVENT, withDup } from "../../../src/telemetry/attributes.js";
import { injectTraceContext } from "../../../src/telemetry/context.js";
import { startPublishSpan } from "../../../src/telemetry/publishSpan.js";
import { createWorkerTracing, dispositionOf } from "../../../src/telemetry/tracing.js";
import { TransientError } from "../../../src/worker/errors.js";
import type { DeliveryEvent } from "../../../src/worker/observer.js";
import { memoryTracing, type MemoryTracing } from "./helpers.js";

const event: DeliveryEvent = {
  topic: "orders",
  subscription: "audit",
  messageId: "m-1",
  sessionId: undefined,
  subject: "OrderPlaced",
  attempt: 1,
  deliveryCount: 0,
};

function received(properties: Record<string, unknown>): ServiceBusReceivedMessage {
  return {
    body: {},
    messageId: "m-1",
    applicationProperties: properties,
    enqueuedTimeUtc: new Date("2026-01-01T00:00:00Z"),
    correlationId: "req-1",
  } as unknown as ServiceBusReceivedMessage;
}

describe("telemetry: spans", () => {
  let t: MemoryTracing;
  beforeEach(async () => (t = await memoryTracing()));
  afterEach(() => t.close());

  /** Publishes inside a "request" span; returns the message properties and the spans' ids. */
  function publishInRequest(): { properties: Record<string, unknown>; traceId: string; producerId: string } {
    const request = trace.getTracer("test").startSpan("POST /orders", { kind: SpanKind.SERVER });
    const inRequest = trace.setSpan(context.active(), request);
    const { span, context: producerContext } = startPublishSpan(
      { topic: "orders", messageCount: 1, messageId: "m-1", subject: "OrderPlaced" },
      {},
      inRequest,
    );
    const properties = injectTraceContext({}, producerContext);
    span.end();
    request.end();
    return { properties, traceId: request.spanContext().traceId, producerId: span.spanContext().spanId };
  }

  it("links the process span to the publisher's span by default, in a trace of its own", async () => {
    const { properties, traceId, producerId } = publishInRequest();
    const d = createWorkerTracing({ parentFromMessage: false }).start(received(properties), event);
    d.end();
    const [process] = await t.named("process ");
    assert.ok(process);
    assert.equal(process.name, "process orders/audit");
    assert.equal(process.kind, SpanKind.CONSUMER);
    assert.notEqual(process.spanContext().traceId, traceId);
    assert.equal(process.parentSpanContext, undefined);
    assert.equal(process.links[0]?.context.spanId, producerId);
    assert.equal(process.attributes[ATTR.linkMode], "link");
  });

  it("parents the process span to the publisher's span with SBW_TRACE_PARENT_FROM_MESSAGE", async () => {
    const { properties, traceId, producerId } = publishInRequest();
    createWorkerTracing({ parentFromMessage: true }).start(received(properties), event).end();
    const [process] = await t.named("process ");
    assert.equal(process!.spanContext().traceId, traceId);
    assert.equal(process!.parentSpanContext?.spanId, producerId);
    const producer = (await t.named("send orders"))[0]!;
    assert.equal(producer.kind, SpanKind.PRODUCER);
    assert.equal(producer.attributes[ATTR.messagingSystem], "servicebus");
    assert.equal(producer.attributes[ATTR.operationType], "send");
  });

  it("never inherits the context active in the receive callback", async () => {
    const unrelated = trace.getTracer("test").startSpan("unrelated");
    context.with(trace.setSpan(context.active(), unrelated), () => {
      createWorkerTracing({ parentFromMessage: true }).start(received({}), event).end();
    });
    unrelated.end();
    assert.equal((await t.named("process "))[0]!.parentSpanContext, undefined);
  });

  it("carries the messaging attributes, runs the handler in its context and records the settlement", async () => {
    const d = createWorkerTracing({ parentFromMessage: false }).start(received({}), {
      ...event,
      deliveryCount: 2,
      attempt: 3,
    });
    const inside = d.run(() => trace.getSpan(context.active())?.spanContext().spanId);
    assert.equal(inside, d.span.spanContext().spanId);
    d.event(EVENT.lockRenewed, { [ATTR.lock]: "message" });
    d.handled({ kind: "failed", error: new TransientError("db down") });
    d.startSettle().end({ kind: "retry", delayMs: 10, nextAttempt: 4 });
    d.end();
    d.end(); // idempotent
    const process = (await t.named("process "))[0]!;
    assert.equal(process.attributes[ATTR.subscriptionName], "audit");
    assert.equal(process.attributes[ATTR.destinationName], "orders");
    assert.equal(process.attributes[ATTR.operationName], "process");
    assert.equal(process.attributes[ATTR.deliveryCount], 2);
    assert.equal(process.attributes[ATTR.attempt], 3);
    assert.equal(process.attributes[ATTR.enqueuedTime], 1_767_225_600);
    assert.equal(process.attributes[ATTR.conversationId], "req-1");
    assert.equal(process.attributes[ATTR.subject], "OrderPlaced");
    assert.equal(ATTR.sessionId in process.attributes, false, "no session, no session attribute");
    assert.equal(process.attributes[ATTR.errorType], "TransientError");
    assert.equal(process.attributes[ATTR.dispositionStatus], "complete");
    assert.equal(process.status.code, SpanStatusCode.ERROR);
    assert.deepEqual(
      process.events.map((e) => e.name),
      [EVENT.lockRenewed, "exception", EVENT.settled, EVENT.retryScheduled],
    );
    // By default the settlement is an event on the process span, not a span of its own.
    const settled = process.events.find((e) => e.name === EVENT.settled)!;
    assert.equal(settled.attributes?.[ATTR.operationType], "settle");
    assert.equal(settled.attributes?.[ATTR.operationName], "complete");
    assert.equal(settled.attributes?.[ATTR.dispositionStatus], "complete");
    assert.equal(settled.attributes?.[ATTR.settlement], "retry");
    assert.equal(settled.attributes?.[ATTR.retryDelayMs], 10);
    const settleMs = settled.attributes?.[ATTR.settleDurationMs];
    assert.ok(typeof settleMs === "number" && settleMs >= 0 && settleMs < 3_600_000, "a duration");
    assert.deepEqual(await t.named("complete "), []);
  });

  it("records the settlement as a CLIENT child span with SBW_TRACE_SETTLEMENT=span", async () => {
    const d = createWorkerTracing({ parentFromMessage: false, settlement: "span" }).start(
      received({}),
      event,
    );
    d.startSettle().end({ kind: "retry", delayMs: 10, nextAttempt: 2 });
    d.end();
    const process = (await t.named("process "))[0]!;
    assert.deepEqual(
      process.events.map((e) => e.name),
      [EVENT.retryScheduled],
    );
    assert.equal(process.attributes[ATTR.dispositionStatus], "complete");
    const settle = (await t.named("complete "))[0]!;
    assert.equal(settle.name, "complete orders/audit");
    assert.equal(settle.kind, SpanKind.CLIENT);
    assert.equal(settle.parentSpanContext?.spanId, process.spanContext().spanId);
    assert.equal(settle.attributes[ATTR.operationType], "settle");
    assert.equal(settle.attributes[ATTR.settlement], "retry");
    assert.equal(settle.attributes[ATTR.messageId], "m-1");
  });

  it("records a failed settlement as a settle_failed event, or as an error span in span mode", async () => {
    const deadLetter = { kind: "deadLetter", reason: "NoHandler", description: "{}" } as const;
    const d = createWorkerTracing({ parentFromMessage: false }).start(received({}), event);
    d.startSettle().end(deadLetter, new Error("link detached"));
    d.end();
    const failed = (await t.named("process "))[0]!.events.find((e) => e.name === EVENT.settleFailed);
    assert.ok(failed);
    assert.equal(failed.attributes?.[ATTR.dispositionStatus], "dead_letter");
    assert.equal(failed.attributes?.[ATTR.deadLetterReason], "NoHandler");
    assert.equal(failed.attributes?.[ATTR.errorType], "Error");
    assert.equal(failed.attributes?.[ATTR.exceptionMessage], "link detached");

    const s = createWorkerTracing({ parentFromMessage: false, settlement: "span" }).start(
      received({}),
      event,
    );
    s.startSettle().end(deadLetter, new Error("link detached"));
    s.end();
    const settle = (await t.named("dead_letter "))[0]!;
    assert.equal(settle.status.code, SpanStatusCode.ERROR);
    assert.equal(settle.attributes[ATTR.deadLetterReason], "NoHandler");
  });

  it("records nothing more once the attempt has ended (a lock renewal or abandon after a retry's span)", async () => {
    const d = createWorkerTracing({ parentFromMessage: false, settlement: "span" }).start(
      received({}),
      event,
    );
    d.end();
    d.event(EVENT.lockRenewed, { [ATTR.lock]: "session" });
    d.startSettle().end({ kind: "abandon" });
    const [process] = await t.named("process ");
    assert.ok(process);
    assert.deepEqual(
      process.events.map((e) => e.name),
      [],
    );
    assert.deepEqual(await t.named("abandon "), []);
  });

  it("puts each given publish field on the PRODUCER span, and none that was not given", async () => {
    const at = new Date("2026-12-01T08:00:00Z");
    startPublishSpan({
      topic: "orders",
      messageCount: 1,
      messageId: "m-9",
      subject: "OrderPlaced",
      sessionId: "o-9",
      correlationId: "req-9",
      idempotencyKey: "k-9",
      scheduledAt: at,
    }).span.end();
    startPublishSpan({ topic: "orders", messageCount: 3 }).span.end();
    const [one, batch] = await t.named("");
    assert.ok(one && batch);
    assert.equal(one.name, "schedule orders");
    assert.deepEqual(
      [
        ATTR.messageId,
        ATTR.subject,
        ATTR.sessionId,
        ATTR.conversationId,
        ATTR.idempotencyKey,
        ATTR.scheduledAt,
        ATTR.operationName,
        ATTR.destinationName,
      ].map((k) => one.attributes[k]),
      ["m-9", "OrderPlaced", "o-9", "req-9", "k-9", at.toISOString(), "schedule", "orders"],
    );
    assert.equal(one.attributes[ATTR.batchMessageCount], undefined);
    assert.equal(batch.attributes[ATTR.batchMessageCount], 3);
    assert.equal(batch.attributes[ATTR.operationName], "send");
    for (const k of [ATTR.messageId, ATTR.subject, ATTR.sessionId, ATTR.idempotencyKey, ATTR.scheduledAt])
      assert.equal(batch.attributes[k], undefined, k);
  });

  it("maps settlements to dispositions and emits the renamed attributes on request", () => {
    assert.equal(dispositionOf({ kind: "abandon" }), DISPOSITION.abandon);
    assert.equal(dispositionOf({ kind: "retry", delayMs: 1, nextAttempt: 2 }), DISPOSITION.complete);
    const dup = withDup({ [ATTR.messagingSystem]: "servicebus", [ATTR.deliveryCount]: 1 });
    assert.equal(dup["messaging.system.name"], "azure.servicebus");
    assert.equal(dup["azure.servicebus.message.delivery_count"], 1);
    assert.equal(dup[ATTR.messagingSystem], "servicebus");
  });
});

describe("telemetry: unsampled attempts", () => {
  let t: MemoryTracing | undefined;
  afterEach(() => t?.close());

  it("runs the handler in a valid, not-sampled context and records nothing", async () => {
    t = await memoryTracing({ OTEL_TRACES_SAMPLER: "always_off" });
    const d = createWorkerTracing({ parentFromMessage: false }).start(received({}), event);
    const active = d.run(() => trace.getSpan(context.active())?.spanContext());
    assert.ok(active && trace.isSpanContextValid(active));
    assert.equal(active.traceFlags & 1, 0);
    d.event(EVENT.ledgerHeld);
    d.handled({ kind: "failed", error: new Error("boom") });
    d.retryInPlace({ kind: "retry", delayMs: 1, nextAttempt: 2 });
    d.startSettle().end({ kind: "complete" });
    d.end();
    d.end();
    assert.deepEqual(await t.spans(), []);
  });

  it("in link mode, reads the message's trace context only for an attempt that records", async () => {
    const producerId = "b7ad6b7169203331";
    const properties = { traceparent: `00-0af7651916cd43dd8448eb211c80319c-${producerId}-01` };
    const reads: string[] = [];
    const watched = new Proxy(properties, {
      get(target, key, receiver) {
        if (typeof key === "string") reads.push(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    t = await memoryTracing({ OTEL_TRACES_SAMPLER: "always_off" });
    createWorkerTracing({ parentFromMessage: false }).start(received(watched), event).end();
    assert.equal(reads.length, 0, `an unsampled attempt parses nothing, read ${reads.join(", ")}`);
    await t.close();

    t = await memoryTracing({ OTEL_TRACES_SAMPLER: "always_on" });
    createWorkerTracing({ parentFromMessage: false }).start(received(watched), event).end();
    assert.ok(reads.includes("traceparent"), "a recorded attempt reads it");
    const [process] = await t.named("process ");
    assert.equal(process?.links.length, 1);
    assert.equal(process?.links[0]?.context.spanId, producerId);
  });

  it("records attributes and settlements only on the attempts a ratio sampler keeps", async () => {
    t = await memoryTracing({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" });
    const tracing = createWorkerTracing({ parentFromMessage: false });
    const attempts = Array.from({ length: 40 }, (_, i) => {
      const d = tracing.start(received({}), { ...event, messageId: `m-${i}` });
      d.handled({ kind: "success" });
      d.startSettle().end({ kind: "complete" });
      d.end();
      return d.span.spanContext();
    });
    const sampled = attempts.filter((c) => (c.traceFlags & 1) === 1).map((c) => c.spanId);
    const exported = await t.named("process ");
    // 40 fair coin flips: all heads or all tails has a chance of 2 in 2^40.
    assert.ok(sampled.length > 0 && sampled.length < 40);
    assert.deepEqual(exported.map((s) => s.spanContext().spanId).sort(), [...sampled].sort());
    for (const span of exported) {
      assert.match(String(span.attributes[ATTR.messageId]), /^m-\d+$/);
      assert.equal(span.attributes[ATTR.outcome], "success");
      assert.ok(span.events.some((e) => e.name === EVENT.settled));
    }
  });
});
