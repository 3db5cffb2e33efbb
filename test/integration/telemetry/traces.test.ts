import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ATTR, EVENT } from "../../../src/telemetry/attributes.js";
import type { ContextPropagation } from "../../../src/telemetry/setup.js";
import { createLogger } from "../../../src/worker/logger.js";
import { memoryTracing, type MemoryTracing } from "../../unit/telemetry/helpers.js";
import { eventually } from "../worker/helpers.js";
import { handlers, startStack, type Stack } from "./helpers.js";

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const ok = () => Promise.resolve();

describe("telemetry: one trace from the HTTP request to the worker (SDK against the emulator)", function () {
  this.timeout(30_000);
  let t: MemoryTracing;
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await t.close();
  });

  describe("parent mode (SBW_TRACE_PARENT_FROM_MESSAGE=true), settlement spans (SBW_TRACE_SETTLEMENT=span)", () => {
    beforeEach(async () => {
      t = await memoryTracing();
      stack = await startStack(handlers(), {
        SBW_TRACE_PARENT_FROM_MESSAGE: "true",
        SBW_TRACE_SETTLEMENT: "span",
      });
    });

    it("chains SERVER → PRODUCER → CONSUMER for a plain and a session subscription, across a retry", async () => {
      const s = stack!;
      const answer = await s.post("/orders", { customerId: "retry" }, { "Idempotency-Key": "req-42" });
      assert.equal(answer.messageId, "OrderPlaced:req-42");
      await s.recorder.until(
        () =>
          s.recorder.settledEvents.some(
            (e) => e.subscription === "audit" && e.settlement.kind === "complete",
          ) && s.recorder.settledEvents.some((e) => e.subscription === "fulfillment"),
      );
      // The first attempt's span ends when its `complete` returns, which can be after the retry ran.
      await eventually(async () => byName(await t.spans(), "process orders/audit").length === 2);
      const spans = await t.spans();
      const [server] = byName(spans, "POST /orders");
      const [producer] = byName(spans, "send orders");
      assert.ok(server && producer, spans.map((x) => x.name).join(", "));
      const traceId = server.spanContext().traceId;
      assert.equal(answer.traceId, traceId);
      assert.equal(server.kind, SpanKind.SERVER);
      assert.equal(producer.kind, SpanKind.PRODUCER);
      assert.equal(parentOf(producer), server.spanContext().spanId);

      const audit = byName(spans, "process orders/audit").sort(
        (a, b) => Number(a.attributes[ATTR.attempt]) - Number(b.attributes[ATTR.attempt]),
      );
      assert.deepEqual(
        audit.map((x) => x.attributes[ATTR.attempt]),
        [1, 2],
        "two attempts: a retry",
      );
      const [fulfillment] = byName(spans, "process orders/fulfillment");
      assert.ok(fulfillment);
      assert.equal(fulfillment.attributes[ATTR.sessionId], answer.sessionId);
      for (const process of [...audit, fulfillment]) {
        assert.equal(process.kind, SpanKind.CONSUMER);
        assert.equal(process.spanContext().traceId, traceId, `${process.name} is in the request's trace`);
        assert.equal(parentOf(process), producer.spanContext().spanId);
        assert.match(String(process.attributes[ATTR.messageId]), /^OrderPlaced:req-42/);
      }
      assert.equal(audit[0]!.attributes[ATTR.outcome], "failed");
      assert.ok(audit[0]!.events.some((e) => e.name === "sbworker.retry_scheduled"));
      // Settlement spans are children of their process span, with the disposition.
      const settles = spans.filter((x) => x.attributes[ATTR.operationType] === "settle");
      for (const process of [...audit, fulfillment]) {
        const settle = settles.find((x) => parentOf(x) === process.spanContext().spanId);
        assert.equal(settle?.attributes[ATTR.dispositionStatus], "complete", process.name);
      }
    });

    it("chains SERVER → PRODUCER (schedule) → CONSUMER for a scheduled message", async () => {
      const s = stack!;
      const runAt = new Date(Date.now() + 400).toISOString();
      const answer = await s.post("/reports", { rows: 10, runAt });
      assert.ok(answer.sequenceNumber !== undefined);
      await s.recorder.until(() => s.recorder.settledEvents.some((e) => e.subscription === "generate"));
      const spans = await t.spans();
      const [server] = byName(spans, "POST /reports");
      const [producer] = byName(spans, "schedule reports");
      const [process] = byName(spans, "process reports/generate");
      assert.ok(server && producer && process, spans.map((x) => x.name).join(", "));
      assert.equal(producer.attributes[ATTR.operationName], "schedule");
      assert.equal(parentOf(process), producer.spanContext().spanId);
      assert.equal(process.spanContext().traceId, server.spanContext().traceId);
    });
  });

  describe("link mode and settlement events (the defaults)", () => {
    beforeEach(async () => {
      t = await memoryTracing();
      stack = await startStack(handlers());
    });

    it("starts a trace per job, linked to the PRODUCER span, for plain and session subscriptions", async () => {
      const s = stack!;
      await s.post("/orders", {});
      await s.recorder.until(() => s.recorder.settledEvents.length >= 2);
      const spans = await t.spans();
      const [producer] = byName(spans, "send orders");
      assert.ok(producer);
      for (const name of ["process orders/audit", "process orders/fulfillment"]) {
        const [process] = byName(spans, name);
        assert.ok(process, name);
        assert.notEqual(process.spanContext().traceId, producer.spanContext().traceId);
        assert.equal(process.parentSpanContext, undefined);
        assert.equal(process.links[0]?.context.spanId, producer.spanContext().spanId);
        assert.equal(process.links[0]?.context.traceId, producer.spanContext().traceId);
        const settled = process.events.find((e) => e.name === EVENT.settled);
        assert.equal(settled?.attributes?.[ATTR.dispositionStatus], "complete", name);
      }
      assert.deepEqual(
        spans.filter((x) => x.attributes[ATTR.operationType] === "settle"),
        [],
        "no settlement spans by default",
      );
    });
  });

  /**
   * What the context manager must keep: a handler's log lines and follow-up publishes belong to
   * its process span however many awaits come before them (a synchronous-only context fails this
   * after the first one).
   */
  for (const propagation of ["async-local-storage", "promise"] satisfies ContextPropagation[]) {
    describe(`a handler's span follows its awaits (SBW_TRACE_CONTEXT=${propagation})`, () => {
      it("logs and publishes after timers, Promise.all and a publish as children of the process span", async () => {
        t = await memoryTracing({ SBW_TRACE_CONTEXT: propagation });
        const lines: Record<string, unknown>[] = [];
        const sink = new Writable({
          write(chunk: Buffer, _enc, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        });
        // Several handlers in flight at once: each must keep its own span, not a neighbour's.
        const orderIds = ["ctx-1", "ctx-2", "ctx-3"];
        stack = await startStack(
          {
            orders: {
              audit: {
                OrderPlaced: async (payload, ctx) => {
                  await sleep(5);
                  await Promise.all([sleep(1), Promise.resolve(), sleep(3)]);
                  ctx.log.info({ orderId: payload.orderId }, "after awaits");
                  await ctx.publish("reports", "ReportRequested", {
                    reportId: `r-${payload.orderId}`,
                    kind: "sales",
                    rows: 1,
                  });
                  ctx.log.info({ orderId: payload.orderId }, "after publish");
                },
              },
              fulfillment: { OrderPlaced: ok },
            },
            reports: { generate: { ReportRequested: ok } },
          },
          {},
          createLogger("info", sink),
        );
        const s = stack;
        await Promise.all(
          orderIds.map((id) => s.post("/orders", { customerId: id }, { "Idempotency-Key": id })),
        );
        await s.recorder.until(
          () =>
            s.recorder.settledEvents.filter((e) => e.subscription === "generate").length === orderIds.length,
        );
        await eventually(async () => (await t.named("process orders/audit")).length === orderIds.length);
        const spans = await t.spans();
        const audits = spans.filter((sp) => sp.name === "process orders/audit");
        const sends = spans.filter((sp) => sp.name === "send reports" && sp.kind === SpanKind.PRODUCER);
        assert.equal(sends.length, orderIds.length);
        for (const send of sends) {
          const parent = audits.find((a) => a.spanContext().spanId === send.parentSpanContext?.spanId);
          assert.ok(parent, `the follow-up publish ${String(send.attributes[ATTR.messageId])} has no parent`);
          assert.equal(send.spanContext().traceId, parent.spanContext().traceId);
        }
        // The API's own publishes, after it read the request body with `for await`: children of
        // their SERVER span.
        const servers = byName(spans, "POST /orders");
        const published = spans.filter((sp) => sp.name === "send orders" && sp.kind === SpanKind.PRODUCER);
        assert.equal(published.length, orderIds.length);
        for (const p of published)
          assert.ok(
            servers.some((sv) => sv.spanContext().spanId === parentOf(p)),
            "a POST /orders publish has no SERVER parent",
          );
        const parentsOfSends = new Set(sends.map((x) => x.parentSpanContext?.spanId));
        assert.equal(parentsOfSends.size, orderIds.length, "each follow-up belongs to its own attempt");

        for (const msg of ["after awaits", "after publish"]) {
          const logged = lines.filter((l) => l.msg === msg);
          assert.equal(logged.length, orderIds.length);
          for (const line of logged) {
            const audit = audits.find((a) => a.spanContext().spanId === line.span_id);
            assert.ok(audit, `"${msg}" for ${String(line.orderId)} carries no process span id`);
            assert.equal(line.trace_id, audit.spanContext().traceId);
            const send = sends.find((x) => x.parentSpanContext?.spanId === line.span_id);
            assert.equal(
              send?.attributes[ATTR.messageId],
              `report:r-${String(line.orderId)}`,
              `"${msg}" for ${String(line.orderId)} is in another attempt's span`,
            );
          }
        }
      });
    });
  }
});
