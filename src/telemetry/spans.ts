/** The tracer sbworker's spans come from, and how a span records an error. */
import type { Span, Tracer } from "@opentelemetry/api";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { ATTR } from "./attributes.js";

export const TRACER_NAME = "sbworker";

export function sbworkerTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Error class or code for `error.type`. */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && code.length > 0 ? code : error.name;
  }
  return typeof error;
}

/** The error's message, for a span status or an `exception.message`. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Marks a span failed with the error recorded as an exception event. */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR.errorType, errorType(error));
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: errorMessage(error),
  });
}
