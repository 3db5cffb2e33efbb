/** What the telemetry suite (../telemetry.ts) and its per-run child (./run.child.ts) share. */
import { noopTopology } from "../../lib/noopTopic.js";
import type { WorkerModules } from "../../lib/compiled.js";

export const CONCURRENCY = 16;
/**
 * The two the issue sets targets for (`all`, `ratio10`, against `off`, with the default context
 * manager, OpenTelemetry's AsyncLocalStorage one), the same two with `SBW_TRACE_CONTEXT=promise`
 * (`allPromiseContext`, `ratio10PromiseContext`), and four that split the cost into parts:
 * `metrics` (the Prometheus observer alone), `asyncContext` (Node's async hooks enabled, as the
 * AsyncLocalStorage manager enables them, and nothing else), `promiseContext` (sbworker's
 * promise-hook manager enabled and entered once, nothing else), `unsampled` (tracing + metrics
 * with a sampler that records nothing).
 */
export type Mode =
  | "off"
  | "all"
  | "ratio10"
  | "allPromiseContext"
  | "ratio10PromiseContext"
  | "metrics"
  | "asyncContext"
  | "promiseContext"
  | "unsampled";

/** The modes a full run measures, in this order. */
export const MODES: readonly Mode[] = [
  "off",
  "all",
  "ratio10",
  "allPromiseContext",
  "ratio10PromiseContext",
  "metrics",
  "asyncContext",
  "promiseContext",
  "unsampled",
];

export const topologyFor = (name: string) => noopTopology(name, CONCURRENCY);

export interface RunRequest {
  readonly connectionString: string;
  readonly topic: string;
  readonly mode: Mode;
  readonly messages: number;
  /** Settlements before timing starts (JIT warm-up of the fresh process). */
  readonly skip: number;
  readonly workerFrom: WorkerModules["from"];
}

export interface RunResult {
  readonly rate: number;
  readonly cpuRate: number;
  readonly exported: number;
  /** Exported spans with a link (the process spans, when the messages carry a valid traceparent). */
  readonly linked: number;
  /** Kernel CPU per timed message (µs): mostly socket writes, which on loopback also wake the emulator. */
  readonly kernelMicros: number;
  /** Garbage collection in the timed part. */
  readonly gc: GcTotals;
}

export interface GcTotals {
  /** Scavenges of the young generation. */
  minor: number;
  minorMs: number;
  /** Mark-compact of the whole heap, and its incremental marking steps. */
  major: number;
  majorMs: number;
}
