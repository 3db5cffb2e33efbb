/** Changing or removing a schedule stops the ticks that no longer apply, on every worker. */
import assert from "node:assert/strict";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import { createPublisher } from "../../../src/publisher/index.js";
import { tickMessage } from "../../../src/worker/schedules/message.js";
import type { ScheduleObserver } from "../../../src/worker/schedules/state.js";
import { eventually, testClient } from "../worker/helpers.js";
import { between, runCounts, World } from "./helpers.js";

const MIN = 60_000;

describe("schedules: changed and removed schedules", function () {
  this.timeout(90_000);
  let world: World | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("a changed schedule cancels the old ticks; only the new definition runs after the change", async () => {
    const start = Math.ceil(Date.now() / (10 * MIN)) * 10 * MIN + 30_000;
    const w = (world = await World.start({ start, horizonMs: 3 * MIN }));
    const v1 = defineSchedule(w.topology, {
      name: "report",
      every: MIN,
      topic: "ticks",
      subject: "Tick",
      payload: (tick) => ({ schedule: "report", at: tick.iso, version: "v1" }),
      catchUp: "none",
      overlap: true,
    });
    const v2 = defineSchedule(w.topology, {
      name: "report",
      cron: "*/2 * * * *",
      topic: "ticks",
      subject: "Tick",
      payload: (tick) => ({ schedule: "report", at: tick.iso, version: "v2" }),
      catchUp: "none",
      overlap: true,
    });
    const changes: { from: string | null; to: string | null; cancelled: number }[] = [];
    const skipped: string[] = [];
    const observer: ScheduleObserver = {
      changed: (e) => changes.push(e),
      tickSkipped: (e) => skipped.push(`${e.why}@${e.tick}`),
    };
    await w.startPod("old-1", [v1], "redis", observer);
    await w.startPod("old-2", [v1], "redis", observer);
    await w.runUntil(start + 5 * MIN, () => between(start, w.clock.now(), MIN));
    assert.deepEqual(new Set(w.runs.map((r) => r.version)), new Set(["v1"]));

    // A rolling deploy: a pod with the new definition starts while the old pods still run.
    const changedAt = w.clock.now();
    await w.startPod("new-1", [v2], "redis", observer);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.from, v1.fingerprint);
    assert.equal(changes[0]!.to, v2.fingerprint);
    assert.ok(
      changes[0]!.cancelled >= 2,
      `the v1 ticks within the horizon were cancelled (${changes[0]!.cancelled})`,
    );

    const evenMinutes = (until: number): number => between(changedAt, until, 2 * MIN);
    const before = w.runs.length;
    await w.runUntil(changedAt + 10 * MIN, () => before + evenMinutes(w.clock.now()));
    const after = w.runs.slice(before);
    assert.deepEqual(
      after.filter((r) => r.version === "v1").map((r) => r.at),
      [],
      "no v1 tick ran after the change",
    );
    assert.equal(after.length, evenMinutes(changedAt + 10 * MIN));
    assert.ok(after.every((r) => new Date(r.at).getUTCMinutes() % 2 === 0 && r.at.endsWith(":00.000Z")));
    assert.deepEqual(
      [...runCounts(w.runs).values()].filter((n) => n !== 1),
      [],
    );
    assert.deepEqual(skipped, [], "cancelled ticks never reached a handler");
  });

  it("a removed schedule stops: its waiting ticks are cancelled, a stray tick is skipped as stale", async () => {
    const start = Math.ceil(Date.now() / (10 * MIN)) * 10 * MIN + 30_000;
    const w = (world = await World.start({ start, horizonMs: 3 * MIN }));
    const nightly = defineSchedule(w.topology, {
      name: "soon-gone",
      every: MIN,
      topic: "ticks",
      subject: "Tick",
      payload: (tick) => ({ schedule: "soon-gone", at: tick.iso, version: "v1" }),
      catchUp: { all: 5 },
      overlap: true,
    });
    const changes: { to: string | null; cancelled: number }[] = [];
    const skipped: string[] = [];
    const observer: ScheduleObserver = {
      changed: (e) => changes.push(e),
      tickSkipped: (e) => skipped.push(e.why),
    };
    const old = await w.startPod("old", [nightly], "redis", observer);
    await w.runUntil(start + 3 * MIN, () => between(start, w.clock.now(), MIN));
    await w.startPod("new", [], "redis", observer);
    assert.deepEqual(
      changes.map((c) => c.to),
      [null],
    );
    assert.ok(changes[0]!.cancelled >= 2);
    const before = w.runs.length;
    await w.runUntil(start + 10 * MIN, () => before);
    assert.equal(w.runs.length, before, "no tick of the removed schedule ran");

    // A copy that escaped cancellation (sent by hand here) is completed unrun, as stale.
    const client = testClient(w.emulator);
    const publisher = createPublisher({ client, topology: w.topology });
    const sender = client.createSender(w.topology.ticks.name);
    await sender.sendMessages(
      tickMessage(nightly, w.clock.now() + MIN, (...args) => publisher.toMessage(...args)),
    );
    await eventually(() => skipped.length === 1);
    assert.deepEqual(skipped, ["stale"]);
    assert.equal(w.runs.length, before);
    await sender.close();
    await client.close();
    await old.close();
  });
});
