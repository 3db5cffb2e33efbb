/**
 * The publisher's client against the emulator. Who closes the ServiceBusClient behind a publisher:
 * the one it opened from a connection is its own to close; one passed in is the caller's (an
 * application shares it between publisher and receivers), counted as AMQP connections at the
 * emulator. And a broker that goes away (through a proxy the test takes down): a publish fails
 * with a typed, transient error after its bounded attempts, and publishing works again once the
 * broker is back, with nothing sent twice.
 */
import assert from "node:assert/strict";
import { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import { createPublisher, isPublishError } from "../../../src/publisher/index.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { startTcpProxy, viaPort } from "../../helpers/tcpProxy.js";
import { entity, eventually, fastClientOptions, startTestEmulator, uniqueName } from "./helpers.js";

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

  it("fails a publish while the broker is unreachable as Transient, and publishes again once it is back", async () => {
    const proxy = await startTcpProxy(emulator.port);
    const publisher = createPublisher({
      connection: viaPort(emulator.connectionString, proxy.port),
      clientOptions: fastClientOptions,
      topology,
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    try {
      await publisher.publish("jobs", "Job", { id: "before" }, { idempotencyKey: "before" });
      await proxy.down();
      const failed = await publisher
        .publish("jobs", "Job", { id: "during" }, { idempotencyKey: "during" })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(isPublishError(failed), String(failed));
      assert.equal(failed.code, "Transient");
      assert.equal(failed.attempts, 2);
      assert.match(failed.message, /ECONNREFUSED/, "the message says why, from the last attempt");

      await proxy.up();
      // The caller retries with the same key: one message, whatever reached the broker before.
      await publisher.publish("jobs", "Job", { id: "during" }, { idempotencyKey: "during" });
      await eventually(() => entity(emulator, topology.jobs.name, "work").active === 2);
    } finally {
      await publisher.close();
      await proxy.close();
    }
  });

  it("closes within its close timeout when a network partition holds the connection, and sends what it had", async () => {
    const proxy = await startTcpProxy(emulator.port);
    const publisher = createPublisher({
      connection: viaPort(emulator.connectionString, proxy.port),
      topology,
      closeTimeoutMs: 300,
    });
    try {
      await publisher.publish("jobs", "Job", { id: "sent" });
      proxy.stall(); // packets dropped, no reset: each SDK close would wait its 60 s timeout
      await publisher.close();
      // What was sent before is there; nothing new can be published after close.
      const late = await publisher.publish("jobs", "Job", { id: "late" }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(isPublishError(late) && late.code === "Closed", String(late));
      assert.equal(entity(emulator, topology.jobs.name, "work").active, 1);
    } finally {
      proxy.resume();
      await proxy.close();
    }
  });
});
