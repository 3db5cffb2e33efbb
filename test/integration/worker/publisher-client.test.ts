/**
 * Who closes the ServiceBusClient behind a publisher: the one it opened from a connection is its
 * own to close; one passed in is the caller's (an application shares it between publisher and
 * receivers). Counted as AMQP connections at the emulator.
 */
import assert from "node:assert/strict";
import { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import { createPublisher } from "../../../src/publisher/index.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { eventually, startTestEmulator, uniqueName } from "./helpers.js";

describe("publisher: who closes the client (SDK against the emulator)", function () {
  this.timeout(30_000);
  const topology = {
    jobs: defineTopic({
      name: uniqueName("jobs"),
      messages: { Job: z.object({ id: z.string() }) },
      subscriptions: { work: {} },
    }),
  } as const;
  let emulator: Emulator;
  beforeEach(async () => (emulator = await startTestEmulator(topology)));
  afterEach(() => emulator.close());

  const connections = () => emulator.snapshot().connections;

  it("closes the client it opened from a connection string", async () => {
    const publisher = createPublisher({ connection: emulator.connectionString, topology });
    await publisher.publish("jobs", "Job", { id: "1" });
    assert.equal(connections(), 1);
    await publisher.close();
    await eventually(() => connections() === 0);
  });

  it("leaves a client passed in open, and usable", async () => {
    const client = new ServiceBusClient(emulator.connectionString);
    try {
      const publisher = createPublisher({ client, topology });
      await publisher.publish("jobs", "Job", { id: "2" });
      await publisher.close();
      const sender = client.createSender(topology.jobs.name);
      await sender.sendMessages({ body: { id: "3" }, subject: "Job" });
      await sender.close();
      assert.equal(connections(), 1);
    } finally {
      await client.close();
    }
  });
});
