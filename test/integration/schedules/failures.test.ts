/** A tick whose handler fails is retried and then dead-lettered like any message. */
import assert from "node:assert/strict";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import { RedisLedgerStore } from "../../../src/worker/ledger/redis.js";
import { readLastOutcome } from "../../../src/worker/schedules/state.js";
import { REDIS_URL } from "../../helpers/redis.js";
import { entity, eventually, testClient } from "../worker/helpers.js";
import { World } from "./helpers.js";

const MIN = 60_000;

describe("schedules: failing ticks", function () {
  this.timeout(60_000);
  let world: World | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("retries a failing tick up to maxAttempts, then dead-letters it with the tick's properties", async () => {
    const start = Math.ceil(Date.now() / MIN) * MIN + 10_000;
    const w = (world = await World.start({ start, horizonMs: MIN }));
    const flaky = defineSchedule(w.topology, {
      name: "flaky",
      every: MIN,
      topic: "ticks",
      subject: "Tick",
      payload: (tick) => ({ schedule: "flaky", at: tick.iso, version: "v1" }),
      catchUp: "none",
      overlap: false,
    });
    w.failing.add("flaky");
    await w.startPod("a", [flaky]);
    await w.startPod("b", [flaky]);
    await w.step();
    await w.step();
    await w.step(); // the first tick (start + 50 s) is now due
    const dlqCount = (): number => entity(w.emulator, w.topology.ticks.name, "run").deadLettered;
    // Retry copies are scheduled a few ms ahead of real time, which the emulator's clock (ahead of
    // real time here) has passed: they are delivered at once, and the third attempt dead-letters.
    await eventually(() => dlqCount() >= 1);

    const client = testClient(w.emulator);
    const dlq = client.createReceiver(w.topology.ticks.name, "run", { subQueueType: "deadLetter" });
    try {
      const [dead]: ServiceBusReceivedMessage[] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
      assert.ok(dead);
      const tickIso = new Date(start + 50_000).toISOString();
      assert.equal(dead.deadLetterReason, "MaxAttemptsExceeded");
      assert.equal(dead.applicationProperties?.["sbw-schedule"], "flaky");
      assert.equal(dead.applicationProperties?.["sbw-tick"], tickIso);
      assert.equal(
        dead.applicationProperties?.["idempotency-key"],
        `sbw-tick:flaky:${tickIso}:${flaky.fingerprint.slice(0, 8)}`,
      );
      assert.equal(dead.applicationProperties?.["sbw-attempt"], 3);
      await dlq.completeMessage(dead);
    } finally {
      await dlq.close();
      await client.close();
    }
    assert.equal(w.runs.length, 0);
    const store = await RedisLedgerStore.connect({ url: REDIS_URL, prefix: w.prefix });
    try {
      const last = await readLastOutcome(store, "flaky");
      assert.equal(last?.outcome, "failed");
      assert.equal(last?.attempt, 3);
      assert.match(last?.error ?? "", /tick flaky fails/);
    } finally {
      await store.close();
    }
  });
});
