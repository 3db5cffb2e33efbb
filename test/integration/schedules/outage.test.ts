/**
 * Service Bus unreachable when a pod starts, just before a tick: the pod starts all the same (its
 * first cycle fails and is logged), and once the namespace is back the next cycle schedules the
 * tick, which runs once. Before, the failed first cycle failed the worker's start: a pod started
 * during an outage crash-looped only in the minutes before a tick.
 */
import assert from "node:assert/strict";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import { startTcpProxy, type TcpProxy, viaPort } from "../../helpers/tcpProxy.js";
import { between, World } from "./helpers.js";

const MIN = 60_000;

describe("schedules: Service Bus unreachable at start", function () {
  this.timeout(60_000);
  let world: World | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
    await proxy?.close();
  });

  it("starts the pod anyway, and the tick it could not schedule runs once when the namespace is back", async () => {
    const start = Math.ceil(Date.now() / MIN) * MIN + 10_000;
    const w = (world = await World.start({ start, horizonMs: MIN }));
    const everyMinute = defineSchedule(w.topology, {
      name: "minutely",
      every: MIN,
      topic: "ticks",
      subject: "Tick",
      payload: (tick) => ({ schedule: "minutely", at: tick.iso, version: "v1" }),
      catchUp: "latest",
      overlap: false,
    });
    const p = (proxy = await startTcpProxy(w.emulator.port));
    await p.down();
    const via = viaPort(w.emulator.connectionString, p.port);
    // The first cycle must schedule the tick 50 s ahead (within the 1 min horizon), and cannot.
    await w.startPod("a", [everyMinute], "redis", undefined, { SERVICEBUS_CONNECTION_STRING: via });
    assert.equal(
      w.emulator.snapshot().topics.find((t) => t.name === w.topology.ticks.name)?.scheduled ?? 0,
      0,
    );

    await p.up();
    await w.runUntil(start + 3 * MIN, () => between(start, w.clock.now(), MIN));
    const ticks = w.runs.map((r) => r.at);
    assert.deepEqual(ticks, [...new Set(ticks)], "each tick ran once");
    assert.equal(ticks.length, 3, ticks.join(", "));
    assert.equal(ticks[0], new Date(start + 50_000).toISOString(), "the tick due while it was down ran");
  });
});
