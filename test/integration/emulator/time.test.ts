/**
 * Everything that depends on time (locks, TTL, duplicate detection, scheduling) runs against a
 * ManualClock: the test moves emulator time forward instead of sleeping. The SDK still needs real
 * time to receive, so receives use short waits.
 */
import assert from "node:assert/strict";

import type { ServiceBusClient, ServiceBusReceiverOptions } from "@azure/service-bus";

import { ManualClock } from "../../../src/emulator/index.js";
import {
  assertNothingToReceive,
  bodies,
  configJson,
  EmulatorFixture,
  expectServiceBusError,
  receiveExactly,
  receiveOne,
} from "../../helpers/emulator.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Emulator time and real time drift apart here, so the SDK must not renew locks on its own. */
const NO_AUTO_RENEW: ServiceBusReceiverOptions = { maxAutoLockRenewalDurationInMs: 0 };

describe("emulator: locks, TTL, duplicate detection and scheduling on a manual clock (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;
  let clock: ManualClock;

  before(async () => {
    clock = new ManualClock();
    fx = await EmulatorFixture.start({
      clock,
      config: configJson({
        queues: [
          { Name: "lock", Properties: { LockDuration: "PT30S" } },
          { Name: "lock-renew", Properties: { LockDuration: "PT30S" } },
          { Name: "lock-deferred", Properties: { LockDuration: "PT30S" } },
          { Name: "lock-maxdelivery", Properties: { LockDuration: "PT30S", MaxDeliveryCount: 2 } },
          { Name: "ttl-drop" },
          { Name: "ttl-dlq", Properties: { DeadLetteringOnMessageExpiration: true } },
          { Name: "ttl-default", Properties: { DefaultMessageTimeToLive: "PT10S" } },
          {
            Name: "ttl-default-dlq",
            Properties: { DefaultMessageTimeToLive: "PT10S", DeadLetteringOnMessageExpiration: true },
          },
          {
            Name: "dedup",
            Properties: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: "PT1M" },
          },
          { Name: "nodedup" },
          { Name: "sched" },
          { Name: "sched-cancel" },
          { Name: "sched-property" },
        ],
        topics: [
          {
            Name: "ttl-topic",
            Subscriptions: [
              { Name: "expire-dlq", Properties: { DeadLetteringOnMessageExpiration: true } },
              { Name: "expire-drop" },
            ],
          },
          {
            Name: "dedup-topic",
            Properties: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: "PT1M" },
            Subscriptions: [{ Name: "s" }],
          },
          { Name: "sched-topic", Subscriptions: [{ Name: "a" }, { Name: "b" }] },
        ],
      }),
    });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  describe("message locks", () => {
    it("redelivers a message whose lock expired with deliveryCount + 1, and the old lock is lost", async () => {
      const sender = client.createSender("lock");
      await sender.sendMessages({ body: "slow", messageId: "lock-1" });
      const receiver = client.createReceiver("lock", NO_AUTO_RENEW);
      const first = await receiveOne(receiver);
      assert.equal(first.deliveryCount, 0);
      assert.equal(first.lockedUntilUtc!.getTime(), clock.now() + 30 * SECOND);

      clock.advance(29 * SECOND);
      assert.equal(fx.entity("lock").locked, 1, "still locked before the lock duration");
      await assertNothingToReceive(receiver);

      clock.advance(2 * SECOND);
      assert.equal(fx.entity("lock").locked, 0);
      const second = await receiveOne(receiver);
      assert.equal(second.messageId, "lock-1");
      assert.equal(second.deliveryCount, 1);
      assert.notEqual(second.lockToken, first.lockToken);

      await expectServiceBusError(receiver.completeMessage(first), "MessageLockLost");
      await receiver.completeMessage(second);
      assert.equal(fx.entity("lock").active + fx.entity("lock").locked, 0);
      await sender.close();
    });

    it("renewMessageLock extends lockedUntilUtc so the message is not redelivered", async () => {
      const sender = client.createSender("lock-renew");
      await sender.sendMessages({ body: "renew me" });
      const receiver = client.createReceiver("lock-renew", NO_AUTO_RENEW);
      const m = await receiveOne(receiver);
      const firstUntil = m.lockedUntilUtc!.getTime();

      clock.advance(20 * SECOND);
      const renewed = await receiver.renewMessageLock(m);
      assert.equal(renewed.getTime(), clock.now() + 30 * SECOND);
      assert.ok(renewed.getTime() > firstUntil);

      clock.advance(20 * SECOND); // past the original lock, inside the renewed one
      assert.equal(fx.entity("lock-renew").locked, 1);
      await assertNothingToReceive(receiver);
      await receiver.completeMessage(m);
      assert.equal(fx.entity("lock-renew").locked + fx.entity("lock-renew").active, 0);

      // Renewing a lock that has expired fails with MessageLockLost.
      await sender.sendMessages({ body: "too late" });
      const late = await receiveOne(receiver);
      clock.advance(31 * SECOND);
      await expectServiceBusError(receiver.renewMessageLock(late), "MessageLockLost");
      await receiver.completeMessage(await receiveOne(receiver));
      await sender.close();
    });

    it("renews and expires the lock of a deferred message received by sequence number", async () => {
      const sender = client.createSender("lock-deferred");
      await sender.sendMessages({ body: "deferred-lock" });
      const receiver = client.createReceiver("lock-deferred", NO_AUTO_RENEW);
      const m = await receiveOne(receiver);
      await receiver.deferMessage(m);
      const [d] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
      assert.equal(d!.lockedUntilUtc!.getTime(), clock.now() + 30 * SECOND);
      clock.advance(10 * SECOND);
      const renewed = await receiver.renewMessageLock(d!);
      assert.equal(renewed.getTime(), clock.now() + 30 * SECOND);
      clock.advance(31 * SECOND);
      // The lock ended: the message is deferred again (not active) and the old lock is gone.
      assert.equal(fx.entity("lock-deferred").deferred, 1);
      assert.equal(fx.entity("lock-deferred").active, 0);
      await expectServiceBusError(receiver.completeMessage(d!), "MessageLockLost");
      const [again] = await receiver.receiveDeferredMessages(m.sequenceNumber!);
      assert.equal(again!.body, "deferred-lock");
      await receiver.completeMessage(again!);
      await sender.close();
    });

    it("dead-letters with MaxDeliveryCountExceeded when locks keep expiring", async () => {
      const sender = client.createSender("lock-maxdelivery");
      await sender.sendMessages({ body: "crashy" });
      const receiver = client.createReceiver("lock-maxdelivery", NO_AUTO_RENEW);
      await receiveOne(receiver);
      clock.advance(31 * SECOND);
      const again = await receiveOne(receiver);
      assert.equal(again.deliveryCount, 1);
      clock.advance(31 * SECOND);
      assert.equal(fx.entity("lock-maxdelivery").deadLettered, 1);
      assert.equal(fx.entity("lock-maxdelivery").active, 0);
      const dlq = client.createReceiver("lock-maxdelivery", { subQueueType: "deadLetter", ...NO_AUTO_RENEW });
      const dead = await receiveOne(dlq);
      assert.equal(dead.body, "crashy");
      assert.equal(dead.deadLetterReason, "MaxDeliveryCountExceeded");
      assert.equal(dead.deliveryCount, 2);
      await dlq.completeMessage(dead);
      await sender.close();
    });
  });

  describe("time to live", () => {
    it("drops an expired message when dead-lettering on expiration is off", async () => {
      const sender = client.createSender("ttl-drop");
      await sender.sendMessages([
        { body: "short", timeToLive: 10 * SECOND },
        { body: "long", timeToLive: 60 * SECOND },
      ]);
      clock.advance(11 * SECOND);
      const counts = fx.entity("ttl-drop");
      assert.equal(counts.active, 1);
      assert.equal(counts.deadLettered, 0);
      const receiver = client.createReceiver("ttl-drop", NO_AUTO_RENEW);
      const [m] = await receiveExactly(receiver, 1);
      assert.equal(m!.body, "long");
      assert.equal(m!.timeToLive, 60 * SECOND);
      await receiver.completeMessage(m!);
      const peek = await client.createReceiver("ttl-drop").peekMessages(10);
      assert.deepEqual(peek, []);
      await sender.close();
    });

    it("dead-letters an expired message with TTLExpiredException when configured", async () => {
      const sender = client.createSender("ttl-dlq");
      await sender.sendMessages({ body: "stale", messageId: "ttl-1", timeToLive: 5 * SECOND });
      clock.advance(4 * SECOND);
      assert.equal(fx.entity("ttl-dlq").active, 1);
      clock.advance(2 * SECOND);
      assert.equal(fx.entity("ttl-dlq").active, 0);
      assert.equal(fx.entity("ttl-dlq").deadLettered, 1);
      const receiver = client.createReceiver("ttl-dlq", NO_AUTO_RENEW);
      await assertNothingToReceive(receiver);
      const dlq = client.createReceiver("ttl-dlq", { subQueueType: "deadLetter", ...NO_AUTO_RENEW });
      const dead = await receiveOne(dlq);
      assert.equal(dead.messageId, "ttl-1");
      assert.equal(dead.body, "stale");
      assert.equal(dead.deadLetterReason, "TTLExpiredException");
      // TTL does not apply in the DLQ (advance past the TTL but within the 60 s lock).
      clock.advance(30 * SECOND);
      await dlq.abandonMessage(dead);
      assert.equal(fx.entity("ttl-dlq").deadLettered, 1);
      await dlq.completeMessage(await receiveOne(dlq));
      await sender.close();
    });

    it("expires messages after the entity's DefaultMessageTimeToLive, capping a longer message TTL", async () => {
      const sender = client.createSender("ttl-default");
      await sender.sendMessages([
        { body: "no-ttl" },
        { body: "longer-ttl", timeToLive: 60 * SECOND },
        { body: "shorter-ttl", timeToLive: 3 * SECOND },
      ]);
      clock.advance(4 * SECOND);
      assert.equal(fx.entity("ttl-default").active, 2, "the 3 s message expired first");
      clock.advance(7 * SECOND);
      assert.equal(fx.entity("ttl-default").active, 0, "the entity default caps both others at 10 s");
      assert.equal(fx.entity("ttl-default").deadLettered, 0);
      await sender.close();
    });

    it("dead-letters messages expired by the entity default TTL when configured", async () => {
      const sender = client.createSender("ttl-default-dlq");
      await sender.sendMessages({ body: "default-expired" });
      clock.advance(11 * SECOND);
      const dlq = client.createReceiver("ttl-default-dlq", { subQueueType: "deadLetter", ...NO_AUTO_RENEW });
      const dead = await receiveOne(dlq);
      assert.equal(dead.body, "default-expired");
      assert.equal(dead.deadLetterReason, "TTLExpiredException");
      await dlq.completeMessage(dead);
      await sender.close();
    });

    it("expires subscription copies per subscription settings", async () => {
      const sender = client.createSender("ttl-topic");
      await sender.sendMessages({ body: "fan-ttl", timeToLive: 5 * SECOND });
      clock.advance(6 * SECOND);
      const dlqSub = fx.entity("ttl-topic/Subscriptions/expire-dlq");
      const dropSub = fx.entity("ttl-topic/Subscriptions/expire-drop");
      assert.deepEqual([dlqSub.active, dlqSub.deadLettered], [0, 1]);
      assert.deepEqual([dropSub.active, dropSub.deadLettered], [0, 0]);
      const dlq = client.createReceiver("ttl-topic", "expire-dlq", {
        subQueueType: "deadLetter",
        ...NO_AUTO_RENEW,
      });
      const dead = await receiveOne(dlq);
      assert.equal(dead.deadLetterReason, "TTLExpiredException");
      await dlq.completeMessage(dead);
      await sender.close();
    });
  });

  describe("duplicate detection", () => {
    it("drops a repeated MessageId inside the window and accepts it after the window", async () => {
      const sender = client.createSender("dedup");
      await sender.sendMessages({ body: "first", messageId: "order-1" });
      clock.advance(30 * SECOND);
      await sender.sendMessages({ body: "duplicate", messageId: "order-1" }); // accepted by the SDK, dropped
      await sender.sendMessages([
        { body: "other", messageId: "order-2" },
        { body: "dup-in-batch", messageId: "order-2" },
      ]);
      assert.equal(fx.entity("dedup").active, 2);

      const receiver = client.createReceiver("dedup", NO_AUTO_RENEW);
      const received = await receiveExactly(receiver, 2);
      assert.deepEqual(bodies(received), ["first", "other"]);
      for (const m of received) await receiver.completeMessage(m);

      // Still a duplicate 59 s after the first send, even though the original was consumed.
      clock.advance(29 * SECOND);
      await sender.sendMessages({ body: "still-duplicate", messageId: "order-1" });
      assert.equal(fx.entity("dedup").active, 0);

      clock.advance(2 * SECOND); // 61 s after the first send of order-1
      await sender.sendMessages({ body: "after-window", messageId: "order-1" });
      const [m] = await receiveExactly(receiver, 1);
      assert.equal(m!.body, "after-window");
      await receiver.completeMessage(m!);
      await sender.close();
    });

    it("keeps repeated MessageIds on an entity without duplicate detection", async () => {
      const sender = client.createSender("nodedup");
      await sender.sendMessages({ body: 1, messageId: "same" });
      await sender.sendMessages({ body: 2, messageId: "same" });
      assert.equal(fx.entity("nodedup").active, 2);
      const receiver = client.createReceiver("nodedup", { receiveMode: "receiveAndDelete" });
      await receiveExactly(receiver, 2);
      await sender.close();
    });

    it("detects duplicates sent to a topic", async () => {
      const sender = client.createSender("dedup-topic");
      await sender.sendMessages({ body: "t1", messageId: "topic-dup" });
      await sender.sendMessages({ body: "t2", messageId: "topic-dup" });
      assert.equal(fx.entity("dedup-topic/Subscriptions/s").active, 1);
      clock.advance(MINUTE + SECOND);
      await sender.sendMessages({ body: "t3", messageId: "topic-dup" });
      const receiver = client.createReceiver("dedup-topic", "s", { receiveMode: "receiveAndDelete" });
      const received = await receiveExactly(receiver, 2);
      assert.deepEqual(
        received.map((m) => m.body as unknown),
        ["t1", "t3"],
      );
      await sender.close();
    });
  });

  describe("scheduled messages", () => {
    it("returns sequence numbers and delivers scheduled messages when the clock reaches their time", async () => {
      const sender = client.createSender("sched");
      const at = new Date(clock.now() + 10 * MINUTE);
      const seqs = await sender.scheduleMessages([{ body: "s1" }, { body: "s2" }], at);
      assert.equal(seqs.length, 2);
      assert.notEqual(seqs[0]!.toString(), seqs[1]!.toString());
      assert.equal(fx.entity("sched").scheduled, 2);
      assert.equal(fx.entity("sched").active, 0);

      const receiver = client.createReceiver("sched", NO_AUTO_RENEW);
      clock.advance(10 * MINUTE - SECOND);
      await assertNothingToReceive(receiver);
      assert.equal(fx.entity("sched").scheduled, 2);

      clock.advance(SECOND);
      const received = await receiveExactly(receiver, 2);
      assert.deepEqual(bodies(received), ["s1", "s2"]);
      const bySeq = received.map((m) => m.sequenceNumber!.toString()).sort();
      assert.deepEqual(bySeq, seqs.map((s) => s.toString()).sort());
      for (const m of received) {
        assert.equal(m.scheduledEnqueueTimeUtc?.getTime(), at.getTime());
        assert.equal(m.state, "active");
        await receiver.completeMessage(m);
      }
      assert.equal(fx.entity("sched").scheduled, 0);
      await sender.close();
    });

    it("cancels scheduled messages so they are never delivered", async () => {
      const sender = client.createSender("sched-cancel");
      const at = new Date(clock.now() + MINUTE);
      const [keep, cancel1, cancel2] = await sender.scheduleMessages(
        [{ body: "keep" }, { body: "cancel-1" }, { body: "cancel-2" }],
        at,
      );
      await sender.cancelScheduledMessages([cancel1!, cancel2!]);
      assert.equal(fx.entity("sched-cancel").scheduled, 1);
      clock.advance(MINUTE);
      const receiver = client.createReceiver("sched-cancel", NO_AUTO_RENEW);
      const [m] = await receiveExactly(receiver, 1);
      assert.equal(m!.body, "keep");
      assert.equal(m!.sequenceNumber!.toString(), keep!.toString());
      await receiver.completeMessage(m!);
      assert.equal(fx.entity("sched-cancel").active + fx.entity("sched-cancel").scheduled, 0);
      await sender.close();
    });

    it("treats sendMessages with scheduledEnqueueTimeUtc as a scheduled message", async () => {
      const sender = client.createSender("sched-property");
      await sender.sendMessages({
        body: "via-send",
        scheduledEnqueueTimeUtc: new Date(clock.now() + MINUTE),
      });
      assert.equal(fx.entity("sched-property").scheduled, 1);
      const [peeked] = await client.createReceiver("sched-property").peekMessages(1);
      assert.equal(peeked!.state, "scheduled");
      clock.advance(MINUTE);
      const receiver = client.createReceiver("sched-property", { receiveMode: "receiveAndDelete" });
      const [m] = await receiveExactly(receiver, 1);
      assert.equal(m!.body, "via-send");
      await sender.close();
    });

    it("schedules on a topic: held at the topic, fanned out when due, cancellable by topic sequence number", async () => {
      const sender = client.createSender("sched-topic");
      const at = new Date(clock.now() + 5 * MINUTE);
      const [deliver, cancel] = await sender.scheduleMessages(
        [{ body: "to-all" }, { body: "cancelled" }],
        at,
      );
      const topic = fx.emulator.snapshot().topics.find((t) => t.name === "sched-topic");
      assert.equal(topic?.scheduled, 2);
      await sender.cancelScheduledMessages(cancel!);
      assert.equal(fx.emulator.snapshot().topics.find((t) => t.name === "sched-topic")?.scheduled, 1);
      assert.ok(deliver);

      clock.advance(5 * MINUTE);
      for (const sub of ["a", "b"]) {
        const receiver = client.createReceiver("sched-topic", sub, { receiveMode: "receiveAndDelete" });
        const [m] = await receiveExactly(receiver, 1);
        assert.equal(m!.body, "to-all", `subscription ${sub}`);
        assert.equal(fx.entity(`sched-topic/Subscriptions/${sub}`).active, 0);
      }
      await sender.close();
    });
  });
});
