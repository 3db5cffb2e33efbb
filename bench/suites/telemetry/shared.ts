/** What the telemetry suite (../telemetry.ts) and its per-run child (./run.child.ts) share. */
import { z } from "zod";
import { defineTopic } from "../../../src/topics/dsl.js";
import type { WorkerModules } from "../../lib/compiled.js";

export const CONCURRENCY = 16;
export type Mode = "off" | "all" | "ratio10";

export function topologyFor(name: string) {
  return {
    bench: defineTopic({
      name,
      messages: { Noop: z.object({ n: z.int() }) },
      subscriptions: { work: { lockDurationMs: 60_000, policy: { concurrency: CONCURRENCY } } },
    }),
  } as const;
}

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
