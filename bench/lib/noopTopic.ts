/** The topology of the ledger and telemetry suites: one topic, one subscription, a no-op contract. */
import { z } from "zod";
import { defineTopic } from "../../src/topics/dsl.js";

export function noopTopology(name: string, concurrency: number) {
  return {
    bench: defineTopic({
      name,
      messages: { Noop: z.object({ n: z.int() }) },
      subscriptions: { work: { lockDurationMs: 60_000, policy: { concurrency } } },
    }),
  } as const;
}
