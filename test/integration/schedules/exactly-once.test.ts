/**
 * Exactly one execution per tick across workers: three workers with the same schedules, the
 * emulator's clock moved a third of the horizon at a time, every worker cycling its scheduler at
 * each step.
 */
import assert from "node:assert/strict";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import { between, runCounts, World, type Ledger } from "./helpers.js";

const MIN = 60_000;

describe("schedules: one execution per tick across workers", function () {
  this.timeout(120_000);
  let world: World | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  for (const ledger of ["redis", "memory"] as const satisfies readonly Ledger[]) {
    const how =
      ledger === "redis"
        ? "sharing the Redis ledger"
        : "each with its own memory ledger (duplicate detection alone)";
    it(`three workers ${how} run each tick exactly once`, async () => {
      const start = Math.ceil(Date.now() / MIN) * MIN + 5_000;
      const w = (world = await World.start({ start, horizonMs: MIN }));
      const { topology } = w;
      const everyMinute = defineSchedule(topology, {
        name: "every-minute",
        every: MIN,
        topic: "ticks",
        subject: "Tick",
        payload: (tick) => ({ schedule: "every-minute", at: tick.iso, version: "v1" }),
        catchUp: "none",
        overlap: true,
      });
      const halfMinute = defineSchedule(topology, {
        name: "half-minute",
        cron: "*/30 * * * * *",
        topic: "ticks",
        subject: "Tick",
        payload: (tick) => ({ schedule: "half-minute", at: tick.iso, version: "v1" }),
        catchUp: "none",
        overlap: false,
      });
      for (const name of ["a", "b", "c"]) await w.startPod(name, [everyMinute, halfMinute], ledger);
      const minutes = ledger === "redis" ? 15 : 8;
      const end = start + minutes * MIN;
      // Ticks after `start`: one per minute and two per minute.
      const expectedAt = (now: number): number => between(start, now, MIN) + between(start, now, 30_000);
      await w.runUntil(end, () => expectedAt(w.clock.now()));
      const counts = runCounts(w.runs);
      assert.equal(counts.size, expectedAt(end));
      assert.deepEqual(
        [...counts].filter(([, n]) => n !== 1),
        [],
        "every tick ran exactly once",
      );
      const pods = new Set(w.runs.map((r) => r.pod));
      assert.ok(pods.size >= 2, `ticks were spread over the workers (${[...pods].join(",")})`);
    });
  }
});
