import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { PROPERTY } from "../../../src/telemetry/attributes.js";
import { extractSpanContext, hasTraceContext, injectTraceContext } from "../../../src/telemetry/context.js";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const SPAN_ID = "b7ad6b7169203331";
const ctx = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  traceFlags: TraceFlags.SAMPLED,
  isRemote: false,
});
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe("telemetry: trace context on application properties", () => {
  it("writes traceparent and Diagnostic-Id (the same W3C value) without touching the input", () => {
    const input: Record<string, unknown> = { a: 1 };
    const out = injectTraceContext(input, ctx);
    assert.equal(out[PROPERTY.traceparent], TRACEPARENT);
    assert.equal(out[PROPERTY.diagnosticId], TRACEPARENT);
    assert.equal(out.a, 1);
    assert.deepEqual(input, { a: 1 });
  });

  it("never overwrites a context already on the message (traceparent or Diagnostic-Id)", () => {
    const other = `00-${"1".repeat(32)}-${"2".repeat(16)}-01`;
    assert.equal(injectTraceContext({ traceparent: other }, ctx)[PROPERTY.traceparent], other);
    const legacy = { "Diagnostic-Id": other };
    assert.deepEqual(injectTraceContext(legacy, ctx), legacy);
  });

  it("writes nothing when there is no valid span in the context", () => {
    assert.deepEqual(injectTraceContext({ a: 1 }, ROOT_CONTEXT), { a: 1 });
    assert.deepEqual(injectTraceContext(undefined, ROOT_CONTEXT), {});
  });

  it("writes the context on a message that has no properties yet", () => {
    const out = injectTraceContext<Record<string, unknown>>(undefined, ctx);
    assert.equal(out[PROPERTY.traceparent], TRACEPARENT);
    assert.equal(out[PROPERTY.diagnosticId], TRACEPARENT);
  });

  it("reads traceparent first, else Diagnostic-Id", () => {
    const other = `00-${"1".repeat(32)}-${"2".repeat(16)}-00`;
    const both = extractSpanContext({ traceparent: TRACEPARENT, "Diagnostic-Id": other });
    assert.equal(both?.traceId, TRACE_ID);
    assert.equal(both?.isRemote, true);
    const diag = extractSpanContext({ "Diagnostic-Id": other });
    assert.equal(diag?.traceId, "1".repeat(32));
    assert.equal(diag?.traceFlags, TraceFlags.NONE);
  });

  it("ignores what is not a W3C traceparent (a legacy Request-Id, garbage)", () => {
    assert.equal(extractSpanContext({ "Diagnostic-Id": "|abc.1." }), undefined);
    assert.equal(extractSpanContext({ traceparent: "nope" }), undefined);
    assert.equal(extractSpanContext(undefined), undefined);
    assert.equal(hasTraceContext({ traceparent: 5 }), false);
    assert.equal(hasTraceContext(undefined), false);
    assert.equal(hasTraceContext({ "Diagnostic-Id": TRACEPARENT }), true);
  });

  it("parses traceparent exactly as the OpenTelemetry W3C propagator does", () => {
    const w3c = new W3CTraceContextPropagator();
    const t = TRACE_ID;
    const s = SPAN_ID;
    const cases = [
      `00-${t}-${s}-01`,
      `00-${t}-${s}-00`,
      `00-${t}-${s}-ff`,
      `00-${t.toUpperCase()}-${s}-01`, // uppercase hex is not W3C
      `00-${t.toUpperCase()}-${s.toUpperCase()}-FF`, // in every part
      `00-${"0".repeat(32)}-${s}-01`,
      `00-${t}-${"0".repeat(16)}-01`,
      `ff-${t}-${s}-01`,
      `01-${t}-${s}-01-future`,
      `00-${t}-${s}-01-extra`,
      ` 00-${t}-${s}-01`,
      `00-${t}-${s}-0g`,
      `00_${t}-${s}-01`,
      `00-${t.slice(1)}-${s}-01`,
      // Characters next to the hex ranges, and one whose low bits look like "0".
      `00-${t.slice(0, 31)}/-${s}-01`,
      `00-${t.slice(0, 31)}:-${s}-01`,
      `00-${t}-${s.slice(0, 15)}\`-01`,
      `00-${t}-${s.slice(0, 15)}g-01`,
      `00-${t}-${s}-0\u0130`,
      `00-\u0130${t.slice(1)}-${s}-01`,
      `00-${t}-${s}-Ff`,
    ];
    for (const value of cases) {
      const theirs = trace.getSpanContext(
        w3c.extract(
          ROOT_CONTEXT,
          { traceparent: value },
          {
            keys: (c: Record<string, string>) => Object.keys(c),
            get: (c: Record<string, string>, k) => c[k],
          },
        ),
      );
      const ours = extractSpanContext({ traceparent: value });
      assert.deepEqual(
        ours && { ...ours, traceState: undefined },
        theirs && { ...theirs, traceState: undefined },
        value,
      );
    }
  });

  it("carries tracestate along", () => {
    const withState = trace.setSpanContext(ROOT_CONTEXT, {
      ...trace.getSpanContext(ctx)!,
      traceState: {
        serialize: () => "vendor=x",
        get: () => undefined,
        set: (() => {}) as never,
        unset: (() => {}) as never,
      },
    });
    const out = injectTraceContext<Record<string, unknown>>({}, withState);
    assert.equal(out[PROPERTY.tracestate], "vendor=x");
    const read = extractSpanContext(out);
    assert.equal(read?.traceState?.serialize(), "vendor=x");
    assert.equal(read?.traceState?.get("vendor"), "x");
    assert.equal(extractSpanContext({ traceparent: TRACEPARENT })?.traceState, undefined);
  });
});
