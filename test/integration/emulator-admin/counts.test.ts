import assert from "node:assert/strict";

import type { ServiceBusAdministrationClient } from "@azure/service-bus";

import { configJson, EmulatorFixture, receiveExactly, receiveOne } from "../../helpers/emulator.js";
import { plainAdminClient } from "../../helpers/admin.js";

const HOUR = 3_600_000;

/**
 * KEDA's azure-servicebus scaler: the metric is the entity's ActiveMessageCount from the
 * administration API; the HPA asks for ceil(metric / messageCount) replicas, clamped to
 * [minReplicaCount, maxReplicaCount]; at or below activationMessageCount KEDA scales to min.
 */
function kedaReplicas(
  active: number,
  o: {
    messageCount: number;
    minReplicaCount: number;
    maxReplicaCount: number;
    activationMessageCount?: number;
  },
): number {
  if (active <= (o.activationMessageCount ?? 0)) return o.minReplicaCount;
  const wanted = Math.ceil(active / o.messageCount);
  return Math.min(o.maxReplicaCount, Math.max(o.minReplicaCount, 1, wanted));
}

describe("emulator admin API: runtime counts (official SDK)", () => {
  let fx: EmulatorFixture;
  let admin: ServiceBusAdministrationClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        queues: [{ Name: "work", Properties: { LockDuration: "PT5M", MaxDeliveryCount: 10 } }],
        topics: [{ Name: "fan", Subscriptions: [{ Name: "a" }, { Name: "b" }] }],
      }),
    });
    admin = plainAdminClient(fx.emulator);
  });

  after(async () => {
    await fx.close();
  });

  /** Admin counts agree with snapshot(): active = active + locked + deferred (Service Bus semantics). */
  async function assertMatchesSnapshot(): Promise<void> {
    for (const e of fx.emulator.snapshot().entities) {
      const [topic, , sub] = e.name.split("/");
      const r =
        e.kind === "queue"
          ? await admin.getQueueRuntimeProperties(e.name)
          : await admin.getSubscriptionRuntimeProperties(topic!, sub!);
      assert.equal(r.activeMessageCount, e.active + e.locked + e.deferred, `${e.name} active`);
      assert.equal(r.deadLetterMessageCount, e.deadLettered, `${e.name} dead-letter`);
      if (e.kind === "queue") {
        assert.equal(
          (r as { scheduledMessageCount: number }).scheduledMessageCount,
          e.scheduled,
          `${e.name} scheduled`,
        );
      }
    }
  }

  it("counts sends, locks, deferrals, schedules, dead-letters and completions exactly", async () => {
    const client = fx.client();
    const sender = client.createSender("work");
    await sender.sendMessages(Array.from({ length: 10 }, (_, i) => ({ body: `m${i}` })));
    const later = new Date(Date.now() + HOUR);
    const scheduled = await sender.scheduleMessages([{ body: "s1" }, { body: "s2" }], later);

    let r = await admin.getQueueRuntimeProperties("work");
    assert.deepEqual(
      [r.activeMessageCount, r.scheduledMessageCount, r.deadLetterMessageCount, r.totalMessageCount],
      [10, 2, 0, 12],
    );
    assert.ok((r.sizeInBytes ?? 0) > 0);

    const receiver = client.createReceiver("work");
    const [toDefer, toDeadLetter, toComplete] = await receiveExactly(receiver, 3);
    r = await admin.getQueueRuntimeProperties("work");
    assert.equal(r.activeMessageCount, 10, "locked messages still count as active");
    assert.equal(fx.entity("work").locked, 3);

    await receiver.deferMessage(toDefer!);
    await receiver.deadLetterMessage(toDeadLetter!, {
      deadLetterReason: "bad",
      deadLetterErrorDescription: "test",
    });
    await receiver.completeMessage(toComplete!);
    await sender.cancelScheduledMessages(scheduled[0]!);
    r = await admin.getQueueRuntimeProperties("work");
    assert.deepEqual(
      {
        active: r.activeMessageCount,
        scheduled: r.scheduledMessageCount,
        deadLetter: r.deadLetterMessageCount,
        total: r.totalMessageCount,
        transfer: r.transferMessageCount,
        transferDeadLetter: r.transferDeadLetterMessageCount,
      },
      { active: 8, scheduled: 1, deadLetter: 1, total: 10, transfer: 0, transferDeadLetter: 0 },
    );
    const snap = fx.entity("work");
    assert.deepEqual(
      [snap.active, snap.locked, snap.deferred, snap.deadLettered, snap.scheduled],
      [7, 0, 1, 1, 1],
    );
    assert.ok(r.accessedAt.getTime() >= r.createdAt.getTime());
    await assertMatchesSnapshot();

    const [deferred] = await receiver.receiveDeferredMessages(toDefer!.sequenceNumber!);
    await receiver.completeMessage(deferred!);
    const dlq = client.createReceiver("work", { subQueueType: "deadLetter" });
    await dlq.completeMessage(await receiveOne(dlq));
    r = await admin.getQueueRuntimeProperties("work");
    assert.deepEqual([r.activeMessageCount, r.deadLetterMessageCount, r.totalMessageCount], [7, 0, 8]);
    await assertMatchesSnapshot();
  });

  it("counts subscriptions and topic-level scheduled messages", async () => {
    const client = fx.client();
    const sender = client.createSender("fan");
    await sender.sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }, { body: 4 }]);
    await sender.scheduleMessages({ body: "later" }, new Date(Date.now() + HOUR));
    const a = client.createReceiver("fan", "a");
    const [first] = await receiveExactly(a, 1);
    await a.deadLetterMessage(first!);

    const subA = await admin.getSubscriptionRuntimeProperties("fan", "a");
    const subB = await admin.getSubscriptionRuntimeProperties("fan", "b");
    assert.deepEqual(
      [subA.activeMessageCount, subA.deadLetterMessageCount, subA.totalMessageCount],
      [3, 1, 4],
    );
    assert.deepEqual(
      [subB.activeMessageCount, subB.deadLetterMessageCount, subB.totalMessageCount],
      [4, 0, 4],
    );
    const topic = await admin.getTopicRuntimeProperties("fan");
    assert.equal(topic.scheduledMessageCount, 1);
    assert.equal(topic.subscriptionCount, 2);

    const all = [];
    for await (const s of admin.listSubscriptionsRuntimeProperties("fan"))
      all.push([s.subscriptionName, s.activeMessageCount]);
    assert.deepEqual(all, [
      ["a", 3],
      ["b", 4],
    ]);
    await assertMatchesSnapshot();
  });

  it("counts transfer dead-letters when forwarding exceeds the hop limit", async () => {
    await admin.createQueue("ping");
    await admin.createQueue("pong", { forwardTo: "ping" });
    const ping = await admin.getQueue("ping");
    ping.forwardTo = "pong";
    await admin.updateQueue(ping);
    await fx.client().createSender("ping").sendMessages({ body: "loop" });
    const [p1, p2] = await Promise.all([
      admin.getQueueRuntimeProperties("ping"),
      admin.getQueueRuntimeProperties("pong"),
    ]);
    assert.equal(p1.transferDeadLetterMessageCount + p2.transferDeadLetterMessageCount, 1);
    assert.equal(p1.activeMessageCount + p2.activeMessageCount, 0);
    assert.equal((p1.totalMessageCount ?? 0) + (p2.totalMessageCount ?? 0), 1);
  });

  it("feeds KEDA's scaler arithmetic: replicas = ceil(active / messageCount) within min and max", async () => {
    await admin.createQueue("jobs", { lockDuration: "PT5M" });
    const keda = { messageCount: 5, minReplicaCount: 0, maxReplicaCount: 4 };
    const replicas = async (): Promise<number> =>
      kedaReplicas((await admin.getQueueRuntimeProperties("jobs")).activeMessageCount, keda);

    assert.equal(await replicas(), 0, "an empty queue scales to zero");
    const client = fx.client();
    const sender = client.createSender("jobs");
    await sender.sendMessages(Array.from({ length: 12 }, (_, i) => ({ body: i })));
    assert.equal(await replicas(), 3, "ceil(12 / 5)");
    await sender.sendMessages(Array.from({ length: 30 }, (_, i) => ({ body: i })));
    assert.equal(await replicas(), 4, "ceil(42 / 5) = 9, clamped to maxReplicaCount");

    const receiver = client.createReceiver("jobs");
    const locked = await receiveExactly(receiver, 10);
    assert.equal(await replicas(), 4, "in-flight (locked) messages still count, as on Azure");
    for (const m of locked) await receiver.completeMessage(m);
    const drain = client.createReceiver("jobs", { receiveMode: "receiveAndDelete" });
    await receiveExactly(drain, 26);
    assert.equal((await admin.getQueueRuntimeProperties("jobs")).activeMessageCount, 6);
    assert.equal(await replicas(), 2, "ceil(6 / 5)");
    assert.equal(
      kedaReplicas(6, { ...keda, activationMessageCount: 10 }),
      0,
      "below activation: scale to min",
    );
    await receiveExactly(drain, 6);
    assert.equal(await replicas(), 0);
  });
});
