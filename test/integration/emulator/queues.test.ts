import assert from "node:assert/strict";

import type { ServiceBusClient } from "@azure/service-bus";

import {
  assertNothingToReceive,
  configJson,
  EmulatorFixture,
  receiveExactly,
  receiveOne,
  waitFor,
} from "../../helpers/emulator.js";

describe("emulator: queues, send and receive (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        queues: [
          { Name: "props" },
          { Name: "batch" },
          { Name: "ids" },
          { Name: "binary" },
          { Name: "rad" },
          { Name: "exclusive" },
          { Name: "peek" },
          { Name: "late" },
          { Name: "Mixed.Case-Queue" },
          { Name: "streamed" },
        ],
      }),
    });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  it("delivers a single message with its body and every system and application property", async () => {
    const sender = client.createSender("props");
    const when = new Date("2030-05-06T07:08:09.010Z");
    await sender.sendMessages({
      body: { hello: "world", n: 1 },
      messageId: "msg-1",
      correlationId: "corr-1",
      contentType: "application/json",
      subject: "greeting",
      to: "someone",
      replyTo: "replies",
      replyToSessionId: "reply-session",
      timeToLive: 3_600_000,
      applicationProperties: { color: "red", quantity: 7, price: 2.5, flag: true, when },
    });
    const receiver = client.createReceiver("props");
    const m = await receiveOne(receiver);
    assert.deepEqual(m.body, { hello: "world", n: 1 });
    assert.equal(m.messageId, "msg-1");
    assert.equal(m.correlationId, "corr-1");
    assert.equal(m.contentType, "application/json");
    assert.equal(m.subject, "greeting");
    assert.equal(m.to, "someone");
    assert.equal(m.replyTo, "replies");
    assert.equal(m.replyToSessionId, "reply-session");
    assert.equal(m.timeToLive, 3_600_000);
    assert.deepEqual(m.applicationProperties, {
      color: "red",
      quantity: 7,
      price: 2.5,
      flag: true,
      when: when.getTime(),
    });
    assert.equal(m.deliveryCount, 0);
    assert.ok(m.sequenceNumber !== undefined && m.sequenceNumber.toNumber() >= 1, "has a sequence number");
    assert.ok(m.enqueuedTimeUtc instanceof Date, "has an enqueued time");
    assert.ok(m.lockedUntilUtc instanceof Date, "peek-lock delivery carries locked-until");
    assert.ok(m.lockToken, "peek-lock delivery carries a lock token");
    assert.equal(m.state, "active");
    await receiver.completeMessage(m);
    await receiver.close();
    await sender.close();
  });

  it("delivers an array and a createMessageBatch batch in order with ascending sequence numbers", async () => {
    const sender = client.createSender("batch");
    await sender.sendMessages([{ body: "a1" }, { body: "a2" }, { body: "a3" }]);
    const batch = await sender.createMessageBatch();
    for (const body of ["b1", "b2"]) assert.ok(batch.tryAddMessage({ body, subject: body }));
    await sender.sendMessages(batch);
    await sender.sendMessages({ body: "c1" });

    const receiver = client.createReceiver("batch");
    const received = await receiveExactly(receiver, 6);
    assert.deepEqual(
      received.map((m) => m.body as unknown),
      ["a1", "a2", "a3", "b1", "b2", "c1"],
    );
    assert.deepEqual(
      received.slice(3, 5).map((m) => m.subject),
      ["b1", "b2"],
      "batched messages keep their own properties",
    );
    const seqs = received.map((m) => m.sequenceNumber!.toNumber());
    for (let i = 1; i < seqs.length; i += 1)
      assert.ok(seqs[i]! > seqs[i - 1]!, `ascending: ${seqs.join(",")}`);
    for (const m of received) await receiver.completeMessage(m);
    assert.equal(fx.entity("batch").active, 0);
    await receiver.close();
    await sender.close();
  });

  it("stamps a distinct MessageId on messages sent without one", async () => {
    const sender = client.createSender("ids");
    await sender.sendMessages([{ body: 1 }, { body: 2 }]);
    const receiver = client.createReceiver("ids");
    const [a, b] = await receiveExactly(receiver, 2);
    assert.equal(typeof a!.messageId, "string");
    assert.ok(String(a!.messageId).length > 0);
    assert.notEqual(a!.messageId, b!.messageId);
    await receiver.completeMessage(a!);
    await receiver.completeMessage(b!);
    await receiver.close();
    await sender.close();
  });

  it("returns a binary body byte for byte", async () => {
    const payload = Buffer.from([0, 1, 2, 250, 255, 0x7b, 0x22]);
    const sender = client.createSender("binary");
    await sender.sendMessages({ body: payload });
    const receiver = client.createReceiver("binary", { skipParsingBodyAsJson: true });
    const m = await receiveOne(receiver);
    assert.ok(Buffer.isBuffer(m.body));
    assert.deepEqual(Buffer.from(m.body), payload);
    await receiver.completeMessage(m);
    await receiver.close();
    await sender.close();
  });

  it("removes messages on delivery in receive-and-delete mode", async () => {
    const sender = client.createSender("rad");
    await sender.sendMessages([{ body: "x" }, { body: "y" }]);
    assert.equal(fx.entity("rad").active, 2);
    const receiver = client.createReceiver("rad", { receiveMode: "receiveAndDelete" });
    const received = await receiveExactly(receiver, 2);
    assert.deepEqual(
      received.map((m) => m.body as unknown),
      ["x", "y"],
    );
    assert.equal(received[0]!.lockToken, undefined);
    const counts = fx.entity("rad");
    assert.equal(counts.active, 0);
    assert.equal(counts.locked, 0);
    const peekReceiver = client.createReceiver("rad");
    assert.deepEqual(await peekReceiver.peekMessages(10), []);
    await peekReceiver.close();
    await receiver.close();
    await sender.close();
  });

  it("locks a peek-locked message so that no other receiver gets it", async () => {
    const sender = client.createSender("exclusive");
    await sender.sendMessages({ body: "only-once" });
    const first = client.createReceiver("exclusive");
    const m = await receiveOne(first);
    assert.equal(fx.entity("exclusive").locked, 1);
    assert.equal(fx.entity("exclusive").active, 0);
    const second = client.createReceiver("exclusive");
    await assertNothingToReceive(second);
    await first.completeMessage(m);
    assert.equal(fx.entity("exclusive").locked, 0);
    await assertNothingToReceive(second);
    await second.close();
    await first.close();
    await sender.close();
  });

  it("delivers a message sent after the receive call started", async () => {
    const receiver = client.createReceiver("late");
    const pending = receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sender = client.createSender("late");
    await sender.sendMessages({ body: "late" });
    const [m] = await pending;
    assert.equal(m?.body, "late");
    await receiver.completeMessage(m);
    await receiver.close();
    await sender.close();
  });

  it("resolves entity names case-insensitively", async () => {
    const sender = client.createSender("mixed.case-queue");
    await sender.sendMessages({ body: "ci" });
    const receiver = client.createReceiver("MIXED.CASE-QUEUE");
    const m = await receiveOne(receiver);
    assert.equal(m.body, "ci");
    await receiver.completeMessage(m);
    await receiver.close();
    await sender.close();
  });

  it("streams messages to a subscribe() handler with concurrent calls and auto-complete", async () => {
    const sender = client.createSender("streamed");
    const count = 30;
    await sender.sendMessages(Array.from({ length: count }, (_, i) => ({ body: i })));
    const receiver = client.createReceiver("streamed");
    const seen: number[] = [];
    const errors: unknown[] = [];
    const subscription = receiver.subscribe(
      {
        processMessage: async (m) => {
          seen.push(m.body as number);
          await Promise.resolve();
        },
        processError: async (args) => {
          errors.push(args.error);
          await Promise.resolve();
        },
      },
      { maxConcurrentCalls: 5, autoCompleteMessages: true },
    );
    await waitFor(() => seen.length >= count && fx.entity("streamed").locked === 0, "all messages handled");
    await subscription.close();
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.deepEqual(errors, []);
    const counts = fx.entity("streamed");
    assert.equal(counts.active + counts.locked, 0, "auto-complete settled every message");
    await receiver.close();
    await sender.close();
  });

  describe("peek", () => {
    it("peeks from a sequence number without locking, including deferred and scheduled messages", async () => {
      const sender = client.createSender("peek");
      await sender.sendMessages([1, 2, 3, 4, 5].map((n) => ({ body: n })));
      const browser = client.createReceiver("peek");
      const all = await browser.peekMessages(10);
      assert.deepEqual(
        all.map((m) => m.body as unknown),
        [1, 2, 3, 4, 5],
      );
      assert.ok(all.every((m) => m.lockToken === undefined && m.state === "active"));
      const counts = fx.entity("peek");
      assert.equal(counts.active, 5, "peek takes no lock");
      assert.equal(counts.locked, 0);

      const fresh = client.createReceiver("peek");
      const fromThird = await fresh.peekMessages(2, { fromSequenceNumber: all[2]!.sequenceNumber! });
      assert.deepEqual(
        fromThird.map((m) => m.body as unknown),
        [3, 4],
      );
      assert.deepEqual(
        fromThird.map((m) => m.sequenceNumber!.toString()),
        [all[2]!.sequenceNumber!.toString(), all[3]!.sequenceNumber!.toString()],
      );
      // The client-side cursor continues after the last peeked message.
      const next = await fresh.peekMessages(10);
      assert.deepEqual(
        next.map((m) => m.body as unknown),
        [5],
      );

      // Deferred and scheduled messages are peekable with their state.
      const receiver = client.createReceiver("peek");
      const received = await receiveExactly(receiver, 5);
      await receiver.deferMessage(received[0]!);
      for (const m of received.slice(1)) await receiver.completeMessage(m);
      const [scheduledSeq] = await sender.scheduleMessages(
        { body: "later" },
        new Date(Date.now() + 3_600_000),
      );
      const states = await client
        .createReceiver("peek")
        .peekMessages(10, { fromSequenceNumber: all[0]!.sequenceNumber! });
      assert.deepEqual(
        states.map((m) => [m.body as unknown, m.state]),
        [
          [1, "deferred"],
          ["later", "scheduled"],
        ],
      );
      assert.equal(states[1]!.sequenceNumber!.toString(), scheduledSeq!.toString());

      await sender.cancelScheduledMessages(scheduledSeq!);
      const [deferred] = await receiver.receiveDeferredMessages(received[0]!.sequenceNumber!);
      await receiver.completeMessage(deferred!);
      assert.deepEqual(
        await client.createReceiver("peek").peekMessages(10, { fromSequenceNumber: all[0]!.sequenceNumber! }),
        [],
      );
      await sender.close();
    });

    it("returns an empty list when peeking an empty queue", async () => {
      const browser = client.createReceiver("ids");
      assert.deepEqual(await browser.peekMessages(5), []);
      await browser.close();
    });
  });
});
