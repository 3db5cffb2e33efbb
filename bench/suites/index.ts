/**
 * The benchmark suites, by name. `bench/run.ts` runs all of them in this order by default.
 * Suites load lazily, so running one does not import the others' dependencies. To add a suite
 * (worker, ledger, telemetry, replay, …) write `bench/suites/<name>.ts` with a default export
 * of type `Suite` and add one line here.
 */
import type { Suite } from "../lib/runner.js";

export const suites: Readonly<Record<string, () => Promise<Suite>>> = {
  emulator: async () => (await import("./emulator.js")).default,
  ledger: async () => (await import("./ledger.js")).default,
  worker: async () => (await import("./worker.js")).default,
  replay: async () => (await import("./replay.js")).default,
  telemetry: async () => (await import("./telemetry.js")).default,
};
