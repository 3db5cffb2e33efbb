/** An in-memory span exporter behind the real setup path (startTelemetry), for unit tests. */
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startTelemetry, type Telemetry } from "../../../src/telemetry/setup.js";

export interface MemoryTracing {
  readonly exporter: InMemorySpanExporter;
  readonly telemetry: Telemetry;
  /** Finished spans, after pending exports (resource detection makes them asynchronous). */
  spans(): Promise<ReadableSpan[]>;
  named(prefix: string): Promise<ReadableSpan[]>;
  close(): Promise<void>;
}

export async function memoryTracing(env: Record<string, string> = {}): Promise<MemoryTracing> {
  const exporter = new InMemorySpanExporter();
  const telemetry = await startTelemetry(env, { spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return {
    exporter,
    telemetry,
    spans: async () => {
      await telemetry.flush();
      return exporter.getFinishedSpans();
    },
    named: async (prefix) => {
      await telemetry.flush();
      return exporter.getFinishedSpans().filter((s) => s.name.startsWith(prefix));
    },
    close: async () => {
      await telemetry.shutdown();
      exporter.reset();
    },
  };
}
