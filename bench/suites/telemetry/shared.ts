/** What the telemetry suite (../telemetry.ts) and its per-run child (./run.child.ts) share. */
import { noopTopology } from "../../lib/noopTopic.js";
import type { WorkerModules } from "../../lib/compiled.js";

export const CONCURRENCY = 16;
export type Mode = "off" | "all" | "ratio10";

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
}
