/**
 * Log correlation: a pino `mixin` that adds `trace_id`, `span_id` and `trace_flags` (the field
 * names of the OpenTelemetry log data model) to every line logged while a span is active. A
 * handler's `ctx.log` runs inside its CONSUMER span, so its lines carry the job's trace; an API
 * request's lines carry the request's.
 */
import { context, isSpanContextValid, trace } from "@opentelemetry/api";

/** A fresh object each call: pino's default merge strategy assigns the line's fields into it. */
export function traceMixin(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return {
    trace_id: sc.traceId,
    span_id: sc.spanId,
    trace_flags: `0${sc.traceFlags.toString(16)}`.slice(-2),
  };
}
