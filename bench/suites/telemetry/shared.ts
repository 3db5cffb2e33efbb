/** What the telemetry suite (../telemetry.ts) and its per-run child (./run.child.ts) share. */
import { noopTopology } from "../../lib/noopTopic.js";
import type { WorkerModules } from "../../lib/compiled.js";

export const CONCURRENCY = 16;
/**
 * The two the issue sets targets for (`all`, `ratio10`, against `off`), and three that split their
 * cost into parts: `metrics` (the Prometheus observer alone), `asyncContext` (Node's async hooks
 * enabled, as OpenTelemetry's AsyncLocalStorage context manager enables them, and nothing else),
 * `unsampled` (tracing + metrics with a sampler that records nothing).
 */
export type Mode =
  | "off"
  | "all"
  | "ratio10"
  | "metrics"
  | "asyncContext"
  | "unsampled"
  | "allSyncContext"
  | "ratio10SyncContext";

/** The modes a full run measures. */
export const MODES: readonly Mode[] = ["off", "all", "ratio10", "metrics", "asyncContext", "unsampled"];

/**
 * Also measurable with `--modes=`: all and 10 % sampled with a context manager that keeps the
 * active span for synchronous code only (no AsyncLocalStorage, so no async hooks). Not what
 * sbworker ships: what an opt-in without async context propagation would cost (issue 5).
 */
export const EXTRA_MODES: readonly Mode[] = ["allSyncContext", "ratio10SyncContext"];

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
