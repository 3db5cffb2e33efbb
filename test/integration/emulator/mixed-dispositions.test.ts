/**
 * Regression test for rhea 3.0.5's disposition batching (fixed by scripts/patch-rhea.mjs, which
 * `npm ci` runs): a complete and a dead-letter (or abandon) of consecutive deliveries issued in
 * the same event-loop turn went out as one "accepted" range, so the second message was completed.
 */
import assert from "node:assert/strict";

import type { ServiceBusClient } from "@azure/service-bus";

import { rheaSettlementBugPresent } from "../../../src/worker/rheaCheck.js";
import { configJson, EmulatorFixture, receiveExactly, receiveOne } from "../../helpers/emulator.js";

describe("settlements of consecutive deliveries in one tick (official SDK, patched rhea)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({ queues: [{ Name: "complete-then-dlq" }, { Name: "complete-then-abandon" }] }),
    });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  it("runs on a rhea without the batching bug", () => {
    assert.equal(rheaSettlementBugPresent(), false);
  });

  it("dead-letters the second message when the first is completed in the same tick", async () => {
    const sender = client.createSender("complete-then-dlq");
    await sender.sendMessages([{ body: "a" }, { body: "b" }]);
    const receiver = client.createReceiver("complete-then-dlq");
    const [a, b] = await receiveExactly(receiver, 2);
    await Promise.all([
      receiver.completeMessage(a!),
      receiver.deadLetterMessage(b!, { deadLetterReason: "r", deadLetterErrorDescription: "d" }),
    ]);
    const counts = fx.entity("complete-then-dlq");
    assert.equal(counts.deadLettered, 1, "the dead-letter was not turned into a complete");
    assert.equal(counts.active + counts.locked, 0);
    await receiver.close();
    await sender.close();
  });

  it("gives the second message back when the first is completed in the same tick", async () => {
    const sender = client.createSender("complete-then-abandon");
    await sender.sendMessages([{ body: "a" }, { body: "b" }]);
    const receiver = client.createReceiver("complete-then-abandon");
    const [a, b] = await receiveExactly(receiver, 2);
    await Promise.all([receiver.completeMessage(a!), receiver.abandonMessage(b!)]);
    const again = await receiveOne(receiver);
    assert.equal(again.body, "b");
    assert.equal(again.deliveryCount, 1);
    await receiver.completeMessage(again);
    await receiver.close();
    await sender.close();
  });
});
