import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { context, trace } from "@opentelemetry/api";
import { createLogger } from "../../../src/worker/logger.js";
import { memoryTracing, type MemoryTracing } from "./helpers.js";

describe("telemetry: log correlation", () => {
  let t: MemoryTracing;
  beforeEach(async () => (t = await memoryTracing()));
  afterEach(() => t.close());

  it("adds trace_id and span_id to lines logged inside a span, and nothing outside", () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const log = createLogger("info", sink).child({
      messageId: "m-1",
      subscription: "orders/audit",
      attempt: 1,
    });
    const span = trace.getTracer("test").startSpan("process orders/audit");
    context.with(trace.setSpan(context.active(), span), () => log.info({ port: 1 }, "inside"));
    log.info("outside");
    span.end();
    assert.equal(lines[0]!.trace_id, span.spanContext().traceId);
    assert.equal(lines[0]!.span_id, span.spanContext().spanId);
    assert.equal(lines[0]!.trace_flags, "01");
    assert.equal(lines[0]!.messageId, "m-1");
    assert.equal(lines[0]!.port, 1);
    assert.equal(lines[1]!.trace_id, undefined);
    assert.equal(lines[1]!.attempt, 1);
  });
});
