/**
 * Service Bus unreachable when a pod starts, just before a tick: the pod starts all the same (its
 * first cycle fails and is logged), and once the namespace is back the next cycle schedules the
 * tick, which runs once. Before, the failed first cycle failed the worker's start: a pod started
 * during an outage crash-looped only in the minutes before a tick.
 *
 * And a partition as a pod starts: its first cycle waits out the SDK's timeouts and retries, and a
 * shutdown requested meanwhile stops start from waiting for it. Before, start (and with it the
 * drain that SIGTERM asked for) waited for the whole cycle: minutes, past the grace period.
 */
import assert from "node:assert/strict";
import { pino } from "pino";
import { defineHandlers } from "../../../src/handlers/registry.js";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import { startTcpProxy, type TcpProxy, viaPort } from "../../helpers/tcpProxy.js";
import { eventually, testConfig } from "../worker/helpers.js";
import { between, World } from "./helpers.js";

const MIN = 60_000;

/** A schedule with a tick each minute, on the world's tick topic. */
function minutely(w: World, catchUp: "latest" | "none") {
  return defineSchedule(w.topology, {
    name: "minutely",
    every: MIN,
    topic: "ticks",
    subject: "Tick",
    payload: (tick) => ({ schedule: "minutely", at: tick.iso, version: "v1" }),
    catchUp,
    overlap: false,
  });
}

describe("schedules: Service Bus unreachable at start", function () {
  this.timeout(60_000);
  let world: World | undefined;
  let proxy: TcpProxy | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    proxy?.resume();
    await worker?.close();
    worker = undefined;
    await world?.close();
    world = undefined;
    await proxy?.close();
  });

  it("starts the pod anyway, and the tick it could not schedule runs once when the namespace is back", async () => {
    const start = Math.ceil(Date.now() / MIN) * MIN + 10_000;
    const w = (world = await World.start({ start, horizonMs: MIN }));
    const everyMinute = minutely(w, "latest");
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

  it("stops waiting for a first cycle held by a partition when shutdown is requested, and closes", async () => {
    const w = (world = await World.start({ start: Date.now(), horizonMs: MIN }));
    const everyMinute = minutely(w, "none");
    const p = (proxy = await startTcpProxy(w.emulator.port));
    p.stall(); // a black hole: connections open, nothing answers
    const lines: { msg: string }[] = [];
    const logger = pino(
      { level: "info" },
      { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) },
    );
    const shutdown = new AbortController();
    const starting = startWorker({
      config: testConfig(w.emulator, {
        SERVICEBUS_CONNECTION_STRING: viaPort(w.emulator.connectionString, p.port),
        SBW_LEDGER: "memory",
        SBW_CLOSE_TIMEOUT_MS: "300",
        SBW_SESSION_ACCEPT_TIMEOUT_MS: "300",
      }),
      registry: defineHandlers(w.topology, { ticks: { run: { Tick: () => Promise.resolve() } } }),
      logger,
      // The SDK's own pace in a partition: each try of the first cycle's send waits 60 s.
      clientOptions: { retryOptions: { timeoutInMs: 60_000, maxRetries: 3, retryDelayInMs: 50 } },
      schedules: [everyMinute],
      scheduling: { now: () => w.clock.now(), autoCycle: false, horizonMs: MIN },
      signal: shutdown.signal,
    });
    // The consumer is up; the scheduler's first cycle is sending into the partition.
    await eventually(() => lines.some((l) => l.msg === "consumer started"));
    shutdown.abort(new Error("received SIGTERM"));
    worker = await starting; // before: waited for the cycle (3 x 60 s and more)

    await worker.close();
    const msgs = lines.map((l) => l.msg);
    assert.ok(
      msgs.includes("shutdown requested during the first schedule cycle; not waiting for it"),
      msgs.join(" | "),
    );
    // Closing aborts the send the cycle still waits for (before: held until the close timeout).
    assert.ok(msgs.includes("schedule cycle stopped: the scheduler is closing"), msgs.join(" | "));
    assert.ok(!msgs.includes("stopping the scheduler timed out; draining anyway"), msgs.join(" | "));
    assert.ok(!msgs.includes("schedule cycle failed; the next cycle retries"), msgs.join(" | "));
    assert.ok(msgs.includes("worker closed"), msgs.join(" | "));
  });
});
