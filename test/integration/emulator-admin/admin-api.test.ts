import assert from "node:assert/strict";

import type { ServiceBusAdministrationClient } from "@azure/service-bus";

/** The fields of @azure/core-rest-pipeline's RestError the tests read. */
interface RestError extends Error {
  readonly code?: string;
  readonly statusCode?: number;
}

import {
  assertNothingToReceive,
  configJson,
  EmulatorFixture,
  receiveExactly,
  receiveOne,
} from "../../helpers/emulator.js";
import { plainAdminClient, plainHttpPolicy } from "../../helpers/admin.js";

async function expectRestError(work: Promise<unknown>, code: string, status: number): Promise<void> {
  let error: unknown;
  try {
    await work;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Error, `expected a RestError ${code}, but the call succeeded`);
  const e = error as RestError;
  assert.equal(e.code, code, e.message);
  assert.equal(e.statusCode, status);
}

describe("emulator admin API: entities at run time (official ServiceBusAdministrationClient)", () => {
  let fx: EmulatorFixture;
  let admin: ServiceBusAdministrationClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        queues: [{ Name: "config-queue", Properties: { LockDuration: "PT30S", MaxDeliveryCount: 3 } }],
        topics: [{ Name: "config-topic", Subscriptions: [{ Name: "all" }] }],
      }),
    });
    admin = plainAdminClient(fx.emulator);
  });

  after(async () => {
    await fx.close();
  });

  it("reports the namespace and answers /health without credentials", async () => {
    const ns = await admin.getNamespaceProperties();
    assert.equal(ns.name, "sbemulatorns");
    assert.equal(ns.messagingSku, "Standard");
    const health = await fetch(`http://127.0.0.1:${fx.emulator.httpPort}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "Healthy" });
    // The AMQP port answers HTTP too, so rewriting only the scheme is enough.
    const viaAmqpPort = await fetch(`http://127.0.0.1:${fx.emulator.port}/health`);
    assert.equal(viaAmqpPort.status, 200);
  });

  it("lists and reads entities from Config.json with their settings", async () => {
    const queues: string[] = [];
    for await (const q of admin.listQueues()) queues.push(q.name);
    assert.deepEqual(queues, ["config-queue"]);
    const q = await admin.getQueue("config-queue");
    assert.equal(q.lockDuration, "PT30S");
    assert.equal(q.maxDeliveryCount, 3);
    assert.equal(q.requiresSession, false);
    const subs: string[] = [];
    for await (const s of admin.listSubscriptions("config-topic")) subs.push(s.subscriptionName);
    assert.deepEqual(subs, ["all"]);
    const rules = [];
    for await (const r of admin.listRules("config-topic", "all")) rules.push(r);
    assert.deepEqual(
      rules.map((r) => [r.name, (r.filter as { sqlExpression?: string }).sqlExpression]),
      [["$Default", "1=1"]],
    );
  });

  it("creates a queue, topic, subscription and rule that the data plane uses at once", async () => {
    const created = await admin.createQueue("orders", { lockDuration: "PT10S", maxDeliveryCount: 2 });
    assert.equal(created.name, "orders");
    assert.equal(created.lockDuration, "PT10S");
    await admin.createTopic("events");
    await admin.createSubscription("events", "red", {
      defaultRuleOptions: { name: "red-only", filter: { sqlExpression: "color = 'red'" } },
    });
    await admin.createSubscription("events", "audit");
    await admin.createRule(
      "events",
      "audit",
      "by-correlation",
      { correlationId: "trace-1" },
      { sqlExpression: "SET audited = true" },
    );
    await admin.deleteRule("events", "audit", "$Default");

    const client = fx.client();
    await client.createSender("orders").sendMessages({ body: "order-1" });
    const orders = client.createReceiver("orders");
    const m = await receiveOne(orders);
    assert.equal(m.body, "order-1");
    await orders.completeMessage(m);

    const events = client.createSender("events");
    await events.sendMessages([
      { body: "red", applicationProperties: { color: "red" } },
      { body: "blue", applicationProperties: { color: "blue" } },
      { body: "traced", correlationId: "trace-1" },
    ]);
    const red = client.createReceiver("events", "red", { receiveMode: "receiveAndDelete" });
    assert.deepEqual(
      (await receiveExactly(red, 1)).map((x) => x.body as unknown),
      ["red"],
    );
    await assertNothingToReceive(red);
    const audit = client.createReceiver("events", "audit", { receiveMode: "receiveAndDelete" });
    const [traced] = await receiveExactly(audit, 1);
    assert.equal(traced!.body, "traced");
    assert.equal(traced!.applicationProperties?.audited, true, "the rule action ran");
    await assertNothingToReceive(audit);
  });

  it("applies a run-time queue's MaxDeliveryCount and LockDuration like a Config.json queue", async () => {
    await admin.createQueue("fragile", { maxDeliveryCount: 2, lockDuration: "PT5S" });
    const client = fx.client();
    await client.createSender("fragile").sendMessages({ body: "poison" });
    const receiver = client.createReceiver("fragile");
    for (let i = 0; i < 2; i += 1) {
      const m = await receiveOne(receiver);
      assert.ok(m.lockedUntilUtc!.getTime() - Date.now() <= 5000);
      await receiver.abandonMessage(m);
    }
    const dlq = client.createReceiver("fragile", {
      subQueueType: "deadLetter",
      receiveMode: "receiveAndDelete",
    });
    const dead = await receiveOne(dlq);
    assert.equal(dead.deadLetterReason, "MaxDeliveryCountExceeded");
    const props = await admin.getQueueRuntimeProperties("fragile");
    assert.equal(props.activeMessageCount, 0);
    assert.equal(props.deadLetterMessageCount, 0);
  });

  it("updates settings in place and refuses to change RequiresSession", async () => {
    const q = await admin.getQueue("orders");
    q.maxDeliveryCount = 7;
    q.lockDuration = "PT45S";
    q.userMetadata = "owned by team A";
    const updated = await admin.updateQueue(q);
    assert.equal(updated.maxDeliveryCount, 7);
    assert.equal(updated.lockDuration, "PT45S");
    assert.equal(updated.userMetadata, "owned by team A");
    const runtime = await admin.getQueueRuntimeProperties("orders");
    assert.ok(runtime.modifiedAt.getTime() >= runtime.createdAt.getTime());

    const again = await admin.getQueue("orders");
    (again as { requiresSession: boolean }).requiresSession = true;
    await expectRestError(admin.updateQueue(again), "ServiceError", 400);

    const sub = await admin.getSubscription("events", "red");
    sub.maxDeliveryCount = 4;
    assert.equal((await admin.updateSubscription(sub)).maxDeliveryCount, 4);
    const rule = await admin.getRule("events", "red", "red-only");
    rule.filter = { sqlExpression: "color = 'green'" };
    await admin.updateRule("events", "red", rule);
    await fx
      .client()
      .createSender("events")
      .sendMessages({ body: "green", applicationProperties: { color: "green" } });
    const red = fx.client().createReceiver("events", "red", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(red)).body, "green");
  });

  it("maps errors to the SDK's RestError codes", async () => {
    await expectRestError(admin.createQueue("orders"), "MessageEntityAlreadyExistsError", 409);
    await expectRestError(admin.createQueue("events"), "MessageEntityAlreadyExistsError", 409);
    await expectRestError(admin.getQueue("nope"), "MessageEntityNotFoundError", 404);
    await expectRestError(admin.getSubscription("events", "nope"), "MessageEntityNotFoundError", 404);
    await expectRestError(admin.deleteRule("events", "red", "nope"), "MessageEntityNotFoundError", 404);
    await expectRestError(admin.createQueue("bad", { lockDuration: "PT10M" }), "ServiceError", 400);
    await expectRestError(
      admin.createRule("events", "red", "broken", { sqlExpression: "color = = 'x'" }),
      "ServiceError",
      400,
    );
    await expectRestError(admin.createQueue("fwd", { forwardTo: "missing" }), "ServiceError", 400);
    assert.equal(await admin.queueExists("nope"), false);
    assert.equal(await admin.topicExists("events"), true);
    assert.equal(await admin.subscriptionExists("events", "red"), true);
    assert.equal(await admin.ruleExists("events", "red", "red-only"), true);
  });

  it("forwards between run-time entities and refuses to delete a forwarding target", async () => {
    await admin.createQueue("sink");
    await admin.createQueue("source", { forwardTo: "sink" });
    assert.match((await admin.getQueue("source")).forwardTo ?? "", /\/sink$/);
    await fx.client().createSender("source").sendMessages({ body: "hop" });
    const sink = fx.client().createReceiver("sink", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(sink)).body, "hop");
    await expectRestError(admin.deleteQueue("sink"), "ServiceError", 400);
  });

  it("pages lists with $skip/$top and deletes entities", async () => {
    for (const n of ["p1", "p2", "p3"]) await admin.createQueue(n);
    const pages: string[][] = [];
    for await (const page of admin.listQueues().byPage({ maxPageSize: 2 }))
      pages.push(page.map((q) => q.name));
    assert.ok(pages.length >= 2, `expected several pages, got ${JSON.stringify(pages)}`);
    assert.ok(pages.every((p) => p.length <= 2));
    assert.ok(pages.flat().includes("p3"));

    await admin.deleteQueue("p1");
    await admin.deleteSubscription("events", "audit");
    await admin.deleteTopic("config-topic");
    assert.equal(await admin.queueExists("p1"), false);
    assert.equal(await admin.subscriptionExists("events", "audit"), false);
    assert.equal(await admin.topicExists("config-topic"), false);
    assert.ok(!fx.emulator.snapshot().entities.some((e) => e.name === "p1"));
    await expectRestError(admin.deleteQueue("p1"), "MessageEntityNotFoundError", 404);
  });

  it("rewrites only the scheme when the admin client targets the AMQP port", async () => {
    const { ServiceBusAdministrationClient } = await import("@azure/service-bus");
    const sameEndpoint = new ServiceBusAdministrationClient(fx.connectionString);
    sameEndpoint.pipeline.addPolicy(plainHttpPolicy(), { phase: "Sign" });
    assert.equal((await sameEndpoint.getQueue("orders")).name, "orders");
  });
});
