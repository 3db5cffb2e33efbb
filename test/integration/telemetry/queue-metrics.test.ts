/**
 * `SBW_QUEUE_METRICS=true` through the container's command (`node bin/sbworker.js run`, a child
 * process) against the emulator: the worker builds an administration client from its connection
 * string, polls each of its subscriptions, and `/metrics` shows the depth gauges. A malformed
 * message is dead-lettered by the worker; the next poll counts it in the dead-letter gauge.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import type { Emulator } from "../../../src/emulator/index.js";
import { topology } from "../../../src/topics/index.js";
import { eventually, startTestEmulator, testClient } from "../worker/helpers.js";
import { isMsg, WorkerProcess } from "../worker/process.js";
import { sampleOrUndefined } from "./helpers.js";

describe("telemetry: queue depth from the administration API (SBW_QUEUE_METRICS)", function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let worker: WorkerProcess | undefined;

  before(async () => {
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
  });

  after(async () => {
    await worker?.stop();
    await client.close();
    await emulator.close();
  });

  it("polls the worker's subscriptions into /metrics, dead-letter count included", async () => {
    worker = new WorkerProcess({
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
      SBW_SUBSCRIPTIONS: "reports/generate",
      SBW_HTTP_PORT: "0",
      SBW_HTTP_HOST: "127.0.0.1",
      SBW_LOG_LEVEL: "info",
      SBW_QUEUE_METRICS: "true",
      SBW_QUEUE_METRICS_INTERVAL_MS: "100",
      // The reference domain's hourly report would be a scheduled message within two minutes of the hour.
      SBW_SCHEDULES: "off",
    });
    const listening = await worker.waitFor(isMsg("health server listening"));
    const scrape = async (): Promise<string> =>
      (await fetch(`http://127.0.0.1:${String(listening.port)}/metrics`)).text();
    const generate = { subscription: "reports/generate" };

    // Polled before any message: every gauge present, at zero.
    await eventually(
      async () => sampleOrUndefined(await scrape(), "sbworker_queue_active_messages", generate) === 0,
    );
    const empty = await scrape();
    assert.equal(sampleOrUndefined(empty, "sbworker_queue_dead_letter_messages", generate), 0);
    assert.equal(sampleOrUndefined(empty, "sbworker_queue_scheduled_messages", generate), 0);

    const sender = client.createSender("reports");
    await sender.sendMessages({ subject: "ReportRequested", body: Buffer.from("{not json") });
    await sender.close();
    const dead = await worker.waitFor(isMsg("dead-lettered"));
    assert.equal(dead.reason, "SchemaValidationFailed");
    await eventually(
      async () => sampleOrUndefined(await scrape(), "sbworker_queue_dead_letter_messages", generate) === 1,
    );
    assert.equal(sampleOrUndefined(await scrape(), "sbworker_queue_active_messages", generate), 0);
    assert.equal(worker.count(isMsg("queue metrics poll failed")), 0);
  });
});
