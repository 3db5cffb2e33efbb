/**
 * Structured JSON logs (pino), one line per event, to the given stream (stdout in production).
 * Lines logged inside a span carry its `trace_id` and `span_id` (src/telemetry/logging.ts).
 */
import { pino, type Logger } from "pino";
import { traceMixin } from "../telemetry/logging.js";
import type { WorkerConfig } from "./config.js";

export function createLogger(level: WorkerConfig["logLevel"], stream: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "sbworker" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // trace_id / span_id on every line logged inside a span (a handler, an API request).
      mixin: traceMixin,
    },
    stream,
  );
}
