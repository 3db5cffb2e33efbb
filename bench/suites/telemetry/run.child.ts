/**
 * One telemetry-suite run in a process of its own: a fresh process per run, so one mode's JIT
 * state, async hooks and heap never carry over into the next run (in one process, a run right
 * after a traced one measured up to 20 % slower than the same mode after an untraced one).
 *
 * argv[2]: JSON `RunRequest`. Loads the worker (compiled, or from source), drains the pre-filled
 * subscription in the given mode, reports a `RunResult` over IPC and exits.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { constants, PerformanceObserver, type NodeGCPerformanceDetail } from "node:perf_hooks";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Telemetry } from "../../../src/telemetry/setup.js";
import { loadWorkerModules, type WorkerModules } from "../../lib/compiled.js";
import { noopWorkerOptions } from "../../lib/noopTopic.js";
import { Completion } from "../../lib/measure.js";
import { topologyFor, type GcTotals, type Mode, type RunRequest, type RunResult } from "./shared.js";

/** Drops spans after the batch processor hands them over; counts them. */
class DiscardExporter implements SpanExporter {
  exported = 0;
  /** Spans linked to the publisher's context: every process span, if the messages carry one. */
  linked = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exported += spans.length;
    for (const span of spans) if (span.links.length > 0) this.linked += 1;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Milliseconds of garbage collection during the timed part, by kind: what a mode's allocations
 * (and how long they live) cost beyond its own code.
 */
function watchGc(completion: Completion, skip: number) {
  const totals: GcTotals = { minorMs: 0, majorMs: 0, minor: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    if (completion.count < skip) return;
    for (const entry of list.getEntries()) {
      // `detail` is typed only on the GC entries of newer @types/node.
      const { kind } = (entry as unknown as { detail: NodeGCPerformanceDetail }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        totals.minor += 1;
        totals.minorMs += entry.duration;
      } else if (
        kind === constants.NODE_PERFORMANCE_GC_MAJOR ||
        kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL
      ) {
        totals.major += 1;
        totals.majorMs += entry.duration;
      }
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return { totals, stop: () => observer.disconnect() };
}

async function drain(
  modules: WorkerModules,
  connectionString: string,
  topic: string,
  mode: Mode,
  messages: number,
  skip: number,
) {
  const {
    startTelemetry,
    startWorker,
    loadConfig,
    defineHandlers,
    createWorkerTracing,
    createWorkerMetrics,
  } = modules;
  const topology = topologyFor(topic);
  let telemetry: Telemetry | undefined;
  const exporter = new DiscardExporter();
  const all = { OTEL_TRACES_SAMPLER: "always_on" };
  const ratio10 = { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" };
  const sampler: Partial<Record<Mode, Record<string, string>>> = {
    all,
    ratio10,
    unsampled: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" },
    allPromiseContext: { ...all, SBW_TRACE_CONTEXT: "promise" },
    ratio10PromiseContext: { ...ratio10, SBW_TRACE_CONTEXT: "promise" },
  };
  const env = sampler[mode];
  if (env) {
    telemetry = await startTelemetry(env, {
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 8192 })],
    });
  }
  if (mode === "promiseContext") {
    // The opt-in context manager without the SDK: its promise hooks run for every promise of
    // the process from `enable` on; one `with`, as a handler attempt does.
    const manager = new modules.PromiseContextManager().enable();
    manager.with(ROOT_CONTEXT.setValue(Symbol("bench"), 1), () => undefined);
  }
  if (mode === "asyncContext") {
    // What the SDK's context manager does to the process, without the SDK: its first
    // `context.with` (AsyncLocalStorage.run) enables async hooks, which on Node 20 then run for
    // every promise and callback of the process, for good.
    new AsyncLocalStorage<number>().run(1, () => undefined);
  }
  const completion = new Completion(messages, skip);
  const gc = watchGc(completion, skip);
  const worker = await startWorker({
    ...noopWorkerOptions({ loadConfig, defineHandlers }, topology, {
      SERVICEBUS_CONNECTION_STRING: connectionString,
      SBW_LEDGER: "off",
    }),
    ...(env
      ? {
          telemetry: {
            tracing: createWorkerTracing({ parentFromMessage: false }),
            metrics: createWorkerMetrics({ processMetrics: true }),
          },
        }
      : mode === "metrics"
        ? { telemetry: { metrics: createWorkerMetrics({ processMetrics: true }) } }
        : {}),
    observers: [{ settled: () => completion.tick() }],
  });
  try {
    await completion.done;
  } finally {
    await worker.close();
    await telemetry?.shutdown(); // flushes the batch processor: every sampled span is counted
  }
  gc.stop();
  const { wall, cpu } = completion.rate();
  return {
    rate: wall,
    cpuRate: cpu,
    kernelMicros: completion.kernelMicrosPerMessage(),
    exported: exporter.exported,
    linked: exporter.linked,
    gc: gc.totals,
  };
}

const request = JSON.parse(process.argv[2] ?? "{}") as RunRequest;
const modules = await loadWorkerModules(request.workerFrom, () => {});
const result: RunResult = await drain(
  modules,
  request.connectionString,
  request.topic,
  request.mode,
  request.messages,
  request.skip,
);
process.send!(result, () => process.exit(0));
