import assert from "node:assert/strict";
import type { ServiceBusClient, ServiceBusMessage } from "@azure/service-bus";
import { ServiceBusError } from "@azure/service-bus";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { z } from "zod";
import {
  createPublisher,
  isPublishError,
  retryDelay,
  type PublishError,
} from "../../../src/publisher/index.js";
import { ATTR } from "../../../src/telemetry/attributes.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { memoryTracing, type MemoryTracing } from "../telemetry/helpers.js";

const topology = {
  jobs: defineTopic({
    name: "jobs-entity",
    messages: { Job: z.object({ id: z.string(), pad: z.string().optional() }) },
    messageId: (m) => `job:${m.payload.id}`,
    subscriptions: { work: {} },
  }),
  other: defineTopic({ name: "other", messages: { Ping: z.object({}) }, subscriptions: { s: {} } }),
} as const;

/** A fake client: senders record what they sent; batches hold up to `perBatch` messages. */
function fakeClient(options: { perBatch?: number; failures?: unknown[] } = {}) {
  const sent: { entity: string; messages: ServiceBusMessage[]; scheduledAt?: Date }[] = [];
  const failures = [...(options.failures ?? [])];
  let closedSenders = 0;
  let clientClosed = false;
  const client = {
    createSender(entity: string) {
      const maybeFail = () => {
        const f = failures.shift();
        if (f !== undefined) throw f as Error;
      };
      return {
        createMessageBatch: () => {
          const messages: ServiceBusMessage[] = [];
          return Promise.resolve({
            messages,
            tryAddMessage(m: ServiceBusMessage) {
              if (messages.length >= (options.perBatch ?? 100)) return false;
              messages.push(m);
              return true;
            },
          });
        },
        sendMessages(m: ServiceBusMessage | { messages: ServiceBusMessage[] }) {
          maybeFail();
          sent.push({ entity, messages: "messages" in m ? [...m.messages] : [m] });
          return Promise.resolve();
        },
        scheduleMessages(m: ServiceBusMessage | ServiceBusMessage[], at: Date) {
          maybeFail();
          const list = Array.isArray(m) ? m : [m];
          sent.push({ entity, messages: list, scheduledAt: at });
          return Promise.resolve(list.map((_, i) => ({ toString: () => String(100 + i) })));
        },
        close: () => {
          closedSenders += 1;
          return Promise.resolve();
        },
      };
    },
    close: () => {
      clientClosed = true;
      return Promise.resolve();
    },
  };
  return {
    client: client as unknown as ServiceBusClient,
    sent,
    closed: () => closedSenders,
    clientClosed: () => clientClosed,
  };
}

const busy = () => new ServiceBusError("busy", "ServiceBusy");
/** As the SDK translates a permanent broker error (constructed ones default to retryable). */
const permanent = (code: "UnauthorizedAccess" | "MessagingEntityNotFound") =>
  Object.assign(new ServiceBusError("refused", code), { retryable: false });

describe("publisher: sending", () => {
  let t: MemoryTracing;
  beforeEach(async () => (t = await memoryTracing()));
  afterEach(() => t.close());

  const noSleep = { sleep: () => Promise.resolve(), random: () => 0.5 };

  it("publishes one message with its PRODUCER span's context in traceparent and Diagnostic-Id", async () => {
    const fake = fakeClient();
    const publisher = createPublisher({ client: fake.client, topology });
    const request = trace.getTracer("test").startSpan("POST /jobs", { kind: SpanKind.SERVER });
    const result = await context.with(trace.setSpan(context.active(), request), () =>
      publisher.publish("jobs", "Job", { id: "1" }, { idempotencyKey: "req-1" }),
    );
    request.end();
    assert.deepEqual(result, { messageId: "Job:req-1", sessionId: undefined });
    const [{ entity, messages }] = fake.sent as [{ entity: string; messages: ServiceBusMessage[] }];
    assert.equal(entity, "jobs-entity");
    const props = messages[0]!.applicationProperties!;
    const producer = (await t.named("send jobs"))[0]!;
    assert.equal(producer.kind, SpanKind.PRODUCER);
    assert.equal(producer.parentSpanContext?.spanId, request.spanContext().spanId);
    assert.equal(
      props.traceparent,
      `00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-01`,
    );
    assert.equal(props["Diagnostic-Id"], props.traceparent);
    await publisher.close();
    await publisher.close();
    assert.equal(fake.closed(), 1);
    assert.equal(fake.clientClosed(), false, "a client passed in is the caller's to close");
  });

  it("names a single publish's options on its PRODUCER span, and only a single one's", async () => {
    const fake = fakeClient();
    const publisher = createPublisher({ client: fake.client, topology });
    const at = new Date(Date.now() + 60_000);
    await publisher.publish(
      "jobs",
      "Job",
      { id: "3" },
      { sessionId: "s-1", idempotencyKey: "req-3", correlationId: "corr-3", scheduledAt: at },
    );
    const [scheduled] = await t.named("schedule jobs");
    assert.equal(scheduled?.attributes[ATTR.sessionId], "s-1");
    assert.equal(scheduled?.attributes[ATTR.idempotencyKey], "req-3");
    assert.equal(scheduled?.attributes[ATTR.conversationId], "corr-3");
    assert.equal(scheduled?.attributes[ATTR.scheduledAt], at.toISOString());
    await publisher.publish("jobs", "Job", { id: "4" });
    const [plain] = await t.named("send jobs");
    for (const key of [ATTR.sessionId, ATTR.idempotencyKey, ATTR.conversationId, ATTR.scheduledAt])
      assert.equal(key in plain!.attributes, false, key);
    await publisher.publishBatch([
      { topic: "jobs", subject: "Job", payload: { id: "5" }, options: { sessionId: "s-5", scheduledAt: at } },
      { topic: "jobs", subject: "Job", payload: { id: "6" }, options: { sessionId: "s-6", scheduledAt: at } },
    ]);
    // A batch may mix sent and scheduled messages: its span is a "send" naming none of them.
    const batch = (await t.named("send jobs")).find((x) => x.attributes[ATTR.batchMessageCount] === 2);
    assert.ok(batch, "one PRODUCER span for the two scheduled together");
    assert.equal(ATTR.sessionId in batch.attributes, false, "a batch names no one message's session");
    assert.equal(ATTR.scheduledAt in batch.attributes, false);
    await publisher.close();
  });

  it("schedules with trace context too, and returns the sequence number", async () => {
    const fake = fakeClient();
    const publisher = createPublisher({ client: fake.client, topology });
    const at = new Date(Date.now() + 60_000);
    const result = await publisher.publish("jobs", "Job", { id: "2" }, { scheduledAt: at });
    assert.equal(result.sequenceNumber, "100");
    assert.equal(fake.sent[0]!.scheduledAt, at);
    assert.match(String(fake.sent[0]!.messages[0]!.applicationProperties!.traceparent), /^00-/);
    assert.equal((await t.named("schedule jobs")).length, 1);
  });

  it("retries a transient failure a bounded number of times with the same MessageId", async () => {
    const fake = fakeClient({ failures: [busy(), busy()] });
    const publisher = createPublisher({ client: fake.client, topology, seams: noSleep });
    await publisher.publish("jobs", "Job", { id: "3" });
    assert.equal(fake.sent.length, 1);

    const failing = fakeClient({ failures: [busy(), busy(), busy(), busy()] });
    const p2 = createPublisher({
      client: failing.client,
      topology,
      seams: noSleep,
      retry: { maxAttempts: 3 },
    });
    const error = (await p2.publish("jobs", "Job", { id: "3" }).catch((e: unknown) => e)) as PublishError;
    assert.ok(isPublishError(error));
    assert.equal(error.code, "Transient");
    assert.equal(error.attempts, 3);
    assert.equal((await t.named("send jobs")).at(-1)!.status.code, 2);
  });

  it("does not retry a permanent failure, and maps it to a code", async () => {
    const fake = fakeClient({ failures: [permanent("UnauthorizedAccess")] });
    const publisher = createPublisher({ client: fake.client, topology, seams: noSleep });
    const error = (await publisher
      .publish("jobs", "Job", { id: "4" })
      .catch((e: unknown) => e)) as PublishError;
    assert.equal(error.code, "Unauthorized");
    assert.equal(error.attempts, 1);
  });

  it("rejects an invalid payload before sending anything, and anything after close", async () => {
    const fake = fakeClient();
    const publisher = createPublisher({ client: fake.client, topology });
    const untyped = publisher as unknown as { publish(t: string, s: string, p: unknown): Promise<unknown> };
    await assert.rejects(untyped.publish("jobs", "Job", { id: 1 }), { code: "InvalidPayload" });
    await publisher.close();
    await assert.rejects(publisher.publish("jobs", "Job", { id: "5" }), { code: "Closed" });
    assert.equal(fake.sent.length, 0);
  });

  it("packs a batch into as few SDK batches as fit, per topic, in input order", async () => {
    const fake = fakeClient({ perBatch: 3 });
    const publisher = createPublisher({ client: fake.client, topology });
    const at = new Date(Date.now() + 60_000);
    const results = await publisher.publishBatch([
      ...Array.from({ length: 7 }, (_, i) => ({
        topic: "jobs" as const,
        subject: "Job" as const,
        payload: { id: `b${i}` },
      })),
      { topic: "other", subject: "Ping", payload: {} },
      { topic: "jobs", subject: "Job", payload: { id: "later" }, options: { scheduledAt: at } },
    ]);
    assert.equal(results.length, 9);
    assert.equal(results[0]!.messageId, "job:b0");
    assert.equal(results[8]!.messageId, "job:later");
    const jobs = fake.sent.filter((s) => s.entity === "jobs-entity");
    assert.deepEqual(
      jobs.map((s) => s.messages.length),
      [3, 3, 1, 1],
    );
    assert.equal(jobs[3]!.scheduledAt?.getTime(), at.getTime());
    assert.equal(fake.sent.filter((s) => s.entity === "other").length, 1);
    // One PRODUCER span per topic, its context on every message of the topic.
    const span = (await t.named("send jobs"))[0]!;
    assert.equal(span.attributes["messaging.batch.message_count"], 8);
    for (const s of jobs)
      for (const m of s.messages)
        assert.match(String(m.applicationProperties!.traceparent), new RegExp(span.spanContext().spanId));
  });

  it("reports what a failed batch had already sent", async () => {
    const fake = fakeClient({ perBatch: 2, failures: [undefined, permanent("MessagingEntityNotFound")] });
    const publisher = createPublisher({ client: fake.client, topology, seams: noSleep });
    const error = (await publisher
      .publishBatch(
        Array.from({ length: 4 }, (_, i) => ({
          topic: "jobs" as const,
          subject: "Job" as const,
          payload: { id: `f${i}` },
        })),
      )
      .catch((e: unknown) => e)) as PublishError;
    assert.equal(error.code, "EntityNotFound");
    assert.deepEqual(
      error.published.map((p) => p.messageId),
      ["job:f0", "job:f1"],
    );
  });

  it("backs off with full jitter under a cap", () => {
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 250 };
    assert.equal(
      retryDelay(1, policy, () => 0.999),
      99,
    );
    assert.equal(
      retryDelay(4, policy, () => 0.5),
      125,
    );
  });
});
