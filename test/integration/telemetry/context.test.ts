import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import { ATTR } from "../../../src/telemetry/attributes.js";
import type { ContextPropagation } from "../../../src/telemetry/setup.js";
import { createLogger } from "../../../src/worker/logger.js";
import { memoryTracing, type MemoryTracing } from "../../unit/telemetry/helpers.js";
import { eventually } from "../worker/helpers.js";
import { startStack, type Stack } from "./helpers.js";

const ok = () => Promise.resolve();

/**
 * What the context manager must keep: a handler's log lines and follow-up publishes belong to its
 * process span however many awaits come before them (a synchronous-only context fails this after
 * the first one).
 */
for (const propagation of ["promise", "async-local-storage"] satisfies ContextPropagation[]) {
  describe(`telemetry: a handler's span follows its awaits (SBW_TRACE_CONTEXT=${propagation})`, function () {
    this.timeout(30_000);
    let t: MemoryTracing;
    let stack: Stack | undefined;

    afterEach(async () => {
      await stack?.close();
      stack = undefined;
      await t.close();
    });

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
