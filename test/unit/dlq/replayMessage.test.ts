import assert from "node:assert/strict";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import Long from "long";
import { buildReplay, replayMessageId, withBodyType } from "../../../src/cli/dlq/replayMessage.js";

describe("dlq replay MessageId", () => {
  it("differs from the original id", () => {
    assert.notEqual(replayMessageId("order-1", "orders/audit", 7n), "order-1");
  });
  it("is the same for the same dead letter (a crashed replay repeated is deduplicated)", () => {
    assert.equal(
      replayMessageId("order-1", "orders/audit", 7n),
      replayMessageId("order-1", "orders/audit", 7n),
    );
    assert.equal(replayMessageId("order-1", "orders/audit", 7n), "order-1~orders/audit~dlq7");
  });
  it("differs per DLQ sequence number and per source entity (subscriptions share sequence numbers)", () => {
    const ids = new Set([
      replayMessageId("order-1", "orders/audit", 7n),
      replayMessageId("order-1", "orders/audit", 8n),
      replayMessageId("order-1", "orders/fulfillment", 7n),
    ]);
    assert.equal(ids.size, 3);
  });
  it("keeps an id of exactly 128 characters readable", () => {
    const suffix = "~orders/audit~dlq7";
    const fits = "x".repeat(128 - suffix.length);
    assert.equal(replayMessageId(fits, "orders/audit", 7n), `${fits}${suffix}`);
    assert.match(replayMessageId(`${fits}x`, "orders/audit", 7n), /^[0-9a-f]{64}$/);
  });
  it("stays within 128 characters by hashing long ids, deterministically", () => {
    const long = "x".repeat(128);
    const id = replayMessageId(long, "orders/audit", 72057594037927936n);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(id, replayMessageId(long, "orders/audit", 72057594037927936n));
    assert.notEqual(id, replayMessageId(long, "orders/audit", 72057594037927937n));
  });
});

describe("dlq replay message", () => {
  const source = { kind: "subscription", topic: "orders", subscription: "audit" } as const;
  const target = { kind: "subscription", topic: "orders", subscription: "audit" } as const;
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  /** The dead letter's own fields, each of which its replay must carry. */
  const headers = {
    contentType: "application/json",
    subject: "OrderPlaced",
    correlationId: "corr-1",
    sessionId: "o-1",
    replyTo: "replies",
    replyToSessionId: "r-1",
    to: "billing",
    partitionKey: "o-1",
    timeToLive: 60_000,
  };
  /** A dead letter as the SDK hands it to the CLI (skipParsingBodyAsJson), as plain data. */
  const deadLetter = (bodyType: "data" | "value" | "sequence", body: unknown) =>
    ({
      body,
      messageId: "order-1",
      sequenceNumber: Long.fromNumber(7),
      ...headers,
      deadLetterReason: "MaxDeliveryCountExceeded",
      applicationProperties: {
        region: "eu",
        traceparent,
        DeadLetterReason: "MaxDeliveryCountExceeded",
        "sbw-attempt": 3,
      },
      _rawAmqpMessage: { bodyType },
    }) as unknown as ServiceBusReceivedMessage;

  const replayProps = {
    region: "eu",
    traceparent,
    "sbw-replay-count": 1,
    "sbw-original-message-id": "order-1",
    "sbw-original-dead-letter-reason": "MaxDeliveryCountExceeded",
    "sbw-replayed-from": "orders/audit",
    "sbw-replay-to": "audit",
  };

  it("sends a data body's bytes with every property the original carried", () => {
    const bytes = Buffer.from('{"orderId":"o-1"}');
    const { messageId, message } = buildReplay(deadLetter("data", bytes), source, target);
    assert.equal(messageId, "order-1~orders/audit~dlq7");
    assert.deepEqual(message, {
      body: bytes,
      messageId,
      applicationProperties: replayProps,
      ...headers,
    });
  });

  it("keeps an AMQP value or sequence body as one, with the same properties in AMQP form", () => {
    for (const [bodyType, body] of [
      ["value", { orderId: "o-1" }],
      ["sequence", [[1, 2]]],
    ] as const) {
      const { messageId, message } = buildReplay(deadLetter(bodyType, body), source, target);
      assert.deepEqual(message, {
        body,
        bodyType,
        properties: {
          messageId,
          contentType: "application/json",
          subject: "OrderPlaced",
          correlationId: "corr-1",
          groupId: "o-1",
          replyTo: "replies",
          replyToGroupId: "r-1",
          to: "billing",
        },
        messageAnnotations: { "x-opt-partition-key": "o-1" },
        applicationProperties: replayProps,
        header: { timeToLive: 60_000 },
      });
    }
  });

  it("leaves a data message as it is, and annotates the others", () => {
    const plain = { body: Buffer.from("x"), messageId: "m" };
    assert.equal(withBodyType(plain, "data"), plain);
    assert.deepEqual(withBodyType(plain, "value"), {
      body: plain.body,
      bodyType: "value",
      properties: { messageId: "m" },
      messageAnnotations: {},
    });
  });
});
