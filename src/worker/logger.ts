/** Structured JSON logs (pino), one line per event, to the given stream (stdout in production). */
import { pino, type Logger } from "pino";
import type { WorkerConfig } from "./config.js";

export function createLogger(level: WorkerConfig["logLevel"], stream: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "sbworker" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
