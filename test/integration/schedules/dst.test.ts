/**
 * A schedule in a time zone with daylight-saving changes fires at the right instants: the
 * emulator's clock is moved across the Europe/Berlin transitions of 2027 (a 6-hour horizon on a
 * topic with a one-day duplicate-detection window keeps the number of steps small).
 */
import assert from "node:assert/strict";
import { defineSchedule, type ScheduleDefinition } from "../../../src/topics/scheduleDsl.js";
import { localTime } from "../../../src/worker/schedules/ticks.js";
import { World, type TickTopology } from "./helpers.js";

const HOUR = 3_600_000;

function berlin(topology: TickTopology, name: string, cron: string): ScheduleDefinition {
  return defineSchedule(topology, {
    name,
    cron,
    timeZone: "Europe/Berlin",
    topic: "ticks",
    subject: "Tick",
    payload: (tick) => ({ schedule: name, at: tick.iso, version: "v1" }),
    catchUp: "none",
    overlap: true,
  });
}

describe("schedules: daylight-saving time", function () {
  this.timeout(90_000);
  let world: World | undefined;
  // Many cycles, many sends: an abort signal the scheduler kept for its whole life collected the
  // SDK's listeners, one per send, and Node warned of a leak (each send now has its own).
  const leaks: Error[] = [];
  const onWarning = (w: Error): void => void (w.name === "MaxListenersExceededWarning" && leaks.push(w));
  beforeEach(() => process.on("warning", onWarning));

  afterEach(async () => {
    process.off("warning", onWarning);
    await world?.close();
    world = undefined;
    assert.deepEqual(
      leaks.splice(0).map((w) => w.message),
      [],
    );
  });

  async function run(from: string, to: string): Promise<World> {
    const start = Date.parse(from);
    const w = (world = await World.start({ start, horizonMs: 6 * HOUR, windowMs: 24 * HOUR }));
    const list = [
      berlin(w.topology, "at-0230", "30 2 * * *"),
      berlin(w.topology, "at-0900", "0 9 * * *"),
      berlin(w.topology, "hourly", "0 * * * *"),
    ];
    await w.startPod("a", list);
    await w.startPod("b", list);
    // Hourly: one per hour of real time; the daily ones once a day.
    const due = (now: number): number => {
      const hours = Math.floor((now - start) / HOUR);
      return hours + w.runs.filter((r) => r.schedule !== "hourly").length;
    };
    await w.runUntil(Date.parse(to), () => due(w.clock.now()));
    return w;
  }

  const at = (w: World, name: string): string[] =>
    w.runs
      .filter((r) => r.schedule === name)
      .map((r) => r.at)
      .sort();

  it("spring forward: 02:30 fires once at 03:30 CEST, 09:00 moves from 08:00Z to 07:00Z", async () => {
    const w = await run("2027-03-27T12:00:00Z", "2027-03-29T12:00:00Z");
    assert.deepEqual(at(w, "at-0230"), ["2027-03-28T01:30:00.000Z", "2027-03-29T00:30:00.000Z"]);
    assert.deepEqual(
      at(w, "at-0230").map((t) => localTime("Europe/Berlin", Date.parse(t))),
      ["2027-03-28 03:30:00 (+02:00)", "2027-03-29 02:30:00 (+02:00)"],
    );
    assert.deepEqual(at(w, "at-0900"), ["2027-03-28T07:00:00.000Z", "2027-03-29T07:00:00.000Z"]);
    assert.equal(at(w, "hourly").length, 48);
    assert.equal(new Set(at(w, "hourly")).size, 48);
  });

  it("fall back: 02:30 fires once (first pass); an hourly job fires in both 02:00 hours", async () => {
    const w = await run("2027-10-30T12:00:00Z", "2027-11-01T12:00:00Z");
    assert.deepEqual(at(w, "at-0230"), ["2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
    assert.deepEqual(at(w, "at-0900"), ["2027-10-31T08:00:00.000Z", "2027-11-01T08:00:00.000Z"]);
    const hourly = at(w, "hourly");
    assert.equal(hourly.length, 48);
    assert.deepEqual(
      hourly
        .map((t) => localTime("Europe/Berlin", Date.parse(t)))
        .filter((l) => l.startsWith("2027-10-31 02")),
      ["2027-10-31 02:00:00 (+02:00)", "2027-10-31 02:00:00 (+01:00)"],
    );
  });
});
