/**
 * W3C trace context on a message's application properties.
 *
 * Publishing writes the active span's context as `traceparent` (and `tracestate` when there is
 * one) and as `Diagnostic-Id`, the property the Azure SDKs read and write (its value is a W3C
 * traceparent). A message that already carries a context (a replayed or copied message, or one a
 * caller prepared) keeps it: nothing is overwritten.
 *
 * The worker reads `traceparent`, else `Diagnostic-Id`. A legacy hierarchical `Request-Id` style
 * Diagnostic-Id (`|abc.1.`) is not a W3C value and is ignored.
 *
 * The W3C propagator is used directly rather than the global one, so the properties are the same
 * whatever propagator the process registered (B3, Jaeger...).
 */
import type { Context, SpanContext, TextMapGetter, TextMapSetter } from "@opentelemetry/api";
import { isSpanContextValid, trace } from "@opentelemetry/api";
import {
  parseTraceParent,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  TraceState,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { PROPERTY } from "./attributes.js";

type Properties = Record<string, unknown>;

const w3c = new W3CTraceContextPropagator();

const setter: TextMapSetter<Properties> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/** Reads one key; `traceparent` falls back to `Diagnostic-Id`. */
const getter: TextMapGetter<Readonly<Properties>> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value =
      key === PROPERTY.traceparent
        ? (carrier[PROPERTY.traceparent] ?? carrier[PROPERTY.diagnosticId])
        : carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

/** True when the properties already carry a trace context. */
export function hasTraceContext(properties: Readonly<Properties> | undefined): boolean {
  if (!properties) return false;
  return (
    typeof properties[PROPERTY.traceparent] === "string" ||
    typeof properties[PROPERTY.diagnosticId] === "string"
  );
}

/**
 * Returns `properties` with the context's span written as `traceparent`, `tracestate` and
 * `Diagnostic-Id`; the same object, untouched, when a context is already present or `ctx` has no
 * valid span. Never mutates its argument.
 */
export function injectTraceContext<P extends Properties>(properties: P | undefined, ctx: Context): P {
  const base = (properties ?? {}) as P;
  if (hasTraceContext(base)) return base;
  const span = trace.getSpanContext(ctx);
  if (!span || !isSpanContextValid(span)) return base;
  const out: Properties = { ...base };
  w3c.inject(ctx, out, setter);
  const traceparent = out[PROPERTY.traceparent];
  if (typeof traceparent === "string") out[PROPERTY.diagnosticId] = traceparent;
  return out as P;
}

/**
 * The remote span context a message carries (`traceparent`, else `Diagnostic-Id`), if any. What
 * the W3C propagator's `extract` does, without the contexts it builds around the result (this
 * runs for every message).
 */
export function extractSpanContext(properties: Readonly<Properties> | undefined): SpanContext | undefined {
  if (!properties || !hasTraceContext(properties)) return undefined;
  const traceparent = getter.get(properties, TRACE_PARENT_HEADER);
  if (typeof traceparent !== "string") return undefined;
  const extracted = parseVersion00(traceparent) ?? parseOther(traceparent);
  if (!extracted) return undefined;
  const tracestate = getter.get(properties, TRACE_STATE_HEADER);
  if (tracestate)
    extracted.traceState = new TraceState(typeof tracestate === "string" ? tracestate : undefined);
  return extracted;
}

const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

/** 1 at the character codes of lowercase hex digits, 0 elsewhere (indexes up to "f"). */
const LOWER_HEX = new Uint8Array(103);
for (const c of "0123456789abcdef") LOWER_HEX[c.charCodeAt(0)] = 1;

/** True when `value[from, to)` is lowercase hex: a table lookup per character, no branches. */
function isLowerHex(value: string, from: number, to: number): boolean {
  let ok = 1;
  for (let i = from; i < to; i += 1) {
    const c = value.charCodeAt(i);
    ok &= c < 103 ? LOWER_HEX[c]! : 0;
  }
  return ok === 1;
}

/**
 * The usual form, `00-<32 hex>-<16 hex>-<2 hex>` (what every publisher writes), checked by
 * character codes: the propagator's regular expression, and the validity check's two more, cost
 * more than the rest of extracting a context. Undefined for anything else (then `parseOther`).
 */
function parseVersion00(value: string): SpanContext | undefined {
  if (value.length !== 55 || value.charCodeAt(0) !== 48 || value.charCodeAt(1) !== 48) return undefined;
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45)
    return undefined;
  // Lowercase hex only, as the W3C grammar (and the OpenTelemetry propagator) require.
  if (!isLowerHex(value, 3, 35) || !isLowerHex(value, 36, 52) || !isLowerHex(value, 53, 55)) return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(value.slice(53, 55), 16), isRemote: true };
}

/** Other versions and whitespace, through the OpenTelemetry parser. */
function parseOther(value: string): SpanContext | undefined {
  const extracted = parseTraceParent(value);
  if (!extracted) return undefined;
  extracted.isRemote = true;
  return isSpanContextValid(extracted) ? extracted : undefined;
}
