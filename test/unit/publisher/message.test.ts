import assert from "node:assert/strict";
import { z } from "zod";
import {
  deriveMessageId,
  isPublishError,
  prepareMessage,
  PublishError,
} from "../../../src/publisher/index.js";
import { defineTopic } from "../../../src/topics/dsl.js";

const topology = {
  orders: defineTopic({
    name: "orders-entity",
    messages: { OrderPlaced: z.object({ orderId: z.string(), qty: z.int().default(1) }) },
    sessionId: (m) => m.payload.orderId,
    messageId: (m) => `${m.payload.orderId}:${m.subject}`,
    subscriptions: { s: { requiresSession: true } },
  }),
  free: defineTopic({ name: "free", messages: { Ping: z.object({}) }, subscriptions: { s: {} } }),
} as const;

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    return isPublishError(error) ? error.code : "not a PublishError";
  }
  return undefined;
}

describe("publisher: building a message", () => {
  it("validates and encodes the payload (contract defaults applied) with session and business key", () => {
    const p = prepareMessage(topology, "orders", "OrderPlaced", { orderId: "o-1" });
    assert.equal(p.entity, "orders-entity");
    assert.equal(p.messageId, "o-1:OrderPlaced");
    assert.equal(p.sessionId, "o-1");
    assert.deepEqual(JSON.parse((p.message.body as Buffer).toString()), { orderId: "o-1", qty: 1 });
    assert.equal(p.message.contentType, "application/json");
    assert.equal(p.message.subject, "OrderPlaced");
  });

  it("derives the MessageId from the idempotency key, deterministically, and sends the key along", () => {
    const a = prepareMessage(
      topology,
      "orders",
      "OrderPlaced",
      { orderId: "o-1" },
      { idempotencyKey: "req-9" },
    );
    const b = prepareMessage(
      topology,
      "orders",
      "OrderPlaced",
      { orderId: "o-2" },
      { idempotencyKey: "req-9" },
    );
    assert.equal(a.messageId, "OrderPlaced:req-9");
    assert.equal(b.messageId, a.messageId);
    assert.equal(a.message.applicationProperties?.["idempotency-key"], "req-9");
    const long = deriveMessageId("OrderPlaced", "k".repeat(200));
    assert.match(long, /^[0-9a-f]{64}$/);
    assert.equal(long, deriveMessageId("OrderPlaced", "k".repeat(200)));
  });

  it("keeps a derived MessageId readable up to the broker's 128 characters, and hashes beyond", () => {
    const prefix = "OrderPlaced:";
    const fits = "k".repeat(128 - prefix.length);
    assert.equal(deriveMessageId("OrderPlaced", fits), `${prefix}${fits}`);
    assert.match(deriveMessageId("OrderPlaced", `${fits}k`), /^[0-9a-f]{64}$/);
  });

  it("prefers an explicit MessageId, and falls back to a random one without a key", () => {
    assert.equal(
      prepareMessage(
        topology,
        "orders",
        "OrderPlaced",
        { orderId: "o" },
        { messageId: "x", idempotencyKey: "k" },
      ).messageId,
      "x",
    );
    const r1 = prepareMessage(topology, "free", "Ping", {}).messageId;
    assert.notEqual(r1, prepareMessage(topology, "free", "Ping", {}).messageId);
  });

  it("carries the options: schedule, time to live, correlation id, properties", () => {
    const at = new Date(Date.now() + 60_000);
    const p = prepareMessage(
      topology,
      "free",
      "Ping",
      {},
      {
        scheduledAt: at,
        timeToLive: 5_000,
        correlationId: "c",
        sessionId: "s",
        applicationProperties: { tenant: "t1" },
      },
    );
    assert.equal(p.scheduledAt, at);
    assert.equal(p.message.scheduledEnqueueTimeUtc, at);
    assert.equal(p.message.timeToLive, 5_000);
    assert.equal(p.message.correlationId, "c");
    assert.equal(p.message.sessionId, "s");
    assert.deepEqual(p.message.applicationProperties, { tenant: "t1" });
  });

  it("rejects with a typed code: unknown topic or subject, invalid payload, invalid options", () => {
    assert.equal(
      codeOf(() => prepareMessage(topology, "nope", "X", {})),
      "UnknownTopic",
    );
    assert.equal(
      codeOf(() => prepareMessage(topology, "toString", "X", {})),
      "UnknownTopic",
    );
    assert.equal(
      codeOf(() => prepareMessage(topology, "orders", "Nope", {})),
      "UnknownSubject",
    );
    assert.equal(
      codeOf(() => prepareMessage(topology, "orders", "OrderPlaced", { orderId: 5 })),
      "InvalidPayload",
    );
    assert.equal(
      codeOf(() => prepareMessage(topology, "free", "Ping", {}, { scheduledAt: new Date(NaN) })),
      "InvalidOptions",
    );
    assert.equal(
      codeOf(() => prepareMessage(topology, "free", "Ping", {}, { timeToLive: -1 })),
      "InvalidOptions",
    );
    assert.ok(new PublishError("Closed", "x") instanceof Error);
  });
});
