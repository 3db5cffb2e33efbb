import assert from "node:assert/strict";

import type { ServiceBusClient } from "@azure/service-bus";

import { configJson, EmulatorFixture, receiveExactly, receiveOne } from "../../helpers/emulator.js";

describe("emulator: ForwardTo and ForwardDeadLetteredMessagesTo (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        queues: [
          { Name: "fwd-src", Properties: { ForwardTo: "fwd-dst" } },
          { Name: "fwd-dst" },
          { Name: "chain1", Properties: { ForwardTo: "chain2" } },
          { Name: "chain2", Properties: { ForwardTo: "chain3" } },
          { Name: "chain3" },
          { Name: "to-topic", Properties: { ForwardTo: "fanout" } },
          {
            Name: "dlfwd-src",
            Properties: { ForwardDeadLetteredMessagesTo: "dlfwd-dst", MaxDeliveryCount: 2 },
          },
          { Name: "dlfwd-dst" },
          { Name: "sub-fwd-dst" },
          { Name: "sub-dl-dst" },
        ],
        topics: [
          {
            Name: "fwd-topic",
            Subscriptions: [
              { Name: "to-queue", Properties: { ForwardTo: "sub-fwd-dst" } },
              { Name: "stays" },
            ],
          },
          { Name: "fanout", Subscriptions: [{ Name: "x" }, { Name: "y" }] },
          {
            Name: "sub-dl",
            Subscriptions: [{ Name: "s", Properties: { ForwardDeadLetteredMessagesTo: "sub-dl-dst" } }],
          },
        ],
      }),
    });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  it("forwards a message sent to a queue with ForwardTo into the target queue, unchanged", async () => {
    const sender = client.createSender("fwd-src");
    await sender.sendMessages({
      body: { id: 1 },
      messageId: "fw-1",
      subject: "s",
      applicationProperties: { a: "b" },
    });
    const src = fx.entity("fwd-src");
    assert.equal(src.active + src.locked, 0, "nothing stays in the forwarding queue");
    const receiver = client.createReceiver("fwd-dst");
    const m = await receiveOne(receiver);
    assert.deepEqual(m.body, { id: 1 });
    assert.equal(m.messageId, "fw-1");
    assert.equal(m.subject, "s");
    assert.deepEqual(m.applicationProperties, { a: "b" });
    await receiver.completeMessage(m);
    await sender.close();
  });

  it("follows a chain of ForwardTo hops", async () => {
    const sender = client.createSender("chain1");
    await sender.sendMessages({ body: "hop" });
    assert.equal(fx.entity("chain1").active + fx.entity("chain2").active, 0);
    assert.equal(fx.entity("chain3").active, 1);
    const receiver = client.createReceiver("chain3", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(receiver)).body, "hop");
    await sender.close();
  });

  it("forwards from a queue into a topic, which fans out", async () => {
    const sender = client.createSender("to-topic");
    await sender.sendMessages({ body: "to-all" });
    for (const sub of ["x", "y"]) {
      const receiver = client.createReceiver("fanout", sub, { receiveMode: "receiveAndDelete" });
      assert.equal((await receiveOne(receiver)).body, "to-all", `subscription ${sub}`);
    }
    await sender.close();
  });

  it("forwards a subscription's copy while other subscriptions keep theirs", async () => {
    const sender = client.createSender("fwd-topic");
    await sender.sendMessages({ body: "sub-forward" });
    assert.equal(fx.entity("fwd-topic/Subscriptions/to-queue").active, 0);
    assert.equal(fx.entity("fwd-topic/Subscriptions/stays").active, 1);
    const fromQueue = client.createReceiver("sub-fwd-dst", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(fromQueue)).body, "sub-forward");
    const stays = client.createReceiver("fwd-topic", "stays", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(stays)).body, "sub-forward");
    await sender.close();
  });

  it("forwards explicitly dead-lettered messages to ForwardDeadLetteredMessagesTo", async () => {
    const sender = client.createSender("dlfwd-src");
    await sender.sendMessages({ body: "dead-forward", messageId: "dlf-1" });
    const receiver = client.createReceiver("dlfwd-src");
    await receiver.deadLetterMessage(await receiveOne(receiver), {
      deadLetterReason: "manual",
      deadLetterErrorDescription: "forward me",
    });
    assert.equal(fx.entity("dlfwd-src").deadLettered, 0, "the source DLQ stays empty");
    assert.equal(fx.entity("dlfwd-dst").active, 1);
    const dst = client.createReceiver("dlfwd-dst");
    const m = await receiveOne(dst);
    assert.equal(m.messageId, "dlf-1");
    assert.equal(m.body, "dead-forward");
    assert.equal(m.deadLetterReason, "manual");
    assert.equal(m.deadLetterErrorDescription, "forward me");
    assert.equal(m.deadLetterSource?.toLowerCase(), "dlfwd-src");
    await dst.completeMessage(m);
    await sender.close();
  });

  it("forwards MaxDeliveryCountExceeded dead letters to ForwardDeadLetteredMessagesTo", async () => {
    const sender = client.createSender("dlfwd-src");
    await sender.sendMessages({ body: "poison-forward" });
    const receiver = client.createReceiver("dlfwd-src");
    await receiver.abandonMessage(await receiveOne(receiver));
    await receiver.abandonMessage(await receiveOne(receiver));
    assert.equal(fx.entity("dlfwd-src").deadLettered, 0);
    const dst = client.createReceiver("dlfwd-dst");
    const m = await receiveOne(dst);
    assert.equal(m.body, "poison-forward");
    assert.equal(m.deadLetterReason, "MaxDeliveryCountExceeded");
    await dst.completeMessage(m);
    await sender.close();
  });

  it("forwards a subscription's dead letters to its ForwardDeadLetteredMessagesTo queue", async () => {
    const sender = client.createSender("sub-dl");
    await sender.sendMessages([{ body: "sub-dead-1" }, { body: "sub-dead-2" }]);
    const receiver = client.createReceiver("sub-dl", "s");
    for (const m of await receiveExactly(receiver, 2)) {
      await receiver.deadLetterMessage(m, {
        deadLetterReason: "sub",
        deadLetterErrorDescription: "sub-desc",
      });
    }
    assert.equal(fx.entity("sub-dl/Subscriptions/s").deadLettered, 0);
    const dst = client.createReceiver("sub-dl-dst", { receiveMode: "receiveAndDelete" });
    const got = await receiveExactly(dst, 2);
    assert.deepEqual(
      got.map((m) => [m.body as unknown, m.deadLetterReason]),
      [
        ["sub-dead-1", "sub"],
        ["sub-dead-2", "sub"],
      ],
    );
    await sender.close();
  });
});
