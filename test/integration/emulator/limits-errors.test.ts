import assert from "node:assert/strict";

import type { ServiceBusClient } from "@azure/service-bus";

import { parseEmulatorConfig, type QueueSpec, type Topology } from "../../../src/emulator/index.js";
import { configJson, EmulatorFixture, expectServiceBusError, receiveOne } from "../../helpers/emulator.js";

const KiB = 1024;
const MiB = 1024 * KiB;

describe("emulator: message size limits and error codes (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;

  const config = configJson({
    queues: [{ Name: "big" }, { Name: "small" }, { Name: "ok" }],
    topics: [{ Name: "t", Subscriptions: [{ Name: "s" }] }],
  });

  before(async () => {
    // The size limit is configurable per entity through the topology: "small" allows 64 KiB.
    const parsed = parseEmulatorConfig(config);
    const topology: Topology = {
      ...parsed,
      queues: parsed.queues.map((q): QueueSpec =>
        q.name === "small" ? { ...q, maxMessageSizeBytes: 64 * KiB } : q,
      ),
    };
    fx = await EmulatorFixture.start({ topology });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  describe("message size", () => {
    it("advertises 1 MB as the batch limit by default", async () => {
      const sender = client.createSender("big");
      const batch = await sender.createMessageBatch();
      assert.equal(batch.maxSizeInBytes, MiB);
      await assert.rejects(sender.createMessageBatch({ maxSizeInBytes: 2 * MiB }), /1048576/);
      const smaller = await sender.createMessageBatch({ maxSizeInBytes: 10 * KiB });
      assert.equal(smaller.maxSizeInBytes, 10 * KiB);
      assert.equal(smaller.tryAddMessage({ body: Buffer.alloc(20 * KiB) }), false);
      await sender.close();
    });

    it("accepts a message just under 1 MB and delivers it intact", async () => {
      const sender = client.createSender("big");
      const body = Buffer.alloc(MiB - 4 * KiB, 7);
      await sender.sendMessages({ body, messageId: "near-limit" });
      const receiver = client.createReceiver("big", {
        receiveMode: "receiveAndDelete",
        skipParsingBodyAsJson: true,
      });
      const m = await receiveOne(receiver);
      assert.equal(m.messageId, "near-limit");
      assert.ok(Buffer.isBuffer(m.body));
      assert.equal(m.body.length, body.length);
      assert.ok(m.body.equals(body));
      await sender.close();
    });

    it("refuses a single message over 1 MB with MessageSizeExceeded and stores nothing", async () => {
      const sender = client.createSender("big");
      await expectServiceBusError(
        sender.sendMessages({ body: Buffer.alloc(MiB + KiB) }),
        "MessageSizeExceeded",
      );
      assert.equal(fx.entity("big").active, 0);
      // The sender keeps working after the refusal.
      await sender.sendMessages({ body: "small-after-big" });
      const receiver = client.createReceiver("big", { receiveMode: "receiveAndDelete" });
      assert.equal((await receiveOne(receiver)).body, "small-after-big");
      await sender.close();
    });

    it("refuses an oversized message sent to a topic", async () => {
      const sender = client.createSender("t");
      await expectServiceBusError(
        sender.sendMessages({ body: Buffer.alloc(MiB + KiB) }),
        "MessageSizeExceeded",
      );
      assert.equal(fx.entity("t/Subscriptions/s").active, 0);
      await sender.close();
    });

    it("fails an array that does not fit in one batch with MessageSizeExceeded", async () => {
      const sender = client.createSender("big");
      await expectServiceBusError(
        sender.sendMessages([{ body: Buffer.alloc(600 * KiB) }, { body: Buffer.alloc(600 * KiB) }]),
        "MessageSizeExceeded",
      );
      assert.equal(fx.entity("big").active, 0);
      await sender.close();
    });

    it("applies a configured per-entity limit", async () => {
      const sender = client.createSender("small");
      assert.equal((await sender.createMessageBatch()).maxSizeInBytes, 64 * KiB);
      await expectServiceBusError(
        sender.sendMessages({ body: Buffer.alloc(100 * KiB) }),
        "MessageSizeExceeded",
      );
      await sender.sendMessages({ body: Buffer.alloc(32 * KiB) });
      assert.equal(fx.entity("small").active, 1);
      await sender.close();
    });

    it("uses the official emulator's 256 KB limit in strict mode", async () => {
      const strict = await EmulatorFixture.start({ config, strictOfficial: true });
      try {
        const sender = strict.client().createSender("ok");
        assert.equal((await sender.createMessageBatch()).maxSizeInBytes, 256 * KiB);
        await expectServiceBusError(
          sender.sendMessages({ body: Buffer.alloc(300 * KiB) }),
          "MessageSizeExceeded",
        );
        await sender.sendMessages({ body: Buffer.alloc(200 * KiB) });
        assert.equal(strict.entity("ok").active, 1);
      } finally {
        await strict.close();
      }
    });
  });

  describe("unknown entities", () => {
    it("fails a sender to an unknown queue with MessagingEntityNotFound", async () => {
      const sender = client.createSender("no-such-queue");
      await expectServiceBusError(sender.sendMessages({ body: "x" }), "MessagingEntityNotFound");
      await sender.close();
    });

    it("fails a receiver on an unknown queue with MessagingEntityNotFound", async () => {
      const receiver = client.createReceiver("no-such-queue");
      await expectServiceBusError(
        receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 }),
        "MessagingEntityNotFound",
      );
      await receiver.close();
    });

    it("fails a receiver on an unknown subscription or topic with MessagingEntityNotFound", async () => {
      const missingSub = client.createReceiver("t", "no-such-sub");
      await expectServiceBusError(
        missingSub.receiveMessages(1, { maxWaitTimeInMs: 1000 }),
        "MessagingEntityNotFound",
      );
      const missingTopic = client.createReceiver("no-such-topic", "s");
      await expectServiceBusError(
        missingTopic.receiveMessages(1, { maxWaitTimeInMs: 1000 }),
        "MessagingEntityNotFound",
      );
      await missingSub.close();
      await missingTopic.close();
    });

    it("fails management operations on an unknown entity with MessagingEntityNotFound", async () => {
      const receiver = client.createReceiver("no-such-queue");
      await expectServiceBusError(receiver.peekMessages(1), "MessagingEntityNotFound");
      const sender = client.createSender("no-such-queue");
      await expectServiceBusError(
        sender.scheduleMessages({ body: "x" }, new Date(Date.now() + 60_000)),
        "MessagingEntityNotFound",
      );
      await expectServiceBusError(
        client.createRuleManager("t", "no-such-sub").createRule("r", { sqlExpression: "1=1" }),
        "MessagingEntityNotFound",
      );
      await expectServiceBusError(client.acceptSession("no-such-queue", "s"), "MessagingEntityNotFound");
      await receiver.close();
      await sender.close();
    });

    it("keeps the connection usable after entity errors", async () => {
      const bad = client.createSender("no-such-queue");
      await expectServiceBusError(bad.sendMessages({ body: "x" }), "MessagingEntityNotFound");
      const sender = client.createSender("ok");
      await sender.sendMessages({ body: "still fine" });
      const receiver = client.createReceiver("ok", { receiveMode: "receiveAndDelete" });
      assert.equal((await receiveOne(receiver)).body, "still fine");
      await bad.close();
      await sender.close();
    });
  });
});
