/** A worker stopped for a while catches up according to each schedule's `catchUp` policy. */
import assert from "node:assert/strict";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import type { CatchUpPolicy } from "../../../src/topics/scheduleDsl.js";
import { between, World } from "./helpers.js";

const MIN = 60_000;

describe("schedules: catch-up after downtime", function () {
  this.timeout(90_000);
  let world: World | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("runs none, the latest or the last n missed ticks, each once", async () => {
    const start = Math.ceil(Date.now() / (10 * MIN)) * 10 * MIN + MIN;
    const w = (world = await World.start({ start, horizonMs: 3 * MIN }));
    const every10 = (name: string, catchUp: CatchUpPolicy) =>
      defineSchedule(w.topology, {
        name,
        every: 10 * MIN,
        topic: "ticks",
        subject: "Tick",
        payload: (tick) => ({ schedule: name, at: tick.iso, version: "v1" }),
        catchUp,
        overlap: true,
      });
    const list = [every10("none", "none"), every10("latest", "latest"), every10("all3", { all: 3 })];
    const pod = await w.startPod("first", list);
    // Run 20 minutes: ticks at +9 and +19 minutes for each schedule.
    await w.runUntil(start + 20 * MIN, () => 3 * between(start, w.clock.now(), 10 * MIN));
    assert.equal(w.runs.length, 6);
    // The last cycle ran one step (a minute) before the end, scheduling 3 minutes ahead.
    const watermark = w.clock.now() - MIN + 3 * MIN;
    await pod.close();

    // Nothing runs for 75 minutes: ticks up to the watermark were on the bus; the rest are missed.
    w.clock.advance(75 * MIN);
    const now = w.clock.now();
    const missed = (at: number): boolean => at > watermark && at <= now;
    const tickTimes: number[] = [];
    for (let t = start + 9 * MIN; t <= now; t += 10 * MIN) tickTimes.push(t);
    const onBus = tickTimes.filter((t) => t > start + 20 * MIN && t <= watermark).length;
    const missedTimes = tickTimes.filter(missed);
    assert.equal(missedTimes.length, 7);

    const before = w.runs.length;
    await w.startPod("second", list);
    const iso = (t: number): string => new Date(t).toISOString();
    const expected = new Map([
      ["none", []],
      ["latest", missedTimes.slice(-1).map(iso)],
      ["all3", missedTimes.slice(-3).map(iso)],
    ]);
    await w.settled(before + 3 * onBus + 0 + 1 + 3);
    for (const [name, ticks] of expected) {
      const caughtUp = w.runs
        .slice(before)
        .filter((r) => r.schedule === name && missed(Date.parse(r.at)))
        .map((r) => r.at)
        .sort();
      assert.deepEqual(caughtUp, ticks, `catch-up of ${name}`);
    }
    // Running on: the next tick of each schedule runs once, and no catch-up repeats.
    const next = missedTimes.at(-1)! + 10 * MIN;
    await w.runUntil(
      next + MIN,
      () => before + 3 * onBus + 4 + 3 * between(next - MIN, w.clock.now(), 10 * MIN),
    );
    const counts = new Map<string, number>();
    for (const r of w.runs)
      counts.set(`${r.schedule}@${r.at}`, (counts.get(`${r.schedule}@${r.at}`) ?? 0) + 1);
    assert.deepEqual(
      [...counts.values()].filter((n) => n !== 1),
      [],
    );
  });
});
