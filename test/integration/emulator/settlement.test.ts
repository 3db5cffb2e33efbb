import assert from "node:assert/strict";

import type { ServiceBusClient } from "@azure/service-bus";

import {
  assertNothingToReceive,
  configJson,
  EmulatorFixture,
  expectServiceBusError,
  receiveExactly,
  receiveOne,
} from "../../helpers/emulator.js";

describe("emulator: settlement, deferral, dead-lettering and delivery count (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        queues: [
          { Name: "complete" },
          { Name: "abandon" },
          { Name: "defer" },
          { Name: "defer-abandon" },
          { Name: "defer-dlq" },
          { Name: "defer-rad" },
          { Name: "missing-seq" },
          { Name: "dlq" },
          { Name: "dlq-twice" },
          { Name: "maxdelivery", Properties: { MaxDeliveryCount: 3 } },
          { Name: "maxdelivery-one", Properties: { MaxDeliveryCount: 1 } },
          { Name: "renew" },
        ],
        topics: [
          {
            Name: "sub-dlq",
            Subscriptions: [{ Name: "s1" }, { Name: "s2", Properties: { MaxDeliveryCount: 2 } }],
          },
        ],
      }),
    });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  it("removes a completed message for good", async () => {
    const sender = client.createSender("complete");
    await sender.sendMessages({ body: "done" });
    const receiver = client.createReceiver("complete");
    const m = await receiveOne(receiver);
    assert.equal(fx.entity("complete").locked, 1);
    await receiver.completeMessage(m);
    const counts = fx.entity("complete");
    assert.equal(counts.active + counts.locked + counts.deadLettered, 0);
    await assertNothingToReceive(receiver);
    await sender.close();
  });

  it("redelivers an abandoned message with deliveryCount + 1 and the modified properties", async () => {
    const sender = client.createSender("abandon");
    await sender.sendMessages({
      body: "retry-me",
      messageId: "ab-1",
      applicationProperties: { keep: "k", n: 1 },
    });
    const receiver = client.createReceiver("abandon");
    const first = await receiveOne(receiver);
    assert.equal(first.deliveryCount, 0);
    await receiver.abandonMessage(first, { reason: "transient", n: 2 });
    const second = await receiveOne(receiver);
    assert.equal(second.messageId, "ab-1");
    assert.equal(second.deliveryCount, 1);
    assert.equal(second.sequenceNumber!.toString(), first.sequenceNumber!.toString());
    assert.deepEqual(second.applicationProperties, { keep: "k", n: 2, reason: "transient" });
    await receiver.abandonMessage(second);
    const third = await receiveOne(receiver);
    assert.equal(third.deliveryCount, 2);
    assert.deepEqual(third.applicationProperties, { keep: "k", n: 2, reason: "transient" });
    await receiver.completeMessage(third);
    await sender.close();
  });

  it("defers a message until it is received by sequence number, then settles it", async () => {
    const sender = client.createSender("defer");
    await sender.sendMessages([{ body: "deferred" }, { body: "normal" }]);
    const receiver = client.createReceiver("defer");
    const [toDefer, normal] = await receiveExactly(receiver, 2);
    await receiver.deferMessage(toDefer!, { deferredBy: "test" });
    await receiver.completeMessage(normal!);
    assert.equal(fx.entity("defer").deferred, 1);
    assert.equal(fx.entity("defer").active, 0);
    await assertNothingToReceive(receiver);

    const [d] = await receiver.receiveDeferredMessages(toDefer!.sequenceNumber!);
    assert.ok(d, "the deferred message is returned");
    assert.equal(d.body, "deferred");
    assert.equal(d.deliveryCount, 1);
    assert.equal(d.state, "deferred");
    assert.equal(d.applicationProperties?.deferredBy, "test");
    assert.ok(d.lockToken, "a deferred message received in peek-lock has a lock token");
    assert.ok(d.lockedUntilUtc instanceof Date);
    await receiver.completeMessage(d);
    const counts = fx.entity("defer");
    assert.equal(counts.deferred + counts.active + counts.locked, 0);
    await sender.close();
  });

  it("keeps an abandoned deferred message deferred and counts the delivery", async () => {
    const sender = client.createSender("defer-abandon");
    await sender.sendMessages({ body: "x" });
    const receiver = client.createReceiver("defer-abandon");
    const m = await receiveOne(receiver);
    await receiver.deferMessage(m);
    const [d1] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(d1!.deliveryCount, 1);
    await receiver.abandonMessage(d1!);
    assert.equal(fx.entity("defer-abandon").deferred, 1, "still deferred after abandon");
    await assertNothingToReceive(receiver);
    const [d2] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(d2!.deliveryCount, 2);
    await receiver.deferMessage(d2!);
    const [d3] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(d3!.deliveryCount, 3);
    await receiver.completeMessage(d3!);
    assert.equal(fx.entity("defer-abandon").deferred, 0);
    await sender.close();
  });

  it("dead-letters a deferred message with its reason and delivery count", async () => {
    const sender = client.createSender("defer-dlq");
    await sender.sendMessages({ body: "poison" });
    const receiver = client.createReceiver("defer-dlq");
    const m = await receiveOne(receiver);
    await receiver.deferMessage(m);
    const [d] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
    await receiver.deadLetterMessage(d!, {
      deadLetterReason: "bad",
      deadLetterErrorDescription: "deferred then bad",
    });
    const dlq = client.createReceiver("defer-dlq", { subQueueType: "deadLetter" });
    const dead = await receiveOne(dlq);
    assert.equal(dead.body, "poison");
    assert.equal(dead.deadLetterReason, "bad");
    assert.equal(dead.deadLetterErrorDescription, "deferred then bad");
    assert.equal(dead.deliveryCount, 1);
    await dlq.completeMessage(dead);
    const counts = fx.entity("defer-dlq");
    assert.equal(counts.deferred + counts.deadLettered, 0);
    await sender.close();
  });

  it("removes a deferred message received in receive-and-delete mode", async () => {
    const sender = client.createSender("defer-rad");
    await sender.sendMessages({ body: "rad" });
    const peekLock = client.createReceiver("defer-rad");
    const m = await receiveOne(peekLock);
    await peekLock.deferMessage(m);
    const rad = client.createReceiver("defer-rad", { receiveMode: "receiveAndDelete" });
    const [d] = await rad.receiveDeferredMessages(m.sequenceNumber!);
    assert.equal(d!.body, "rad");
    assert.equal(fx.entity("defer-rad").deferred, 0);
    await sender.close();
  });

  it("fails receiveDeferredMessages for a sequence number that is not deferred with MessageNotFound", async () => {
    const sender = client.createSender("missing-seq");
    await sender.sendMessages({ body: "active" });
    const receiver = client.createReceiver("missing-seq");
    const [peeked] = await receiver.peekMessages(1);
    // An active (not deferred) message cannot be received by sequence number.
    await expectServiceBusError(receiver.receiveDeferredMessages(peeked!.sequenceNumber!), "MessageNotFound");
    assert.equal(fx.entity("missing-seq").active, 1);
    await sender.close();
  });

  it("dead-letters with reason, description and extra properties, readable from the DLQ", async () => {
    const sender = client.createSender("dlq");
    await sender.sendMessages({
      body: { order: 42 },
      messageId: "dl-1",
      applicationProperties: { origin: "test" },
    });
    const receiver = client.createReceiver("dlq");
    const m = await receiveOne(receiver);
    await receiver.deadLetterMessage(m, {
      deadLetterReason: "ValidationFailed",
      deadLetterErrorDescription: "order 42 is invalid",
      attempt: 3,
    });
    const counts = fx.entity("dlq");
    assert.equal(counts.active + counts.locked, 0);
    assert.equal(counts.deadLettered, 1);
    await assertNothingToReceive(receiver);

    const dlqPeek = await client.createReceiver("dlq", { subQueueType: "deadLetter" }).peekMessages(5);
    assert.equal(dlqPeek.length, 1, "the DLQ is peekable");

    const dlq = client.createReceiver("dlq", { subQueueType: "deadLetter" });
    const dead = await receiveOne(dlq);
    assert.deepEqual(dead.body, { order: 42 });
    assert.equal(dead.messageId, "dl-1");
    assert.equal(dead.sequenceNumber!.toString(), m.sequenceNumber!.toString());
    assert.equal(dead.deadLetterReason, "ValidationFailed");
    assert.equal(dead.deadLetterErrorDescription, "order 42 is invalid");
    assert.equal(dead.applicationProperties?.origin, "test");
    assert.equal(dead.applicationProperties?.attempt, 3);
    assert.equal(dead.deliveryCount, 0);
    await dlq.completeMessage(dead);
    assert.equal(fx.entity("dlq").deadLettered, 0);
    await sender.close();
  });

  it("abandons a DLQ message back into the DLQ, not the queue", async () => {
    const sender = client.createSender("dlq-twice");
    await sender.sendMessages({ body: "stay-dead" });
    const receiver = client.createReceiver("dlq-twice");
    await receiver.deadLetterMessage(await receiveOne(receiver), {
      deadLetterReason: "r",
      deadLetterErrorDescription: "d",
    });
    const dlq = client.createReceiver("dlq-twice", { subQueueType: "deadLetter" });
    const dead = await receiveOne(dlq);
    await dlq.abandonMessage(dead);
    assert.equal(fx.entity("dlq-twice").deadLettered, 1);
    assert.equal(fx.entity("dlq-twice").active, 0);
    const again = await receiveOne(dlq);
    assert.equal(again.body, "stay-dead");
    await dlq.completeMessage(again);
    await sender.close();
  });

  it("counts deliveries 0, 1, 2 and dead-letters after MaxDeliveryCount with MaxDeliveryCountExceeded", async () => {
    const sender = client.createSender("maxdelivery");
    await sender.sendMessages({ body: "poison", messageId: "md-1" });
    const receiver = client.createReceiver("maxdelivery");
    const counts: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const m = await receiveOne(receiver);
      counts.push(m.deliveryCount!);
      await receiver.abandonMessage(m);
    }
    assert.deepEqual(counts, [0, 1, 2]);
    await assertNothingToReceive(receiver);
    assert.equal(fx.entity("maxdelivery").deadLettered, 1);
    const dlq = client.createReceiver("maxdelivery", { subQueueType: "deadLetter" });
    const dead = await receiveOne(dlq);
    assert.equal(dead.messageId, "md-1");
    assert.equal(dead.deadLetterReason, "MaxDeliveryCountExceeded");
    assert.equal(typeof dead.deadLetterErrorDescription, "string");
    assert.equal(dead.deliveryCount, 3);
    await dlq.completeMessage(dead);
    await sender.close();
  });

  it("dead-letters on the first abandon when MaxDeliveryCount is 1", async () => {
    const sender = client.createSender("maxdelivery-one");
    await sender.sendMessages({ body: "once" });
    const receiver = client.createReceiver("maxdelivery-one");
    await receiver.abandonMessage(await receiveOne(receiver));
    assert.equal(fx.entity("maxdelivery-one").deadLettered, 1);
    const dlq = client.createReceiver("maxdelivery-one", { subQueueType: "deadLetter" });
    const dead = await receiveOne(dlq);
    assert.equal(dead.deadLetterReason, "MaxDeliveryCountExceeded");
    assert.equal(dead.deliveryCount, 1);
    await dlq.completeMessage(dead);
    await sender.close();
  });

  it("renews a message lock, returning a later lockedUntilUtc", async () => {
    const sender = client.createSender("renew");
    await sender.sendMessages({ body: "long job" });
    const receiver = client.createReceiver("renew", { maxAutoLockRenewalDurationInMs: 0 });
    const m = await receiveOne(receiver);
    const before = m.lockedUntilUtc!.getTime();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const renewed = await receiver.renewMessageLock(m);
    assert.ok(
      renewed.getTime() > before,
      `renewed ${renewed.toISOString()} after ${new Date(before).toISOString()}`,
    );
    assert.equal(m.lockedUntilUtc!.getTime(), renewed.getTime(), "the SDK updates the message");
    await receiver.completeMessage(m);
    await sender.close();
  });

  describe("subscriptions", () => {
    it("dead-letters from a subscription into that subscription's DLQ only", async () => {
      const sender = client.createSender("sub-dlq");
      await sender.sendMessages({ body: "fan-dead" });
      const s1 = client.createReceiver("sub-dlq", "s1");
      await s1.deadLetterMessage(await receiveOne(s1), {
        deadLetterReason: "sub-reason",
        deadLetterErrorDescription: "sub-desc",
      });
      assert.equal(fx.entity("sub-dlq/Subscriptions/s1").deadLettered, 1);
      assert.equal(fx.entity("sub-dlq/Subscriptions/s2").deadLettered, 0);
      assert.equal(fx.entity("sub-dlq/Subscriptions/s2").active, 1);

      const dlq = client.createReceiver("sub-dlq", "s1", { subQueueType: "deadLetter" });
      const dead = await receiveOne(dlq);
      assert.equal(dead.body, "fan-dead");
      assert.equal(dead.deadLetterReason, "sub-reason");
      assert.equal(dead.deadLetterErrorDescription, "sub-desc");
      await dlq.completeMessage(dead);
      await sender.close();
    });

    it("dead-letters after a subscription's MaxDeliveryCount", async () => {
      const s2 = client.createReceiver("sub-dlq", "s2");
      // The copy from the previous test is still in s2.
      const first = await receiveOne(s2);
      await s2.abandonMessage(first);
      await s2.abandonMessage(await receiveOne(s2));
      assert.equal(fx.entity("sub-dlq/Subscriptions/s2").deadLettered, 1);
      const dlq = client.createReceiver("sub-dlq", "s2", { subQueueType: "deadLetter" });
      const dead = await receiveOne(dlq);
      assert.equal(dead.body, "fan-dead");
      assert.equal(dead.deadLetterReason, "MaxDeliveryCountExceeded");
      assert.equal(dead.deliveryCount, 2);
      await dlq.completeMessage(dead);
    });
  });
});
