/** The ledger and telemetry suites' worker: one topic, one subscription, a no-op contract and handler. */
import { pino } from "pino";
import { z } from "zod";
import { defineTopic } from "../../src/topics/dsl.js";
import type { WorkerModules } from "./compiled.js";

export function noopTopology(name: string, concurrency: number) {
  return {
    bench: defineTopic({
      name,
      messages: { Noop: z.object({ n: z.int() }) },
      subscriptions: { work: { lockDurationMs: 60_000, policy: { concurrency } } },
    }),
  } as const;
}

/** What `startWorker` needs to run `noopTopology`'s no-op handler, silent, with no HTTP port. */
export function noopWorkerOptions(
  modules: Pick<WorkerModules, "loadConfig" | "defineHandlers">,
  topology: ReturnType<typeof noopTopology>,
  env: Readonly<Record<string, string>>,
) {
  return {
    config: modules.loadConfig({ SBW_HTTP_PORT: "off", SBW_LOG_LEVEL: "silent", ...env }),
    registry: modules.defineHandlers(topology, { bench: { work: { Noop: () => Promise.resolve() } } }),
    logger: pino({ level: "silent" }),
  };
}
